"""Embedding bags: pooled (sum or mean, optionally weighted) rows of a table.

One jitted core serves float32, float16 and row-wise int8 tables; only the read of a table
element differs (``_element``), and float16 is widened through a 65536-entry lookup table
because Numba on the CPU has no float16 arithmetic. Accumulation is float32. Bags are split
across threads, and the rows of upcoming indices are prefetched so that several random
rows are in flight at once.
"""

from __future__ import annotations

import numpy as np
from numba import prange, types
from numba.extending import overload

from kernels import _validate
from kernels._jit import jit_parallel, prefetch
from perfmodel.errors import SeedchipError

MODES = ("sum", "mean")
_PREFETCH_AHEAD = 8
_CACHE_LINE_BYTES = 64
_HALF_TO_FLOAT = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(np.float32)
_NO_LUT = np.zeros(0, np.float32)
_NO_ROWS = np.zeros(0, np.float32)


def _element(table, lut, row, col):
    """table[row, col] as float32 (float16 bits go through ``lut``); compiled via overload."""


@overload(_element, inline="always")
def _element_overload(table, lut, row, col):
    if table.dtype == types.uint16:
        return lambda table, lut, row, col: lut[table[row, col]]
    return lambda table, lut, row, col: np.float32(table[row, col])


@jit_parallel
def _bag_kernel(table, lut, scales, biases, indices, offsets, weights, mean, out):
    """out[b] = pool over p in bag b of weights[p] * (scales[r] * table[r] + biases[r]), r = indices[p].

    Empty ``weights`` means all ones; empty ``scales``/``biases`` mean 1 and 0.
    """
    n_bags = offsets.size
    n_indices = indices.size
    dim = table.shape[1]
    flat = table.reshape(table.size)
    line = max(1, _CACHE_LINE_BYTES // table.itemsize)
    weighted = weights.size > 0
    quantized = scales.size > 0
    for bag in prange(n_bags):
        start = offsets[bag]
        end = offsets[bag + 1] if bag + 1 < n_bags else n_indices
        acc = out[bag]
        acc[:] = 0.0
        shift = np.float32(0.0)
        for p in range(start, end):
            if p + _PREFETCH_AHEAD < n_indices:
                ahead = indices[p + _PREFETCH_AHEAD] * dim
                for c in range(0, dim, line):
                    prefetch(flat, ahead + c)
            row = indices[p]
            w = weights[p] if weighted else np.float32(1.0)
            factor = w * scales[row] if quantized else w
            if quantized:
                shift += w * biases[row]
            for j in range(dim):
                acc[j] += factor * _element(table, lut, row, j)
        count = end - start
        if mean and count > 0:
            inv = np.float32(1.0) / np.float32(count)
            shift *= inv
            for j in range(dim):
                acc[j] *= inv
        if quantized:
            for j in range(dim):
                acc[j] += shift


def _bag_inputs(n_rows: int, indices: np.ndarray, offsets: np.ndarray, mode: str,
                per_sample_weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated indices, offsets and weights (empty when None) for a table of ``n_rows``."""
    _validate.choice("mode", mode, MODES)
    indices = _validate.indices("indices", indices, 1, upper=n_rows)
    offsets = _validate.offsets("offsets", offsets, indices.size)
    if per_sample_weights is None:
        return indices, offsets, _NO_ROWS
    if mode != "sum":
        raise SeedchipError("per_sample_weights: only supported with mode='sum' (as in torch)")
    weights = _validate.floats("per_sample_weights", per_sample_weights, 1)
    _validate.shape("per_sample_weights", weights, indices.shape)
    return indices, offsets, weights


def embedding_bag(table: np.ndarray, indices: np.ndarray, offsets: np.ndarray, mode: str = "sum",
                  per_sample_weights: np.ndarray | None = None) -> np.ndarray:
    """Pool table rows per bag, as ``torch.nn.functional.embedding_bag`` (1-d input + offsets).

    table: [rows, dim] float32 or float16; indices: [n] ints in [0, rows); offsets: [bags]
    non-decreasing starts (bag b is indices[offsets[b]:offsets[b+1]], the last runs to n);
    mode: "sum" or "mean"; per_sample_weights: [n] (sum mode only). Empty bags give zeros.
    Returns float32 [bags, dim], accumulated in float32.
    """
    table = _validate.array("table", table, 2, (np.float32, np.float16))
    lut = _HALF_TO_FLOAT if table.dtype == np.float16 else _NO_LUT
    storage = table.view(np.uint16) if table.dtype == np.float16 else table
    indices, offsets, weights = _bag_inputs(table.shape[0], indices, offsets, mode, per_sample_weights)
    out = np.empty((offsets.size, table.shape[1]), np.float32)
    _bag_kernel(storage, lut, _NO_ROWS, _NO_ROWS, indices, offsets, weights, mode == "mean", out)
    return out


def embedding_bag_int8(table_q: np.ndarray, scales: np.ndarray, biases: np.ndarray,
                       indices: np.ndarray, offsets: np.ndarray, mode: str = "sum",
                       per_sample_weights: np.ndarray | None = None) -> np.ndarray:
    """``embedding_bag`` over a row-wise int8 table whose row r means q[r] * scales[r] + biases[r].

    table_q: [rows, dim] int8; scales, biases: [rows] float. Other arguments and the result
    as in ``embedding_bag``; dequantisation and accumulation are float32.
    """
    table_q = _validate.array("table_q", table_q, 2, (np.int8,))
    scales = _validate.floats("scales", scales, 1)
    _validate.shape("scales", scales, (table_q.shape[0],))
    biases = _validate.floats("biases", biases, 1)
    _validate.shape("biases", biases, (table_q.shape[0],))
    indices, offsets, weights = _bag_inputs(table_q.shape[0], indices, offsets, mode, per_sample_weights)
    out = np.empty((offsets.size, table_q.shape[1]), np.float32)
    _bag_kernel(table_q, _NO_LUT, scales, biases, indices, offsets, weights, mode == "mean", out)
    return out


def embedding_bag_reference(table: np.ndarray, indices: np.ndarray, offsets: np.ndarray,
                            mode: str = "sum", per_sample_weights: np.ndarray | None = None,
                            scales: np.ndarray | None = None,
                            biases: np.ndarray | None = None) -> np.ndarray:
    """numpy (float64) reference for both bag kernels; pass ``scales``/``biases`` for int8."""
    rows = np.asarray(table)[np.asarray(indices)].astype(np.float64)
    if scales is not None:
        rows = rows * np.asarray(scales, np.float64)[indices, None] + np.asarray(biases, np.float64)[indices, None]
    if per_sample_weights is not None:
        rows = rows * np.asarray(per_sample_weights, np.float64)[:, None]
    ends = np.append(np.asarray(offsets)[1:], len(indices))
    out = np.zeros((len(offsets), rows.shape[1]))
    for bag, (start, end) in enumerate(zip(offsets, ends)):
        if end > start:
            out[bag] = rows[start:end].sum(axis=0) / (end - start if mode == "mean" else 1)
    return out.astype(np.float32)
