"""attention_prefill, attention_decode and rope against numpy, including GQA and ragged caches."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels.attention import (attention_decode, attention_decode_reference, attention_prefill,
                               attention_prefill_reference, rope, rope_reference)
from tests.kernels.conftest import normal

TOL = dict(rtol=1e-4, atol=2e-5)


@pytest.mark.parametrize("kv_heads,ratio", [(2, 1), (2, 2), (1, 3), (2, 4), (1, 8)])
@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("batch,seq", [(1, 1), (2, 13)])
def test_prefill(rng, kv_heads, ratio, causal, batch, seq):
    q = normal(rng, batch, seq, kv_heads * ratio, 12)
    k, v = normal(rng, batch, seq, kv_heads, 12), normal(rng, batch, seq, kv_heads, 12)
    got = attention_prefill(q, k, v, causal)
    np.testing.assert_allclose(got, attention_prefill_reference(q, k, v, causal), **TOL)


@pytest.mark.parametrize("ratio", [1, 3])
@pytest.mark.parametrize("causal", [True, False])
def test_prefill_over_several_key_blocks(rng, ratio, causal):
    """300 keys: full key blocks, a part-filled last one, and (with 3 query heads per kv
    head) query tiles whose diagonal ends inside a block."""
    q = normal(rng, 2, 300, 2 * ratio, 8, scale=2.0)
    k, v = normal(rng, 2, 300, 2, 8), normal(rng, 2, 300, 2, 8)
    got = attention_prefill(q, k, v, causal)
    np.testing.assert_allclose(got, attention_prefill_reference(q, k, v, causal), **TOL)


@pytest.mark.parametrize("kv_heads,ratio", [(2, 1), (2, 2), (1, 3), (2, 4), (1, 8)])
def test_decode_ragged(rng, kv_heads, ratio):
    q = normal(rng, 4, kv_heads * ratio, 16)
    k_cache, v_cache = normal(rng, 4, 300, kv_heads, 16), normal(rng, 4, 300, kv_heads, 16)
    lengths = np.array([1, 300, 0, 77])
    got = attention_decode(q, k_cache, v_cache, lengths)
    np.testing.assert_allclose(got, attention_decode_reference(q, k_cache, v_cache, lengths), **TOL)
    assert not got[2].any()


def test_decode_batch_one_long_context_split_across_threads(rng):
    q, k_cache, v_cache = normal(rng, 1, 4, 8, scale=3.0), normal(rng, 1, 1000, 2, 8), normal(rng, 1, 1000, 2, 8)
    lengths = np.array([999])
    np.testing.assert_allclose(attention_decode(q, k_cache, v_cache, lengths),
                               attention_decode_reference(q, k_cache, v_cache, lengths), **TOL)


def test_decode_equals_last_row_of_causal_prefill(rng):
    q, k, v = normal(rng, 2, 9, 4, 8), normal(rng, 2, 9, 2, 8), normal(rng, 2, 9, 2, 8)
    decoded = attention_decode(q[:, -1], k, v, np.array([9, 9]))
    np.testing.assert_allclose(decoded, attention_prefill(q, k, v)[:, -1], **TOL)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), batch=st.integers(1, 3), seq=st.integers(1, 20),
       kv_heads=st.integers(1, 2), ratio=st.sampled_from([1, 2, 4]), head_dim=st.integers(1, 20),
       causal=st.booleans())
def test_property_prefill(seed, batch, seq, kv_heads, ratio, head_dim, causal):
    rng = np.random.default_rng(seed)
    q = normal(rng, batch, seq, kv_heads * ratio, head_dim, scale=2.0)
    k, v = normal(rng, batch, seq, kv_heads, head_dim), normal(rng, batch, seq, kv_heads, head_dim)
    np.testing.assert_allclose(attention_prefill(q, k, v, causal), attention_prefill_reference(q, k, v, causal), **TOL)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), batch=st.integers(1, 4), max_ctx=st.integers(1, 200),
       kv_heads=st.integers(1, 2), ratio=st.sampled_from([1, 4, 8]), head_dim=st.integers(1, 24))
def test_property_decode(seed, batch, max_ctx, kv_heads, ratio, head_dim):
    rng = np.random.default_rng(seed)
    q = normal(rng, batch, kv_heads * ratio, head_dim, scale=2.0)
    k_cache, v_cache = normal(rng, batch, max_ctx, kv_heads, head_dim), normal(rng, batch, max_ctx, kv_heads, head_dim)
    lengths = rng.integers(0, max_ctx + 1, batch)
    np.testing.assert_allclose(attention_decode(q, k_cache, v_cache, lengths),
                               attention_decode_reference(q, k_cache, v_cache, lengths), **TOL)


@pytest.mark.parametrize("tokens,heads,head_dim", [(1, 1, 2), (7, 3, 10), (5, 2, 128)])
def test_rope(rng, tokens, heads, head_dim):
    x, positions = normal(rng, tokens, heads, head_dim), rng.integers(0, 4096, tokens)
    np.testing.assert_allclose(rope(x, positions), rope_reference(x, positions), rtol=1e-5, atol=1e-5)


def test_rope_at_position_zero_is_identity(rng):
    x = normal(rng, 3, 2, 6)
    np.testing.assert_array_equal(rope(x, np.zeros(3, np.int64)), x)
