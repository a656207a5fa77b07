"""Synthetic lookups: Zipf skew that belongs to the table, not to one batch."""

import numpy as np

from workloads.runnable.inputs import zipf_indices


def _hottest(indices: np.ndarray, rows: int) -> int:
    return int(np.bincount(indices, minlength=rows).argmax())


def test_batches_drawn_apart_agree_on_the_hot_rows():
    rows = 5000
    first = zipf_indices(np.random.default_rng(1), rows, 20_000, 1.2)
    second = zipf_indices(np.random.default_rng(2), rows, 20_000, 1.2)
    assert not np.array_equal(first, second)
    assert _hottest(first, rows) == _hottest(second, rows)
    # the hottest row takes its Zipf share, 1 / H(5000, 1.2) ~ 0.2, in both batches
    for batch in (first, second):
        assert 0.15 < np.mean(batch == _hottest(first, rows)) < 0.25


def test_uniform_lookups_cover_the_table():
    indices = zipf_indices(np.random.default_rng(3), 100, 10_000, 0.0)
    assert indices.dtype == np.int64 and indices.min() == 0 and indices.max() == 99
