"""Memory microbenchmarks reused by calibration: streaming read, triad, random-row gather.

Plain jitted functions over caller-owned, pre-touched arrays; timing lives in
``benches.timing``. Bytes moved per call: ``stream_read_sum`` a.nbytes;
``stream_copy_repeat`` 2 * repeats * src.nbytes; ``triad``
3 * a.nbytes (two reads, one write; four with write-allocate); ``gather_rows_sum``
rows.size * table.shape[1] * 4.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from kernels._jit import exp_f32, jit, jit_parallel, prefetch

_CHUNK = 1 << 16
_PREFETCH_AHEAD = 8
_LINE_FLOATS = 16
FMA_LANES = 128  # 8 AVX-512 (16 AVX2) vectors: enough independent chains for both FMA pipes


@jit_parallel
def stream_read_sum(a):
    """Sum of a 1-d float32 array, read once front to back by every thread's chunk.

    Each chunk is summed by ``_sum_repeat`` over a slice indexed from 0, so the loop
    vectorises (a loop from chunk * _CHUNK does not, and reads at a third of the speed).
    """
    chunks = (a.size + _CHUNK - 1) // _CHUNK
    parts = np.zeros(chunks, dtype=np.float32)
    for chunk in prange(chunks):
        parts[chunk] = _sum_repeat(a[chunk * _CHUNK:(chunk + 1) * _CHUNK], 1)
    return parts.sum()


@jit
def _triad_chunk(a, b, c, scalar):
    for i in range(a.size):
        a[i] = b[i] + scalar * c[i]


@jit_parallel
def triad(a, b, c, scalar):
    """STREAM triad on 1-d float32 arrays: a = b + scalar * c (chunks indexed from 0, so
    the loop vectorises)."""
    for chunk in prange((a.size + _CHUNK - 1) // _CHUNK):
        lo, hi = chunk * _CHUNK, min(a.size, (chunk + 1) * _CHUNK)
        _triad_chunk(a[lo:hi], b[lo:hi], c[lo:hi], scalar)


@jit_parallel
def gather_rows_sum(table, rows, out):
    """out[t] = sum of table[rows[i]] over task t's share of ``rows`` (row-major float32 table).

    out: [tasks, table.shape[1]]; each row is a table.shape[1] * 4-byte random read, and the
    rows a few positions ahead are prefetched, as a gather-bound kernel would.
    """
    dim = table.shape[1]
    flat = table.reshape(table.size)
    tasks = out.shape[0]
    for task in prange(tasks):
        acc = out[task]
        acc[:] = 0.0
        end = (task + 1) * rows.size // tasks
        for p in range(task * rows.size // tasks, end):
            if p + _PREFETCH_AHEAD < end:
                ahead = rows[p + _PREFETCH_AHEAD] * dim
                for c in range(0, dim, _LINE_FLOATS):
                    prefetch(flat, ahead + c)
            row = table[rows[p]]
            for j in range(dim):
                acc[j] += row[j]


@jit
def _sum_repeat(chunk, repeats):
    """Sum ``chunk`` ``repeats`` times. Indexing from 0 lets LLVM drop the negative-index
    check and vectorise the reduction (fast-math reassociation)."""
    part = np.float32(0.0)
    for _ in range(repeats):
        for i in range(chunk.size):
            part += chunk[i]
    return part


@jit_parallel
def stream_read_repeat(a, repeats, tasks):
    """Sum ``a`` ``repeats`` times, each of ``tasks`` threads over its own chunk.

    With ``a`` sized to fit a cache level (each thread's chunk in its own L2, or all of
    ``a`` in the shared L3) every pass after the first is served by that level: the
    level's read bandwidth. Bytes moved per call: repeats * a.nbytes.
    """
    totals = np.zeros(tasks, dtype=np.float32)
    for task in prange(tasks):
        totals[task] = _sum_repeat(a[task * a.size // tasks:(task + 1) * a.size // tasks],
                                   repeats)
    return totals.sum()


@jit
def _copy_repeat(src, dst, repeats):
    for _ in range(repeats):
        for i in range(src.size):
            dst[i] = src[i]


@jit_parallel
def stream_copy_repeat(src, dst, repeats, tasks):
    """dst = src, ``repeats`` times, each of ``tasks`` threads over its own chunk (ordinary
    stores, as the kernels write their outputs). With both arrays sized to fit a cache level
    every pass after the first stays in it. Bytes moved per call: 2 * repeats * src.nbytes
    (one read and one write of each element)."""
    for task in prange(tasks):
        lo = task * src.size // tasks
        hi = (task + 1) * src.size // tasks
        _copy_repeat(src[lo:hi], dst[lo:hi], repeats)


@jit
def _fma_registers(row, iterations, scale, shift):
    """The first FMA_LANES elements of ``row``, updated ``iterations`` times in a fixed-size
    local array that LLVM keeps in vector registers (no load or store per FMA)."""
    acc = np.empty(FMA_LANES, np.float32)
    for i in range(FMA_LANES):
        acc[i] = row[i]
    for _ in range(iterations):
        for i in range(FMA_LANES):
            acc[i] = acc[i] * scale + shift
    for i in range(FMA_LANES):
        row[i] = acc[i]


@jit_parallel
def fma_throughput(x, iterations, scale, shift):
    """x[:, :FMA_LANES] = x * scale + shift, ``iterations`` times, per thread's row.

    The peak of the vector units: independent FMAs on register-resident values, as the
    matrix peak is the GEMM's. 2 * iterations * FMA_LANES flops per row of ``x``
    (rows need at least FMA_LANES elements).
    """
    for task in prange(x.shape[0]):
        _fma_registers(x[task], iterations, scale, shift)


SPECIAL_MODES = ("exp", "reciprocal", "sigmoid")


@jit
def _special_row(src, dst, iterations, mode):
    """dst = exp(src), 1 / (1 + src) or both (1 / (1 + exp(src))), ``iterations`` times,
    out of place as the activation kernels work; the mode sits outside the loops so each
    vectorises."""
    if mode == 0:
        for _ in range(iterations):
            for i in range(src.size):
                dst[i] = exp_f32(src[i])
    elif mode == 1:
        for _ in range(iterations):
            for i in range(src.size):
                dst[i] = np.float32(1.0) / (np.float32(1.0) + src[i])
    else:
        for _ in range(iterations):
            for i in range(src.size):
                dst[i] = np.float32(1.0) / (np.float32(1.0) + exp_f32(src[i]))


@jit_parallel
def special_throughput(x, out, iterations, mode):
    """``SPECIAL_MODES[mode]`` of each small (L1-resident) row of ``x`` into ``out``,
    ``iterations`` times per row and thread: iterations * x.size vectorised evaluations per
    call (exp as the kernels' ``exp_f32``, reciprocals as their fast-math division).
    Rows of x hold moderate values (|x| of a few units), as activations' inputs do."""
    for task in prange(x.shape[0]):
        _special_row(x[task], out[task], iterations, mode)
