"""Op graphs of recommendation models: a DLRM ranking batch and a two-tower retrieval batch.

DLRM (``batch`` samples): bottom MLP (ReLU after every layer, as in the DLRM reference),
one embedding bag per table (tables of identical shape grouped with a repeat count;
each sample pools ``pooling`` rows of Zipf-skewed popularity), the interaction (``dot``:
pairwise dot products of the bottom output and the pooled embeddings, concatenated with
the bottom output; ``cat``: plain concatenation, a copy; ``dcn``: a DCNv2 stack of
low-rank cross layers over the concatenation), the top MLP (ReLU except the last) and a
sigmoid.

Two-tower (``batch`` samples = users x candidates): the user tower (feature-table bags and
an MLP) runs once per user; each user is scored against the candidates' precomputed
item embeddings (the item tower runs offline) as one matrix product per batch, which
reads the candidate matrix once, then top-k.

Embedding sharding over ``shards`` chips (`perfmodel.parallel.Layout.shards`): every table
is split row-wise, so a chip holds ceil(rows / shards) rows of each and serves 1/shards
of the lookups (hashed rows spread the hot ones evenly; each shard keeps the table's
Zipf exponent over its own rows). MLPs are replicated and each chip runs
ceil(batch / shards) samples. DLRM: one all-to-all of the pooled embeddings
[samples, tables, dim] (fp32). Two-tower: the user tower runs data parallel; the
user vectors are all-gathered, the candidates split over the shards, each shard scores and
ranks its share, and the shards' top-k lists (12 B per entry: id and score) are
all-gathered.
"""

from __future__ import annotations

import math
from collections import Counter

from perfmodel.ops import (Collective, CrossLayer, DotInteraction, Elementwise, EmbeddingBag,
                           Gemm, Node, TopK)
from workloads.config import RecConfig, Table, TwoTowerConfig, check_batch
from workloads.precision import Precision


POOLED_BYTES = 4  # pooled embeddings are fp32 (see perfmodel.ops)


def dlrm_graph(config: RecConfig, batch: int, p: Precision, shards: int = 1) -> list[Node]:
    """Ops one chip of ``shards`` runs to score ``batch`` samples (user-item pairs)."""
    check_batch(batch)
    c = config
    batch = math.ceil(batch / shards)
    nodes = _mlp(batch, c.dense_features, c.bottom_mlp, p, "bottom", last_relu=True)
    nodes += _bags(c.tables, c.embedding_dim, batch, c.zipf_s, p, shards)
    if shards > 1:
        pooled = float(batch) * c.table_count * c.embedding_dim * POOLED_BYTES
        nodes.append(Node(Collective("all_to_all", pooled, shards), 1, "shard_all_to_all"))
    concat_width = c.features * c.embedding_dim
    if c.interaction == "dot":
        nodes.append(Node(DotInteraction(batch, c.features, c.embedding_dim, p.compute), 1,
                          "interaction"))
    elif c.interaction == "cat":
        nodes.append(Node(Elementwise(batch * concat_width, "copy", p.activation), 1, "concat"))
    else:
        nodes.append(Node(CrossLayer(batch, concat_width, c.cross_rank, p.compute),
                          c.cross_layers, "cross"))
    nodes += _mlp(batch, c.top_input, c.top_mlp, p, "top", last_relu=False)
    nodes.append(Node(Elementwise(batch * c.top_mlp[-1], "sigmoid", p.activation), 1, "sigmoid"))
    return nodes


