"""dot_interaction, dcn_cross, moe routing/experts, top-k and sampling against numpy."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from kernels import sampling
from kernels.interaction import dcn_cross, dcn_cross_reference, dot_interaction, dot_interaction_reference
from kernels.moe import moe_ffn, moe_ffn_reference, moe_route, moe_route_reference
from kernels.sampling import (greedy, greedy_reference, sample_top_k_top_p, sample_top_k_top_p_reference,
                              topk, topk_reference)
from tests.kernels.conftest import normal


@pytest.mark.parametrize("batch,features,dim", [(1, 0, 4), (1, 1, 1), (5, 26, 16), (3, 7, 33)])
def test_dot_interaction(rng, batch, features, dim):
    dense, sparse = normal(rng, batch, dim), normal(rng, batch, features, dim)
    got = dot_interaction(dense, sparse)
    assert got.shape == (batch, dim + (features + 1) * features // 2)
    np.testing.assert_allclose(got, dot_interaction_reference(dense, sparse), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("batch,dim,rank", [(1, 5, 1), (9, 40, 7), (33, 64, 16)])
def test_dcn_cross(rng, batch, dim, rank):
    x0, x = normal(rng, batch, dim), normal(rng, batch, dim)
    u, v, bias = normal(rng, dim, rank, scale=0.3), normal(rng, rank, dim, scale=0.3), normal(rng, dim)
    np.testing.assert_allclose(dcn_cross(x0, x, u, v, bias), dcn_cross_reference(x0, x, u, v, bias),
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("top_k", [1, 2, 8])
def test_moe_route(rng, top_k):
    logits = normal(rng, 11, 8)
    weights, experts = moe_route(logits, top_k)
    want_weights, want_experts = moe_route_reference(logits, top_k)
    np.testing.assert_array_equal(experts, want_experts)
    np.testing.assert_allclose(weights, want_weights, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("tokens,experts,top_k", [(1, 4, 2), (13, 8, 2), (6, 3, 3)])
def test_moe_ffn(rng, tokens, experts, top_k):
    x, logits = normal(rng, tokens, 12), normal(rng, tokens, experts)
    gate, up = normal(rng, experts, 20, 12, scale=0.3), normal(rng, experts, 20, 12, scale=0.3)
    down = normal(rng, experts, 12, 20, scale=0.3)
    np.testing.assert_allclose(moe_ffn(x, logits, gate, up, down, top_k),
                               moe_ffn_reference(x, logits, gate, up, down, top_k), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("rows,n,k", [(1, 1, 1), (4, 50, 5), (3, 100, 100)])
def test_topk(rng, rows, n, k):
    x = normal(rng, rows, n)
    x[:, -1] = x[:, 0]  # a tie: the lower index must come first
    values, positions = topk(x, k)
    want_values, want_positions = topk_reference(x, k)
    np.testing.assert_array_equal(positions, want_positions)
    np.testing.assert_array_equal(values, want_values)


@pytest.mark.parametrize("n,k", [(1000, 37), (300, 1), (5000, 300), (20_000, 10), (65_536, 100)])
def test_topk_with_many_ties_keeps_the_lower_indices(rng, n, k):
    x = rng.integers(0, 12, (5, n)).astype(np.float32)  # every value many times over
    values, positions = topk(x, k)
    want_values, want_positions = topk_reference(x, k)
    np.testing.assert_array_equal(positions, want_positions)
    np.testing.assert_array_equal(values, want_values)


@pytest.mark.parametrize("n,k", [(65_536, 100), (4096, 16), (2048, 8)])
def test_topk_of_long_rows_by_threshold(rng, n, k):
    x = normal(rng, 4, n)
    values, positions = topk(x, k)
    want_values, want_positions = topk_reference(x, k)
    np.testing.assert_array_equal(positions, want_positions)
    np.testing.assert_array_equal(values, want_values)


@pytest.mark.parametrize("blocks", [1, 2, 3, 5])
def test_topk_by_column_blocks_merges_to_the_rows_top_k(rng, blocks):
    x = rng.integers(0, 30, (3, 5000)).astype(np.float32)  # ties within and across blocks
    k = 40
    block_values = np.empty((3, blocks, k), np.float32)
    block_positions = np.empty((3, blocks, k), np.int64)
    sampling._block_topk_kernel(x, k, blocks, block_values, block_positions)
    values, positions = np.empty((3, k), np.float32), np.empty((3, k), np.int64)
    sampling._merge_blocks(block_values, block_positions, values, positions)
    want_values, want_positions = topk_reference(x, k)
    np.testing.assert_array_equal(positions, want_positions)
    np.testing.assert_array_equal(values, want_values)


def test_topk_splits_columns_only_for_few_long_rows():
    threads = numba.get_num_threads()
    assert sampling._column_blocks(sampling.ROW_SPLIT_MIN_ROWS, 10**6, 10) == 1
    assert sampling._column_blocks(4, 1000, 10) == 1
    assert sampling._column_blocks(4, 10**6, 10) == threads
    assert sampling._column_blocks(1, 8192, 8192) == 1  # every block must hold k columns


def test_topk_of_a_masked_row_falls_back_to_the_scan(rng):
    x = np.full((2, 10_000), -np.inf, np.float32)  # masked logits: three finite entries
    x[:, [17, 4000, 9999]] = [[1.0, 3.0, 2.0]]
    values, positions = topk(x, 8)
    want_values, want_positions = topk_reference(x, 8)
    np.testing.assert_array_equal(positions, want_positions)
    np.testing.assert_array_equal(values, want_values)


def test_greedy(rng):
    logits = normal(rng, 6, 33)
    logits[0, 3] = logits[0, 5] = 100.0
    np.testing.assert_array_equal(greedy(logits), greedy_reference(logits))
    assert greedy(logits)[0] == 3


@pytest.mark.parametrize("top_k,top_p,temperature", [(1, 1.0, 1.0), (10, 0.9, 0.7), (64, 0.5, 2.0), (64, 1.0, 1.0)])
def test_sampling_matches_reference(rng, top_k, top_p, temperature):
    logits = normal(rng, 16, 64, scale=2.0)
    for seed in range(4):
        np.testing.assert_array_equal(sample_top_k_top_p(logits, top_k, top_p, temperature, seed),
                                      sample_top_k_top_p_reference(logits, top_k, top_p, temperature, seed))


def test_sampling_stays_in_nucleus_and_is_reproducible(rng):
    logits = normal(rng, 200, 40, scale=3.0)
    tokens = sample_top_k_top_p(logits, 5, 1.0, 1.0, seed=7)
    allowed = topk_reference(logits, 5)[1]
    assert all(t in row for t, row in zip(tokens, allowed))
    np.testing.assert_array_equal(tokens, sample_top_k_top_p(logits, 5, 1.0, 1.0, seed=7))
    np.testing.assert_array_equal(sample_top_k_top_p(logits, 40, 1e-6, 1.0, seed=1), greedy(logits))
