"""A runnable two-tower retrieval model: user tower, dot-product scores, top-k.

As ``workloads.recsys.two_tower_graph`` times it: the item tower runs offline (here at
build time) over the item corpus into an [items, output_dim] matrix; a batch of
``batch`` samples is ceil(batch / candidates) users, each run through the user tower
(one bag per user table, concatenated, MLP with ReLU except the last) and scored against
the same ``ceil(batch / users)`` candidates, the first rows of the item matrix, then
the top_k candidates per user are kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from workloads.config import TwoTowerConfig, check_batch
from workloads.runnable.backend import Backend
from workloads.runnable.inputs import Bags, expand_tables, table_bags
from workloads.runnable.layers import (Dense, EmbeddingTable, check_bags,
                                       embedding_table, mlp, run_mlp)


@dataclass(frozen=True)
class TwoTowerInputs:
    users: list[Bags]  # one per user table, one bag per user
    scored: int        # candidates scored per user

    @property
    def batch(self) -> int:
        return self.users[0].offsets.size


@dataclass(frozen=True)
class Retrieved:
    scores: np.ndarray  # float32 [users, top_k], descending
    items: np.ndarray   # int64 [users, top_k]


@dataclass(frozen=True)
class TwoTowerModel:
    config: TwoTowerConfig
    user_tables: list[EmbeddingTable]
    user_tower: list[Dense]
    item_matrix: np.ndarray  # float32 [items, output_dim]

    def inputs(self, batch: int, rng: np.random.Generator) -> TwoTowerInputs:
        """Lookups of ceil(batch / candidates) users, scoring batch / users items each."""
        check_batch(batch)
        c = self.config
        users = math.ceil(batch / c.candidates)
        return TwoTowerInputs(table_bags(rng, expand_tables(c.user_tables), users, c.zipf_s),
                              min(math.ceil(batch / users), c.items))

    def forward(self, ops: Backend, inputs: TwoTowerInputs) -> Retrieved:
        check_bags(inputs.users, self.user_tables, inputs.batch)
        user = run_mlp(ops, self.user_tower, user_features(ops, self.user_tables, inputs.users))
        scores = ops.linear(user, self.item_matrix[:inputs.scored])
        values, items = ops.topk(scores, min(self.config.top_k, inputs.scored))
        return Retrieved(values, items)


def user_features(ops: Backend, tables: list[EmbeddingTable], bags: list[Bags]) -> np.ndarray:
    return np.concatenate([table.pool(ops, bag) for table, bag in zip(tables, bags)], axis=1)


def build_two_tower(config: TwoTowerConfig, rng: np.random.Generator, table_dtype: str,
                    ops: Backend) -> TwoTowerModel:
    """Weights of both towers; the item tower runs once, with ``ops``, over the corpus
    (item i reads rows i * pooling .. of each item table, modulo its rows)."""
    c = config
    user_tables = [embedding_table(rng, t.rows, c.embedding_dim, table_dtype)
                   for t in expand_tables(c.user_tables)]
    item_specs = expand_tables(c.item_tables)
    item_tables = [embedding_table(rng, t.rows, c.embedding_dim, table_dtype) for t in item_specs]

    def width(tables: list[EmbeddingTable]) -> int:
        return len(tables) * c.embedding_dim

    user_tower = mlp(rng, width(user_tables), c.tower_mlp, last_relu=False)
    item_tower = mlp(rng, width(item_tables), c.tower_mlp, last_relu=False)
    item_bags = [Bags(np.arange(c.items * t.pooling, dtype=np.int64) % t.rows,
                      np.arange(c.items, dtype=np.int64) * t.pooling) for t in item_specs]
    items = run_mlp(ops, item_tower, user_features(ops, item_tables, item_bags))
    return TwoTowerModel(c, user_tables, user_tower, np.ascontiguousarray(items))
