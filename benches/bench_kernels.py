"""Kernel benchmarks against numpy and the memory microbenchmarks, measured side by side.

Every test times the kernel with pytest-benchmark (median of >= 5 rounds after warm-up),
times its peers with ``benches.timing.measure`` in the same test, records rates and ratios,
and checks the kernel's output on (part of) the benchmark data against the numpy reference.
"""

from __future__ import annotations

import numpy as np
import pytest

from benches.timing import measure, settle
from perfmodel import ops
from kernels import attention_decode, embedding_bag, gelu, layer_norm, linear, rms_norm, silu
from kernels import membench
from kernels.activations import activation_reference
from kernels.attention import attention_decode_reference
from kernels.embedding import embedding_bag_reference
from kernels.linear import linear_reference
from kernels.norm import layer_norm_reference, rms_norm_reference

ROUNDS = 7
GIB = 1 << 30


def _run(benchmark, function, rounds=ROUNDS):
    settle()
    return benchmark.pedantic(function, rounds=rounds, warmup_rounds=2, iterations=1)


@pytest.fixture(scope="session")
def stream_buffer() -> np.ndarray:
    """A 512 MiB pre-touched float32 array (16x the L3) for the streaming-read peer."""
    return np.random.default_rng(1).random(GIB // 2 // 4, dtype=np.float32)


def stream_gb_s(buffer: np.ndarray) -> float:
    return buffer.nbytes / measure(lambda: membench.stream_read_sum(buffer), ROUNDS).median_s / 1e9


@pytest.fixture(scope="session")
def big_table() -> np.ndarray:
    """The 4M x 64 float32 (1 GiB) embedding table, pre-touched."""
    return np.random.default_rng(2).random((4 << 20, 64), dtype=np.float32)


def test_stream_read(benchmark, report, stream_buffer):
    total = _run(benchmark, lambda: membench.stream_read_sum(stream_buffer))
    assert np.isclose(total, stream_buffer.sum(dtype=np.float64), rtol=1e-4)
    # no op: the IR has no read-only reduction, and a copy would count the bytes twice
    report(benchmark, "stream_read_sum", "512 MiB", "GB/s", stream_buffer.nbytes,
           {"numpy sum": stream_buffer.nbytes / measure(stream_buffer.sum, ROUNDS).median_s / 1e9})


def test_triad(benchmark, report, stream_buffer):
    n = stream_buffer.size // 4
    b, c = stream_buffer[:n], stream_buffer[n:2 * n]
    a = np.zeros(n, np.float32)
    _run(benchmark, lambda: membench.triad(a, b, c, np.float32(3.0)))
    np.testing.assert_allclose(a[:1000], b[:1000] + 3 * c[:1000], rtol=1e-6)
    report(benchmark, "triad", "3 x 128 MiB", "GB/s", 3 * a.nbytes, {"stream read": stream_gb_s(stream_buffer)},
           ops.Elementwise(n, "add", dtype="fp32"))


@pytest.mark.parametrize("size", [512, 1024, 2048])
def test_linear_square(benchmark, report, size):
    rng = np.random.default_rng(size)
    x, w = rng.random((size, size), dtype=np.float32), rng.random((size, size), dtype=np.float32)
    y = _run(benchmark, lambda: linear(x, w))
    np.testing.assert_allclose(y[:8], linear_reference(x[:8], w), rtol=1e-4)
    numpy_s = measure(lambda: x @ w.T, ROUNDS).median_s
    flops = 2.0 * size ** 3
    report(benchmark, "linear fp32", f"{size}x{size}x{size}", "GFLOP/s", flops,
           {"numpy matmul": flops / numpy_s / 1e9}, ops.Gemm(size, size, size, dtype="fp32"))


@pytest.mark.parametrize("tokens", [1, 8])
def test_linear_decode(benchmark, report, stream_buffer, tokens):
    rng = np.random.default_rng(tokens)
    x, w = rng.random((tokens, 4096), dtype=np.float32), rng.random((4096, 4096), dtype=np.float32)
    y = _run(benchmark, lambda: linear(x, w))
    np.testing.assert_allclose(y[:, :64], linear_reference(x, w[:64]), rtol=1e-4)
    numpy_s = measure(lambda: x @ w.T, ROUNDS).median_s
    report(benchmark, "linear decode", f"{tokens}x4096 @ 4096x4096", "GB/s", w.nbytes,
           {"numpy matmul": w.nbytes / numpy_s / 1e9, "stream read": stream_gb_s(stream_buffer)},
           ops.Gemm(tokens, 4096, 4096, dtype="fp32"))


def test_embedding_bag(benchmark, report, big_table):
    bags, pooling = 2048, 32
    rng = np.random.default_rng(3)
    indices = rng.integers(0, big_table.shape[0], bags * pooling)
    offsets = np.arange(0, bags * pooling, pooling)
    out = _run(benchmark, lambda: embedding_bag(big_table, indices, offsets))
    np.testing.assert_allclose(out[:64], embedding_bag_reference(big_table, indices[:64 * pooling], offsets[:64]),
                               rtol=1e-5)
    moved = indices.size * big_table.shape[1] * 4
    numpy_s = measure(lambda: np.take(big_table, indices, axis=0).reshape(bags, pooling, -1).sum(axis=1),
                      ROUNDS).median_s
    gather_rows = rng.integers(0, big_table.shape[0], indices.size)
    partial = np.empty((16, big_table.shape[1]), np.float32)
    gather_s = measure(lambda: membench.gather_rows_sum(big_table, gather_rows, partial), ROUNDS).median_s
    report(benchmark, "embedding_bag fp32", "4M x 64 table, 2048 bags x 32", "GB/s", moved,
           {"numpy take+sum": moved / numpy_s / 1e9, "row gather": moved / gather_s / 1e9},
           ops.EmbeddingBag(big_table.shape[0], big_table.shape[1], bags, pooling, dtype="fp32"))


def test_attention_decode(benchmark, report, stream_buffer):
    batch, heads, head_dim, context = 8, 32, 128, 2048
    rng = np.random.default_rng(4)
    q = rng.standard_normal((batch, heads, head_dim), dtype=np.float32)
    k_cache = rng.standard_normal((batch, context, heads, head_dim), dtype=np.float32)
    v_cache = rng.standard_normal((batch, context, heads, head_dim), dtype=np.float32)
    lengths = np.full(batch, context)
    out = _run(benchmark, lambda: attention_decode(q, k_cache, v_cache, lengths))
    np.testing.assert_allclose(out[:1], attention_decode_reference(q[:1], k_cache[:1], v_cache[:1], lengths[:1]),
                               rtol=1e-4, atol=1e-5)
    moved = k_cache.nbytes + v_cache.nbytes
    numpy_s = measure(lambda: attention_decode_reference(q, k_cache, v_cache, lengths), ROUNDS).median_s
    report(benchmark, "attention_decode fp32", "b8 h32 kv32 d128 ctx2048", "GB/s", moved,
           {"numpy einsum": moved / numpy_s / 1e9, "stream read": stream_gb_s(stream_buffer)},
           ops.AttentionDecode(batch, context, heads, heads, head_dim, dtype="fp32"))


# (kernel writing into a reused output buffer, reference); a fresh output each call would
# time first-touch page faults (slower than the kernel itself) instead of the kernel
ROWWISE = {
    "rms_norm": (lambda x, w, b, o: rms_norm(x, w, out=o), lambda x, w, b: rms_norm_reference(x, w)),
    "layer_norm": (lambda x, w, b, o: layer_norm(x, w, b, out=o), lambda x, w, b: layer_norm_reference(x, w, b)),
    "gelu": (lambda x, w, b, o: gelu(x, out=o), lambda x, w, b: activation_reference(x, "gelu")),
    "silu": (lambda x, w, b, o: silu(x, out=o), lambda x, w, b: activation_reference(x, "silu")),
}


@pytest.mark.parametrize("name", list(ROWWISE))
def test_rowwise(benchmark, report, stream_buffer, name):
    kernel, reference = ROWWISE[name]
    rng = np.random.default_rng(5)
    x = rng.standard_normal((16384, 4096), dtype=np.float32)
    w, b = rng.standard_normal(4096, dtype=np.float32), rng.standard_normal(4096, dtype=np.float32)
    out = np.zeros_like(x)
    _run(benchmark, lambda: kernel(x, w, b, out))
    np.testing.assert_allclose(out[:16], reference(x[:16], w, b), rtol=1e-4, atol=1e-5)
    op = (ops.Norm(*x.shape, norm=name.partition("_")[0], dtype="fp32") if name.endswith("norm")
          else ops.Elementwise(x.size, name, dtype="fp32"))
    report(benchmark, name, "16384 x 4096, out= reused", "GB/s", 2 * x.nbytes,
           {"stream read": stream_gb_s(stream_buffer)}, op)
