"""embedding_bag (fp32, fp16) and embedding_bag_int8 against numpy, with property tests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels.embedding import embedding_bag, embedding_bag_int8, embedding_bag_reference
from tests.kernels.conftest import normal

ROWS, DIM = 50, 13


def _bags(rng, n_indices, n_bags):
    offsets = np.sort(rng.integers(0, n_indices + 1, n_bags))
    offsets[0] = 0
    return rng.integers(0, ROWS, n_indices), offsets


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("mode,weighted", [("sum", False), ("sum", True), ("mean", False)])
def test_float_tables(rng, dtype, mode, weighted):
    table = normal(rng, ROWS, DIM).astype(dtype)
    indices, offsets = np.array([3, 3, 49, 0, 7, 7, 7, 1]), np.array([0, 0, 2, 2, 5])  # empty bags 0 and 2
    weights = rng.random(indices.size, dtype=np.float32) if weighted else None
    got = embedding_bag(table, indices, offsets, mode, weights)
    assert got.dtype == np.float32 and got.shape == (5, DIM)
    np.testing.assert_allclose(got, embedding_bag_reference(table, indices, offsets, mode, weights), atol=1e-5)
    assert not got[0].any() and not got[2].any()


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_int8_table(rng, mode):
    table_q = rng.integers(-128, 128, (ROWS, DIM)).astype(np.int8)
    scales, biases = rng.random(ROWS, dtype=np.float32) * 0.1, normal(rng, ROWS)
    indices, offsets = _bags(rng, 40, 9)
    got = embedding_bag_int8(table_q, scales, biases, indices, offsets, mode)
    want = embedding_bag_reference(table_q, indices, offsets, mode, scales=scales, biases=biases)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


def test_int8_weighted_and_no_bags(rng):
    table_q = rng.integers(-128, 128, (ROWS, DIM)).astype(np.int8)
    scales, biases = rng.random(ROWS, dtype=np.float32), normal(rng, ROWS)
    indices, offsets = _bags(rng, 20, 4)
    weights = rng.random(20, dtype=np.float32)
    got = embedding_bag_int8(table_q, scales, biases, indices, offsets, "sum", weights)
    want = embedding_bag_reference(table_q, indices, offsets, "sum", weights, scales, biases)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    assert embedding_bag_int8(table_q, scales, biases, np.zeros(0, np.int64), np.zeros(0, np.int64)).shape == (0, DIM)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_indices=st.integers(0, 60), n_bags=st.integers(1, 12),
       dim=st.integers(1, 40), mode=st.sampled_from(["sum", "mean"]), half=st.booleans())
def test_property_matches_reference(seed, n_indices, n_bags, dim, mode, half):
    rng = np.random.default_rng(seed)
    table = normal(rng, ROWS, dim).astype(np.float16 if half else np.float32)
    indices, offsets = _bags(rng, n_indices, n_bags)
    weights = rng.random(n_indices, dtype=np.float32) if mode == "sum" and seed % 2 else None
    np.testing.assert_allclose(embedding_bag(table, indices, offsets, mode, weights),
                               embedding_bag_reference(table, indices, offsets, mode, weights), atol=1e-4)
