"""The memory microbenchmark kernels compute what they claim (timing is in benches/)."""

from __future__ import annotations

import numpy as np

from kernels import membench


def test_stream_read_sum(rng):
    a = rng.random(200_001, dtype=np.float32)
    assert np.isclose(membench.stream_read_sum(a), a.sum(dtype=np.float64), rtol=1e-5)


def test_triad(rng):
    b, c = rng.random(70_000, dtype=np.float32), rng.random(70_000, dtype=np.float32)
    a = np.empty_like(b)
    membench.triad(a, b, c, np.float32(3.0))
    np.testing.assert_allclose(a, b + 3 * c, rtol=1e-6)


def test_gather_rows_sum(rng):
    table, rows = rng.random((300, 24), dtype=np.float32), rng.integers(0, 300, 1001)
    out = np.empty((3, 24), np.float32)
    membench.gather_rows_sum(table, rows, out)
    np.testing.assert_allclose(out.sum(axis=0), table[rows].sum(axis=0), rtol=1e-5)


def test_fma_throughput_updates_the_register_lanes_only(rng):
    x = rng.random((2, membench.FMA_LANES + 5), dtype=np.float32)
    expected = x.copy()
    for _ in range(3):
        expected[:, :membench.FMA_LANES] = expected[:, :membench.FMA_LANES] * 0.5 + 1.0
    membench.fma_throughput(x, 3, np.float32(0.5), np.float32(1.0))
    np.testing.assert_allclose(x, expected, rtol=1e-6)


def test_special_throughput_writes_each_mode_out_of_place(rng):
    x = rng.standard_normal((2, 300)).astype(np.float32)
    before = x.copy()
    expected = {"exp": np.exp(x), "reciprocal": 1 / (1 + x), "sigmoid": 1 / (1 + np.exp(x))}
    for index, mode in enumerate(membench.SPECIAL_MODES):
        out = np.zeros_like(x)
        membench.special_throughput(x, out, 2, index)
        np.testing.assert_allclose(out, expected[mode], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(x, before)
