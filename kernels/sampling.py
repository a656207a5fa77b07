"""Top-k selection and next-token sampling (greedy, top-k + top-p with a seed).

Random numbers come from numpy's seeded generator in the wrapper, one uniform per row,
so the kernel and its reference draw the same token for the same seed.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import prange

from kernels import _validate
from kernels._jit import jit, jit_inline, jit_parallel, max_f32
from kernels.linear import ROW_SPLIT_MIN_ROWS
from perfmodel.errors import SeedchipError


_TOPK_CHUNK = 64
_THRESHOLD_MIN_K = 8  # fewer wanted entries: the scan inserts so few that it is faster
_THRESHOLD_MIN_CHUNKS_PER_K = 4  # rows shorter than this per wanted entry: the scan too
_BLOCK_MIN_COLUMNS = 4096  # shorter column blocks: one thread takes whole rows


@jit_inline
def row_topk(row, k, values, positions):
    """The k largest entries of ``row`` into values/positions, descending; ties keep lower index.

    A row of many chunks per wanted entry, for k of 8 or more, goes through
    ``_threshold_topk`` (side by side: [4, 65536] k = 100 85 -> 35 us, top-50 sampling of
    [8, 32000] 166 -> 87 us); a short row, a small k, or a row the threshold cannot settle
    (NaN, -inf among the winners) through ``_scan_topk``."""
    chunks = (row.size + _TOPK_CHUNK - 1) // _TOPK_CHUNK
    if (k < _THRESHOLD_MIN_K or chunks < _THRESHOLD_MIN_CHUNKS_PER_K * k
            or not _threshold_topk(row, k, values, positions)):
        _scan_topk(row, k, values, positions)


@jit_inline
def _threshold_topk(row, k, values, positions):
    """Top k by a threshold: the k-th largest of the chunk maxima is no larger than the
    k-th largest entry (k chunks reach it), so only entries >= it in chunks whose maximum
    reaches it can win; those few are sorted. The scan is a vectorised max per chunk
    instead of an insertion per new leader. Returns False, leaving values/positions
    unspecified, when fewer than k entries pass (NaN or -inf among the winners)."""
    chunks = (row.size + _TOPK_CHUNK - 1) // _TOPK_CHUNK
    maxima = np.empty(chunks, np.float32)
    for c in range(chunks):
        maxima[c] = max_f32(row[c * _TOPK_CHUNK:(c + 1) * _TOPK_CHUNK])
    threshold = np.partition(maxima, chunks - k)[chunks - k]
    reaching = 0
    for c in range(chunks):
        if maxima[c] >= threshold:
            reaching += 1
    candidates = np.empty(reaching * _TOPK_CHUNK, np.float32)
    where = np.empty(reaching * _TOPK_CHUNK, np.int64)
    count = 0
    for c in range(chunks):
        if maxima[c] >= threshold:
            for i in range(c * _TOPK_CHUNK, min(row.size, (c + 1) * _TOPK_CHUNK)):
                if row[i] >= threshold:
                    candidates[count] = row[i]
                    where[count] = i
                    count += 1
    if count < k:
        return False
    order = np.argsort(-candidates[:count], kind="mergesort")  # stable: ties by index
    for j in range(k):
        values[j] = candidates[order[j]]
        positions[j] = where[order[j]]
    return True


@jit_inline
def _scan_topk(row, k, values, positions):
    """``row_topk`` by one scan: once k entries are held, a chunk of the row whose
    (vectorised) maximum does not beat the k-th is skipped whole: on a long row almost
    every chunk is, so the scan runs at the speed of a max reduction instead of one
    compare and branch per element."""
    count = 0
    for start in range(0, row.size, _TOPK_CHUNK):
        chunk = row[start:start + _TOPK_CHUNK]
        if count == k and not max_f32(chunk) > values[k - 1]:
            continue
        for c in range(chunk.size):
            v = chunk[c]
            if count == k:
                if not v > values[k - 1]:
                    continue
                slot = k - 1
            else:
                slot = count
                count += 1
            while slot > 0 and v > values[slot - 1]:
                values[slot] = values[slot - 1]
                positions[slot] = positions[slot - 1]
                slot -= 1
            values[slot] = v
            positions[slot] = start + c


@jit_parallel
def _topk_kernel(x, k, values, positions):
    for r in prange(x.shape[0]):
        row_topk(x[r], k, values[r], positions[r])


@jit_parallel
def _block_topk_kernel(x, k, blocks, block_values, block_positions):
    """block_values/positions[r, b] = the k largest of row r within column block b of
    ``blocks`` equal ones, descending, indices into the whole row; one block a task."""
    n = x.shape[1]
    for b in prange(blocks):
        begin = b * n // blocks
        end = (b + 1) * n // blocks
        for r in range(x.shape[0]):
            row_topk(x[r, begin:end], k, block_values[r, b], block_positions[r, b])
            for j in range(k):
                block_positions[r, b, j] += begin


@jit
def _merge_blocks(block_values, block_positions, values, positions):
    """values/positions[r] = the k largest of row r's blocks' descending lists: a merge
    that takes the lower block (so the lower index) on ties."""
    blocks, k = block_values.shape[1], block_values.shape[2]
    heads = np.zeros(blocks, np.int64)
    for r in range(block_values.shape[0]):
        heads[:] = 0
        for j in range(k):
            best = -1
            for b in range(blocks):
                if heads[b] < k and (best < 0 or
                                     block_values[r, b, heads[b]] > block_values[r, best, heads[best]]):
                    best = b
            values[r, j] = block_values[r, best, heads[best]]
            positions[r, j] = block_positions[r, best, heads[best]]
            heads[best] += 1


def _column_blocks(rows: int, cols: int, k: int) -> int:
    """How many column blocks ``topk`` splits each row into: one per thread for a batch
    that ``linear`` splits by columns (fewer than ROW_SPLIT_MIN_ROWS rows), as long as
    blocks keep _BLOCK_MIN_COLUMNS and k columns; else 1 (threads take whole rows)."""
    if rows >= ROW_SPLIT_MIN_ROWS:
        return 1
    return max(1, min(numba.get_num_threads(), cols // max(k, _BLOCK_MIN_COLUMNS)))


@jit_parallel
def _greedy_kernel(logits, out):
    for r in prange(logits.shape[0]):
        row = logits[r]
        best = 0
        for i in range(1, row.size):
            if row[i] > row[best]:
                best = i
        out[r] = best


@jit
def _sample_kernel(logits, top_k, top_p, inv_temperature, uniforms, out):
    values = np.empty(top_k, np.float32)
    positions = np.empty(top_k, np.int64)
    cumulative = np.empty(top_k, np.float64)
    for r in range(logits.shape[0]):
        row_topk(logits[r], top_k, values, positions)
        total = 0.0
        for i in range(top_k):
            total += math.exp((float(values[i]) - float(values[0])) * inv_temperature)
            cumulative[i] = total
        keep = top_k
        for i in range(top_k):
            if cumulative[i] >= top_p * total:
                keep = i + 1
                break
        target = uniforms[r] * cumulative[keep - 1]
        chosen = keep - 1
        for i in range(keep):
            if cumulative[i] > target:
                chosen = i
                break
        out[r] = positions[chosen]


def topk(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k largest entries of each row, descending, as ``torch.topk(x, k, dim=-1)``.

    x: [rows, n]; 1 <= k <= n. Returns (values float32 [rows, k], indices int64 [rows, k]);
    equal values keep the lower index first.

    Threads take whole rows of a large batch; a few long rows (``_column_blocks``) are cut
    into one block of columns per thread, whose winners are then merged, so that each
    thread reads the scores it wrote when ``linear`` (which splits a narrow batch's output
    columns alike) made them. With rows split among threads, half the scores crossed
    between the caches of this host's two CPUs whenever those sat on two core complexes:
    linear -> topk of [4, 65536] scores took 514 us, the two 265 and 39 alone; by blocks
    329 us (side by side over 90 s; on one complex 295 by rows, 311 by blocks; the top-k
    alone costs 52-60 us by blocks, as each block pays the threshold search's k-sized work).
    """
    x = _validate.floats("x", x, 2)
    k = _validate.positive("k", k, x.shape[1])
    rows = x.shape[0]
    values = np.empty((rows, k), np.float32)
    positions = np.empty((rows, k), np.int64)
    blocks = _column_blocks(rows, x.shape[1], k)
    if blocks == 1:
        _topk_kernel(x, k, values, positions)
        return values, positions
    block_values = np.empty((rows, blocks, k), np.float32)
    block_positions = np.empty((rows, blocks, k), np.int64)
    _block_topk_kernel(x, k, blocks, block_values, block_positions)
    _merge_blocks(block_values, block_positions, values, positions)
    return values, positions


