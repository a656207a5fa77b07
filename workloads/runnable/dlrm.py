"""A runnable DLRM / DCNv2 ranking model: dense + sparse features -> click probabilities.

The forward pass is the one ``workloads.recsys.dlrm_graph`` times: bottom MLP (ReLU after
every layer), one embedding bag per table, the interaction (``dot``: DLRM pairwise dots;
``cat``: concatenation; ``dcn``: DCNv2 low-rank cross layers over the concatenation of
the bottom output and the pooled embeddings), top MLP (ReLU except the last) and a sigmoid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfmodel.errors import SeedchipError
from workloads.config import RecConfig, check_batch
from workloads.runnable.backend import Backend
from workloads.runnable.inputs import Bags, dense_features, expand_tables, table_bags
from workloads.runnable.layers import (Dense, EmbeddingTable, check_bags,
                                       embedding_table, mlp, normal, run_mlp, sigmoid)


@dataclass(frozen=True)
class CrossLayer:
    """x0 * (u @ (v @ x) + bias) + x with v: [rank, d], u: [d, rank]."""

    u: np.ndarray
    v: np.ndarray
    bias: np.ndarray


@dataclass(frozen=True)
class DlrmInputs:
    dense: np.ndarray   # float32 [batch, dense_features]
    sparse: list[Bags]  # one per physical table

    @property
    def batch(self) -> int:
        return self.dense.shape[0]


@dataclass(frozen=True)
class DlrmModel:
    config: RecConfig
    bottom: list[Dense]
    tables: list[EmbeddingTable]
    cross: list[CrossLayer]
    top: list[Dense]

    def inputs(self, batch: int, rng: np.random.Generator) -> DlrmInputs:
        """A batch of seeded features with the config's pooling factors and Zipf skew."""
        check_batch(batch)
        c = self.config
        return DlrmInputs(dense_features(rng, batch, c.dense_features),
                          table_bags(rng, expand_tables(c.tables), batch, c.zipf_s))

    def forward(self, ops: Backend, inputs: DlrmInputs) -> np.ndarray:
        """Click probabilities, float32 [batch]."""
        c = self.config
        check_batch(inputs.batch)
        if inputs.dense.shape != (inputs.batch, c.dense_features):
            raise SeedchipError(f"dense features: expected shape [batch, {c.dense_features}], "
                                f"got {list(inputs.dense.shape)}")
        check_bags(inputs.sparse, self.tables, inputs.batch)
        bottom = run_mlp(ops, self.bottom, inputs.dense)
        pooled = [table.pool(ops, bags) for table, bags in zip(self.tables, inputs.sparse)]
        if c.interaction == "dot":
            features = ops.dot_interaction(bottom, np.stack(pooled, axis=1))
        else:
            features = np.concatenate([bottom, *pooled], axis=1)
        x0 = features
        for layer in self.cross:
            features = ops.dcn_cross(x0, features, layer.u, layer.v, layer.bias)
        return sigmoid(run_mlp(ops, self.top, features)[:, 0])


def build_dlrm(config: RecConfig, rng: np.random.Generator, table_dtype: str) -> DlrmModel:
    c = config
    if c.interaction != "cat" and c.bottom_mlp[-1] != c.embedding_dim:
        raise SeedchipError(f"{c.name}: the bottom MLP must end at the embedding dim "
                            f"({c.embedding_dim}) for the {c.interaction} interaction")
    if c.top_mlp[-1] != 1:
        raise SeedchipError(f"{c.name}: the top MLP must end in one output (the click logit)")
    bottom = mlp(rng, c.dense_features, c.bottom_mlp, last_relu=True)
    tables = [embedding_table(rng, t.rows, c.embedding_dim, table_dtype)
              for t in expand_tables(c.tables)]
    width = c.bottom_mlp[-1] + c.table_count * c.embedding_dim
    cross = [CrossLayer(normal(rng, (width, c.cross_rank), c.cross_rank),
                        normal(rng, (c.cross_rank, width), width), normal(rng, (width,), width))
             for _ in range(c.cross_layers if c.interaction == "dcn" else 0)]
    top_in = c.top_input if c.interaction == "dot" else width
    return DlrmModel(c, bottom, tables, cross, mlp(rng, top_in, c.top_mlp, last_relu=False))
