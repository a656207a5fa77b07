"""Dense layers: ``linear`` (x @ weight.T + bias, then an activation) and ``swiglu_ffn``.

The GEMM keeps torch's ``weight[out, in]`` layout, so every output is a dot product of two
contiguous rows. A 4x3 register tile (4 rows of x against 3 rows of weight: 12 float32
accumulators that LLVM vectorises along ``in`` into AVX2 FMAs) is the micro-kernel; weight
rows are walked in blocks that fit in L2 while every row block of x visits them. Threads
split the rows of x for large batches, and the weight rows when the batch is small
(decode), so each weight byte is read once; with at most eight short rows of x, each
weight row is streamed once in memory order against all of them.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from kernels import _validate
from kernels._jit import jit_inline, jit_parallel
from kernels.activations import activate_into, activation_code, activation_reference, silu_scalar

_TILE_ROWS = 4
_TILE_COLS = 3
_L2_BLOCK_BYTES = 256 * 1024
ROW_SPLIT_MIN_ROWS = 32  # fewer rows of x: threads split the weight rows (the output columns)
_NARROW_MAX_ROWS = 8  # up to this many rows of x (and _NARROW_MAX_X_BYTES of them, so they
_NARROW_MAX_X_BYTES = 16 * 1024  # stay in L1), weight rows are read one at a time


@jit_inline
def _tile_4x3(x, w, y, i0, j0):
    """y[i0:i0+4, j0:j0+3] = x[i0:i0+4] @ w[j0:j0+3].T, weight rows clamped at the edge."""
    n = w.shape[0]
    j1 = min(j0 + 1, n - 1)
    j2 = min(j0 + 2, n - 1)
    a00 = a01 = a02 = a10 = a11 = a12 = np.float32(0.0)
    a20 = a21 = a22 = a30 = a31 = a32 = np.float32(0.0)
    for k in range(x.shape[1]):
        x0 = x[i0, k]
        x1 = x[i0 + 1, k]
        x2 = x[i0 + 2, k]
        x3 = x[i0 + 3, k]
        w0 = w[j0, k]
        w1 = w[j1, k]
        w2 = w[j2, k]
        a00 += x0 * w0
        a01 += x0 * w1
        a02 += x0 * w2
        a10 += x1 * w0
        a11 += x1 * w1
        a12 += x1 * w2
        a20 += x2 * w0
        a21 += x2 * w1
        a22 += x2 * w2
        a30 += x3 * w0
        a31 += x3 * w1
        a32 += x3 * w2
    y[i0, j2] = a02
    y[i0 + 1, j2] = a12
    y[i0 + 2, j2] = a22
    y[i0 + 3, j2] = a32
    y[i0, j1] = a01
    y[i0 + 1, j1] = a11
    y[i0 + 2, j1] = a21
    y[i0 + 3, j1] = a31
    y[i0, j0] = a00
    y[i0 + 1, j0] = a10
    y[i0 + 2, j0] = a20
    y[i0 + 3, j0] = a30


@jit_inline
def _tile_1x3(x, w, y, i, j0):
    """y[i, j0:j0+3] = x[i] @ w[j0:j0+3].T for the rows left over after 4-row tiles."""
    n = w.shape[0]
    j1 = min(j0 + 1, n - 1)
    j2 = min(j0 + 2, n - 1)
    a0 = a1 = a2 = np.float32(0.0)
    for k in range(x.shape[1]):
        xv = x[i, k]
        a0 += xv * w[j0, k]
        a1 += xv * w[j1, k]
        a2 += xv * w[j2, k]
    y[i, j2] = a2
    y[i, j1] = a1
    y[i, j0] = a0


@jit_inline
def gemm_nt_block(x, w, y):
    """y = x @ w.T on the calling thread (C-contiguous x[m, k], w[n, k], y[m, n], n >= 1).

    The 4x3 register tiles of ``linear`` for blocks that fit in cache, called from inside
    other kernels' parallel loops (attention tiles, per-sample Gram matrices).
    """
    m = x.shape[0]
    full_rows = m // _TILE_ROWS * _TILE_ROWS
    for j0 in range(0, w.shape[0], _TILE_COLS):
        for i0 in range(0, full_rows, _TILE_ROWS):
            _tile_4x3(x, w, y, i0, j0)
        for i in range(full_rows, m):
            _tile_1x3(x, w, y, i, j0)


@jit_inline
def dot(a, b):
    """a . b of two 1-d float32 arrays of one length."""
    total = np.float32(0.0)
    for k in range(a.size):
        total += a[k] * b[k]
    return total


@jit_inline
def dot4(a, b0, b1, b2, b3):
    """(a . b0, a . b1, a . b2, a . b3) for 1-d float32 arrays of one length: one load of a
    serves four FMAs, and the four sums are independent chains."""
    s0 = s1 = s2 = s3 = np.float32(0.0)
    for k in range(a.size):
        x = a[k]
        s0 += x * b0[k]
        s1 += x * b1[k]
        s2 += x * b2[k]
        s3 += x * b3[k]
    return s0, s1, s2, s3


@jit_inline
def dot4x4(a0, a1, a2, a3, b0, b1, b2, b3):
    """The 16 dot products a_i . b_j (i, j in 0..3; 1-d float32 arrays of one length), as a
    flat tuple (a0.b0, a0.b1, ..., a3.b3): eight loads serve sixteen FMAs, half the loads
    per FMA of ``dot4``."""
    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = np.float32(0.0)
    s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = np.float32(0.0)
    for k in range(a0.size):
        x0 = a0[k]
        x1 = a1[k]
        x2 = a2[k]
        x3 = a3[k]
        y0 = b0[k]
        y1 = b1[k]
        y2 = b2[k]
        y3 = b3[k]
        s00 += x0 * y0
        s01 += x0 * y1
        s02 += x0 * y2
        s03 += x0 * y3
        s10 += x1 * y0
        s11 += x1 * y1
        s12 += x1 * y2
        s13 += x1 * y3
        s20 += x2 * y0
        s21 += x2 * y1
        s22 += x2 * y2
        s23 += x2 * y3
        s30 += x3 * y0
        s31 += x3 * y1
        s32 += x3 * y2
        s33 += x3 * y3
    return (s00, s01, s02, s03, s10, s11, s12, s13,
            s20, s21, s22, s23, s30, s31, s32, s33)


@jit_inline
def _is_narrow(x):
    """Whether x is short enough for ``_narrow_columns`` (and its rows stay in L1)."""
    return x.shape[0] <= _NARROW_MAX_ROWS and x.size * 4 <= _NARROW_MAX_X_BYTES


@jit_inline
def _narrow_columns(x, w, y, begin, end):
    """y[:, begin:end] = x @ w[begin:end].T for a narrow x (``_is_narrow``).

    One weight row at a time, in memory order (a single stream that the hardware
    prefetcher follows), against four rows of x at a time. The 4x3 tiles read three short
    rows at once and streamed decode weights at under half the read bandwidth (1-8 rows
    of 512: 1.3-2.5x slower than this); with longer rows of x, which no longer stay in
    L1, the tiles are faster."""
    m = x.shape[0]
    full = m // 4 * 4
    for j in range(begin, end):
        wr = w[j]
        for i in range(0, full, 4):
            y[i, j], y[i + 1, j], y[i + 2, j], y[i + 3, j] = dot4(wr, x[i], x[i + 1], x[i + 2],
                                                                  x[i + 3])
        for i in range(full, m):
            y[i, j] = dot(x[i], wr)


@jit_inline
def _column_range(chunk, chunks, n):
    """Weight rows [begin, end) of task ``chunk`` of ``chunks``, cut at tile boundaries."""
    begin = (chunk * n // chunks) // _TILE_COLS * _TILE_COLS
    end = n if chunk == chunks - 1 else ((chunk + 1) * n // chunks) // _TILE_COLS * _TILE_COLS
    return begin, end


@jit_parallel
def grouped_nt(x, w, y, starts, col_chunks):
    """y[s:t] = x[s:t] @ w[e].T for every group e with rows s, t = starts[e], starts[e + 1]
    (x[rows, k], w[groups, n, k], y[rows, n]): every group's GEMM in one parallel region,
    tasks over (group, block of weight rows), so each weight byte is read once."""
    n = w.shape[1]
    for task in prange((starts.size - 1) * col_chunks):
        e = task // col_chunks
        cc = task - e * col_chunks
        rows = starts[e + 1] - starts[e]
        if rows == 0:
            continue
        xe = x[starts[e]:starts[e + 1]]
        ye = y[starts[e]:starts[e + 1]]
        we = w[e]
        c_begin, c_end = _column_range(cc, col_chunks, n)
        if _is_narrow(xe):
            _narrow_columns(xe, we, ye, c_begin, c_end)
            continue
        full = rows // _TILE_ROWS * _TILE_ROWS
        for j0 in range(c_begin, c_end, _TILE_COLS):
            for i0 in range(0, full, _TILE_ROWS):
                _tile_4x3(xe, we, ye, i0, j0)
            for i in range(full, rows):
                _tile_1x3(xe, we, ye, i, j0)


@jit_parallel
def _gemm_nt(x, w, y, row_chunks, col_chunks, block_cols):
    """y = x @ w.T over a row_chunks x col_chunks grid of tasks (x[m, k], w[n, k], y[m, n])."""
    m = x.shape[0]
    n = w.shape[0]
    full_tiles = m // _TILE_ROWS
    row_tiles = full_tiles + (m - full_tiles * _TILE_ROWS)
    for task in prange(row_chunks * col_chunks):
        rc = task // col_chunks
        cc = task - rc * col_chunks
        t_begin = rc * row_tiles // row_chunks
        t_end = (rc + 1) * row_tiles // row_chunks
        c_begin, c_end = _column_range(cc, col_chunks, n)
        if _is_narrow(x):
            _narrow_columns(x, w, y, c_begin, c_end)
            continue
        for jb in range(c_begin, c_end, block_cols):
            jb_end = min(jb + block_cols, c_end)
            for t in range(t_begin, t_end):
                for j0 in range(jb, jb_end, _TILE_COLS):
                    if t < full_tiles:
                        _tile_4x3(x, w, y, t * _TILE_ROWS, j0)
                    else:
                        _tile_1x3(x, w, y, full_tiles * _TILE_ROWS + t - full_tiles, j0)


@jit_parallel
def _bias_activation(y, bias, code):
    """In place: y[i, :] = activate(y[i, :] + bias)."""
    for i in prange(y.shape[0]):
        row = y[i]
        for j in range(row.size):
            row[j] += bias[j]
        activate_into(code, row, row)


@jit_parallel
def swiglu_gate(gate, up):
    """In place: gate = silu(gate) * up."""
    for i in prange(gate.shape[0]):
        for j in range(gate.shape[1]):
            gate[i, j] = silu_scalar(gate[i, j]) * up[i, j]


def matmul_nt(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """x @ weight.T for validated C-contiguous float32 x[m, k] and weight[n, k]; no checks.

    Shared by the other kernel modules (dcn_cross, moe_ffn) that have validated already.
    """
    m, n = x.shape[0], weight.shape[0]
    y = np.empty((m, n), dtype=np.float32)
    if m == 0 or n == 0:
        return y
    if x.shape[1] == 0:
        y.fill(0.0)
        return y
    threads = numba.get_num_threads()
    if m >= ROW_SPLIT_MIN_ROWS:
        row_chunks, col_chunks = min(threads, -(-m // _TILE_ROWS)), 1
    else:
        row_chunks, col_chunks = 1, max(1, min(4 * threads, n // _TILE_COLS))
    block_cols = max(_TILE_COLS, _L2_BLOCK_BYTES // (4 * x.shape[1]) // _TILE_COLS * _TILE_COLS)
    _gemm_nt(x, weight, y, row_chunks, col_chunks, block_cols)
    return y


def linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None,
           activation: str | None = None) -> np.ndarray:
    """activation(x @ weight.T + bias), as ``torch.nn.functional.linear`` then the activation.

    x: [tokens, in]; weight: [out, in]; bias: [out] or None; activation: None, "relu",
    "gelu" (tanh approximation) or "silu". Returns float32 [tokens, out].
    """
    x = _validate.floats("x", x, 2)
    weight = _validate.floats("weight", weight, 2)
    _validate.shape("weight", weight, (None, x.shape[1]))
    code = activation_code(activation)
    y = matmul_nt(x, weight)
    if bias is not None or code:
        bias = np.zeros(weight.shape[0], np.float32) if bias is None else _validate.floats("bias", bias, 1)
        _validate.shape("bias", bias, (weight.shape[0],))
        _bias_activation(y, bias, code)
    return y


def linear_reference(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None,
                     activation: str | None = None) -> np.ndarray:
    """numpy (float64) reference for ``linear``."""
    y = np.asarray(x, np.float64) @ np.asarray(weight, np.float64).T
    if bias is not None:
        y = y + np.asarray(bias, np.float64)
    return activation_reference(y, activation)


def swiglu_ffn(x: np.ndarray, w_gate: np.ndarray, w_up: np.ndarray, w_down: np.ndarray) -> np.ndarray:
    """Llama-style feed-forward: (silu(x @ w_gate.T) * (x @ w_up.T)) @ w_down.T.

    x: [tokens, d]; w_gate, w_up: [ff, d]; w_down: [d, ff]. Returns float32 [tokens, d].
    """
    x = _validate.floats("x", x, 2)
    w_gate = _validate.floats("w_gate", w_gate, 2)
    _validate.shape("w_gate", w_gate, (None, x.shape[1]))
    w_up = _validate.floats("w_up", w_up, 2)
    _validate.shape("w_up", w_up, w_gate.shape)
    w_down = _validate.floats("w_down", w_down, 2)
    _validate.shape("w_down", w_down, (x.shape[1], w_gate.shape[0]))
    return swiglu_core(x, w_gate, w_up, w_down)


def swiglu_core(x: np.ndarray, w_gate: np.ndarray, w_up: np.ndarray, w_down: np.ndarray) -> np.ndarray:
    """``swiglu_ffn`` on validated float32 arrays; no checks (reused per expert by moe_ffn)."""
    gate = matmul_nt(x, w_gate)
    swiglu_gate(gate, matmul_nt(x, w_up))
    return matmul_nt(gate, w_down)


def swiglu_ffn_reference(x: np.ndarray, w_gate: np.ndarray, w_up: np.ndarray,
                         w_down: np.ndarray) -> np.ndarray:
    """numpy (float64) reference for ``swiglu_ffn``."""
    x = np.asarray(x, np.float64)
    gate = x @ np.asarray(w_gate, np.float64).T
    hidden = gate / (1.0 + np.exp(-gate)) * (x @ np.asarray(w_up, np.float64).T)
    return (hidden @ np.asarray(w_down, np.float64).T).astype(np.float32)