def two_tower_graph(config: TwoTowerConfig, batch: int, p: Precision,
                    shards: int = 1) -> list[Node]:
    """Ops one chip of ``shards`` runs to score ``batch`` samples: ceil(batch / candidates)
    users, each against up to ``candidates`` items."""
    check_batch(batch)
    c = config
    users = math.ceil(batch / c.candidates)
    scored = math.ceil(math.ceil(batch / users) / shards)
    local_users = math.ceil(users / shards)
    top_k = min(c.top_k, scored)
    user_features = sum(table.count for table in c.user_tables) * c.embedding_dim
    nodes = _bags(c.user_tables, c.embedding_dim, local_users, c.zipf_s, p, shards)
    nodes += _mlp(local_users, user_features, c.tower_mlp, p, "user_tower", last_relu=False)
    nodes += [Node(Gemm(users, scored, c.output_dim, dtype=p.compute, weight_dtype=p.table), 1,
                   "score"),
              Node(TopK(users, scored, top_k), 1, "topk")]
    if shards > 1:
        user_vectors = float(users) * c.output_dim * POOLED_BYTES
        nodes += [Node(Collective("all_gather", user_vectors, shards), 1, "shard_user_gather"),
                  Node(Collective("all_gather", float(users) * top_k * 12 * shards, shards), 1,
                       "shard_topk_gather")]
    return nodes


def _mlp(rows: int, width_in: int, widths: tuple[int, ...], p: Precision, name: str,
         last_relu: bool) -> list[Node]:
    """Fully connected layers with bias; ReLU after each (after the last if ``last_relu``)."""
    nodes = []
    for index, width in enumerate(widths):
        relu = last_relu or index < len(widths) - 1
        nodes.append(Node(Gemm(rows, width, width_in, dtype=p.compute, weight_dtype=p.weight,
                               bias=True, activation="relu" if relu else None), 1,
                          f"{name}_{index}"))
        width_in = width
    return nodes


def _bags(tables: tuple[Table, ...], dim: int, bags: int, zipf_s: float,
          p: Precision, shards: int = 1) -> list[Node]:
    """One embedding-bag node per distinct (rows, pooling) shape, repeated per table;
    each table's rows split over ``shards``."""
    shapes = Counter()
    for table in tables:
        shapes[(math.ceil(table.rows / shards), table.pooling)] += table.count
    return [Node(EmbeddingBag(rows, dim, bags, pooling, dtype=p.table, zipf_s=zipf_s), count,
                 f"bag_{rows}x{pooling}")
            for (rows, pooling), count in shapes.items()]


def mlp_params(width_in: int, widths: tuple[int, ...]) -> int:
    """Weights and biases of a chain of fully connected layers."""
    total = 0
    for width in widths:
        total += width_in * width + width
        width_in = width
    return total


def dlrm_params(config: RecConfig) -> int:
    c = config
    cross = c.cross_layers * CrossLayer(1, c.features * c.embedding_dim, c.cross_rank).weight_count
    return (c.embedding_rows * c.embedding_dim + mlp_params(c.dense_features, c.bottom_mlp)
            + cross + mlp_params(c.top_input, c.top_mlp))


def two_tower_params(config: TwoTowerConfig) -> int:
    """Trained parameters of both towers (tables and MLPs)."""
    c = config
    def tower(tables: tuple[Table, ...]) -> int:
        width = sum(table.count for table in tables) * c.embedding_dim
        return mlp_params(width, c.tower_mlp)
    return c.embedding_rows * c.embedding_dim + tower(c.user_tables) + tower(c.item_tables)


def two_tower_served_bytes(config: TwoTowerConfig, p: Precision, shards: int = 1) -> float:
    """What serving holds (per chip of ``shards``): user tables, user MLP and the
    [items, output_dim] item matrix, tables and items split over the shards."""
    c = config
    user = sum(_graph_weight_bytes(_bags(c.user_tables, c.embedding_dim, 1, c.zipf_s, p,
                                         shards)))
    width = sum(table.count for table in c.user_tables) * c.embedding_dim
    mlp = sum(_graph_weight_bytes(_mlp(1, width, c.tower_mlp, p, "user_tower", False)))
    items = Gemm(1, math.ceil(c.items / shards), c.output_dim, dtype=p.compute,
                 weight_dtype=p.table).weight_bytes()
    return user + mlp + items


def _graph_weight_bytes(nodes: list[Node]) -> list[float]:
    return [node.op.weight_bytes() * node.count for node in nodes]
