"""Fuzzing the kernel wrappers: random shapes, dtypes, indices and offsets (often wrong),
NaN/inf values and empty batches. Every call returns a result of the documented shape or
raises SeedchipError; any other exception, or a wrong-shaped result, is a bug."""

import numpy as np
from hypothesis import given, strategies as st

import kernels
from perfmodel.errors import SeedchipError
from tests.fuzzing import FUZZ, counted

DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int8]
dims = st.integers(0, 4)


@st.composite
def arrays(draw, shape, floats_only=False):
    """An array of ``shape`` (or, one time in five, a random other shape) and a random dtype,
    its values normal with a few NaN/inf."""
    if draw(st.integers(0, 4)) == 0:
        shape = tuple(draw(st.lists(dims, min_size=0, max_size=4)))
    dtype = np.float32 if floats_only else draw(st.sampled_from(DTYPES))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    values = rng.standard_normal(shape) * 3
    if values.size and draw(st.booleans()):
        values.flat[draw(st.integers(0, values.size - 1))] = draw(st.sampled_from([np.nan, np.inf]))
    return values.astype(dtype) if np.issubdtype(dtype, np.floating) else \
        np.nan_to_num(values, nan=0, posinf=0).astype(dtype)


@st.composite
def index_arrays(draw, size, upper):
    """Indices mostly in [0, upper), sometimes negative or past the end."""
    return np.array(draw(st.lists(st.integers(-2, upper + 2), min_size=size, max_size=size)),
                    dtype=draw(st.sampled_from([np.int64, np.int32, np.float32])))


def _call(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except SeedchipError as error:
        assert str(error) and "\n" not in str(error)
        return None


def _shape(result, expected):
    if result is not None:
        assert result.shape == expected and result.dtype == np.float32


@FUZZ
@given(m=dims, n=dims, k=dims, data=st.data(),
       activation=st.sampled_from([None, "relu", "gelu", "silu", "tanh"]))
@counted
def test_fuzz_linear(m, n, k, data, activation):
    x, w = data.draw(arrays((m, k))), data.draw(arrays((n, k)))
    bias = data.draw(st.one_of(st.none(), arrays((n,))))
    _shape(_call(kernels.linear, x, w, bias, activation), x.shape[:1] + w.shape[:1])


@FUZZ
@given(rows=dims, dim=dims, bags=dims, data=st.data(), mode=st.sampled_from(["sum", "mean", "max"]))
@counted
def test_fuzz_embedding_bag(rows, dim, bags, data, mode):
    table = data.draw(arrays((rows, dim)))
    n = data.draw(st.integers(0, 6))
    indices = data.draw(index_arrays(n, rows))
    offsets = data.draw(index_arrays(bags, n))
    result = _call(kernels.embedding_bag, table, indices, offsets, mode)
    if result is not None:
        assert result.shape == (offsets.size, table.shape[1])


@FUZZ
@given(rows=dims, dim=dims, data=st.data())
@counted
def test_fuzz_embedding_bag_int8(rows, dim, data):
    table = data.draw(arrays((rows, dim)))
    scales, biases = data.draw(arrays((rows,))), data.draw(arrays((rows,)))
    indices = data.draw(index_arrays(data.draw(st.integers(0, 6)), rows))
    offsets = np.array([0], np.int64)
    result = _call(kernels.embedding_bag_int8, table, scales, biases, indices, offsets)
    if result is not None:
        assert result.shape == (1, table.shape[1])


@FUZZ
@given(batch=dims, features=dims, dim=dims, data=st.data())
@counted
def test_fuzz_dot_interaction(batch, features, dim, data):
    dense, sparse = data.draw(arrays((batch, dim))), data.draw(arrays((batch, features, dim)))
    result = _call(kernels.dot_interaction, dense, sparse)
    if result is not None:
        f, d = sparse.shape[1] + 1, dense.shape[1]
        _shape(result, (dense.shape[0], d + f * (f - 1) // 2))


@FUZZ
@given(batch=dims, heads=st.integers(1, 4), kv=st.integers(0, 4), context=dims,
       head_dim=dims, data=st.data())
@counted
def test_fuzz_attention_decode(batch, heads, kv, context, head_dim, data):
    q = data.draw(arrays((batch, heads, head_dim)))
    k, v = (data.draw(arrays((batch, context, kv, head_dim))) for _ in range(2))
    lengths = data.draw(index_arrays(batch, context))
    _shape(_call(kernels.attention_decode, q, k, v, lengths), q.shape)


@FUZZ
@given(batch=dims, seq=dims, heads=st.integers(1, 4), kv=st.integers(0, 4), head_dim=dims,
       data=st.data(), causal=st.booleans())
@counted
def test_fuzz_attention_prefill(batch, seq, heads, kv, head_dim, data, causal):
    q = data.draw(arrays((batch, seq, heads, head_dim)))
    k, v = (data.draw(arrays((batch, seq, kv, head_dim))) for _ in range(2))
    _shape(_call(kernels.attention_prefill, q, k, v, causal), q.shape)


@FUZZ
@given(rows=dims, dim=dims, data=st.data(), which=st.sampled_from(["rms", "layer", "softmax"]))
@counted
def test_fuzz_norms(rows, dim, data, which):
    x, weight, bias = data.draw(arrays((rows, dim))), data.draw(arrays((dim,))), \
        data.draw(arrays((dim,)))
    result = (_call(kernels.rms_norm, x, weight) if which == "rms" else
              _call(kernels.layer_norm, x, weight, bias) if which == "layer" else
              _call(kernels.softmax, x))
    _shape(result, x.shape)


@FUZZ
@given(rows=dims, n=dims, k=st.integers(-1, 5), data=st.data())
@counted
def test_fuzz_topk_routing_and_sampling(rows, n, k, data):
    x = data.draw(arrays((rows, n)))
    for function in (kernels.topk, kernels.moe_route):
        result = _call(function, x, k)
        if result is not None:
            assert result[0].shape == result[1].shape == (x.shape[0], k)
            assert result[1].size == 0 or (result[1].min() >= 0 and result[1].max() < x.shape[1])
    top_p = data.draw(st.sampled_from([0.0, 0.5, 1.0, 1.5, float("nan")]))
    tokens = _call(kernels.sample_top_k_top_p, x, k, top_p)
    if tokens is not None:
        assert tokens.shape == x.shape[:1] and (tokens.size == 0 or tokens.max() < x.shape[1])


@FUZZ
@given(tokens=dims, heads=dims, head_dim=dims, data=st.data())
@counted
def test_fuzz_rope(tokens, heads, head_dim, data):
    x = data.draw(arrays((tokens, heads, head_dim)))
    positions = data.draw(index_arrays(tokens, 100))
    _shape(_call(kernels.rope, x, positions), x.shape)
