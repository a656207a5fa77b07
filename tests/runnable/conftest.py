"""Shrunk copies of the small presets (same structure, tiny sizes) so tests run in seconds."""

from dataclasses import replace

import pytest

from workloads.config import Table, load_workload
from workloads.runnable import backend


@pytest.fixture(scope="session")
def kernels_ops():
    return backend("kernels")


@pytest.fixture(scope="session")
def numpy_ops():
    return backend("numpy")


def shrunk_dlrm(interaction: str = "dcn"):
    """dlrm-dcnv2-small's 26 tables and pooling factors, with at most 500 rows each."""
    config = load_workload("dlrm-dcnv2-small")
    tables = tuple(Table(min(t.rows, 500), t.pooling, t.count) for t in config.tables)
    return replace(config, tables=tables, embedding_dim=16, bottom_mlp=(32, 16),
                   top_mlp=(32, 1), cross_rank=8, interaction=interaction)


def shrunk_decoder(name: str = "llama-tiny", **changes):
    """4:1 GQA (or the preset's experts) at d_model 64, 2 layers, vocab 512."""
    config = load_workload(name)
    sizes = dict(layers=2, d_model=64, n_heads=4, n_kv_heads=1, head_dim=16, ffn_dim=96,
                 vocab=512, max_context=64)
    if config.is_moe:
        sizes["expert_ffn_dim"] = 48
    return replace(config, **{**sizes, **changes})