def topk_reference(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """numpy reference for ``topk`` (stable argsort, so ties keep the lower index)."""
    positions = np.argsort(-np.asarray(x, np.float32), axis=-1, kind="stable")[:, :k]
    return np.take_along_axis(np.asarray(x, np.float32), positions, axis=-1), positions


def greedy(logits: np.ndarray) -> np.ndarray:
    """Argmax token per row (the first on ties); logits: [rows, vocab] -> int64 [rows]."""
    logits = _validate.floats("logits", logits, 2)
    _validate.positive("logits.shape[1]", logits.shape[1])
    out = np.empty(logits.shape[0], np.int64)
    _greedy_kernel(logits, out)
    return out


def greedy_reference(logits: np.ndarray) -> np.ndarray:
    """numpy reference for ``greedy``."""
    return np.argmax(logits, axis=-1).astype(np.int64)


def _uniforms(rows: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(rows)


def sample_top_k_top_p(logits: np.ndarray, top_k: int, top_p: float = 1.0, temperature: float = 1.0,
                       seed: int = 0) -> np.ndarray:
    """Sample one token per row from softmax(logits / temperature) cut to top-k, then top-p.

    Keeps the top_k most likely tokens, then the smallest prefix of them whose probability
    reaches top_p, renormalises and samples by inverse CDF with one uniform per row from
    ``numpy.random.default_rng(seed)``. logits: [rows, vocab]; 1 <= top_k <= vocab;
    0 < top_p <= 1; temperature > 0. Returns int64 [rows].
    """
    logits = _validate.floats("logits", logits, 2)
    top_k = _validate.positive("top_k", top_k, logits.shape[1])
    if not 0.0 < top_p <= 1.0:
        raise SeedchipError(f"top_p: expected 0 < top_p <= 1, got {top_p!r}")
    if not temperature > 0.0:
        raise SeedchipError(f"temperature: expected > 0, got {temperature!r}")
    out = np.empty(logits.shape[0], np.int64)
    _sample_kernel(logits, top_k, float(top_p), 1.0 / float(temperature), _uniforms(logits.shape[0], seed), out)
    return out


def sample_top_k_top_p_reference(logits: np.ndarray, top_k: int, top_p: float = 1.0,
                                 temperature: float = 1.0, seed: int = 0) -> np.ndarray:
    """numpy reference for ``sample_top_k_top_p`` (same uniforms, same cut rules)."""
    values, positions = topk_reference(logits, top_k)
    cumulative = np.cumsum(np.exp((values.astype(np.float64) - values[:, :1]) / temperature), axis=-1)
    out = np.empty(len(values), np.int64)
    for r, u in enumerate(_uniforms(len(values), seed)):
        keep = int(np.argmax(cumulative[r] >= top_p * cumulative[r, -1])) + 1
        chosen = min(int(np.searchsorted(cumulative[r, :keep], u * cumulative[r, keep - 1], side="right")), keep - 1)
        out[r] = positions[r, chosen]
    return out
