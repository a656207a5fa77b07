"""Seeded synthetic inputs: Zipf-skewed embedding lookups, dense features, prompts."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from workloads.config import Table


def zipf_indices(rng: np.random.Generator, rows: int, count: int, zipf_s: float) -> np.ndarray:
    """``count`` row indices: uniform for s = 0, else Zipf(s) ranks mapped to rows in a fixed
    random order (hot rows are scattered through the table, as in real traces, and are the
    same rows in every batch drawn over a table of ``rows``: hotness belongs to the table)."""
    if zipf_s == 0:
        return rng.integers(0, rows, count, dtype=np.int64)
    ranks = np.arange(1, rows + 1, dtype=np.float64)
    probabilities = ranks ** -zipf_s
    probabilities /= probabilities.sum()
    return _hot_order(rows)[rng.choice(rows, size=count, p=probabilities)]


@functools.lru_cache(maxsize=16)
def _hot_order(rows: int) -> np.ndarray:
    """Row of each Zipf rank (hottest first) of a table of ``rows``: a permutation seeded by
    the row count, so that batches drawn apart agree on which rows are hot."""
    order = np.random.default_rng(rows).permutation(rows).astype(np.int64)
    order.flags.writeable = False
    return order


@dataclass(frozen=True)
class Bags:
    """One table's lookups for a batch, as ``embedding_bag`` takes them."""

    indices: np.ndarray  # int64 [n]
    offsets: np.ndarray  # int64 [bags], bag b is indices[offsets[b]:offsets[b + 1]]


def expand_tables(tables: tuple[Table, ...]) -> list[Table]:
    """One entry per physical table (a ``count`` of n becomes n tables of count 1)."""
    return [Table(t.rows, t.pooling) for t in tables for _ in range(t.count)]


def table_bags(rng: np.random.Generator, tables: list[Table], bags: int,
               zipf_s: float) -> list[Bags]:
    """``pooling`` Zipf-distributed lookups per bag and table, as the op graph assumes."""
    return [Bags(zipf_indices(rng, t.rows, bags * t.pooling, zipf_s),
                 np.arange(bags, dtype=np.int64) * t.pooling) for t in tables]


def dense_features(rng: np.random.Generator, batch: int, width: int) -> np.ndarray:
    """Standard-normal float32 features [batch, width] (log-transformed counts in DLRM)."""
    return rng.standard_normal((batch, width), dtype=np.float32)


def prompts(rng: np.random.Generator, batch: int, length: int, vocab: int) -> np.ndarray:
    """Uniform random token ids [batch, length]."""
    return rng.integers(0, vocab, (batch, length), dtype=np.int64)
