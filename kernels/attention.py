"""Attention: causal prefill and KV-cache decode with grouped-query heads, and rotary embedding.

Query head h reads key/value head h // (n_heads // n_kv_heads). Scores are scaled by
1/sqrt(head_dim); softmax and accumulation are float32. Prefill is flash attention: a tile
of ~128 query rows (all heads of one kv group, so K/V are read once per group) walks key
blocks, with Q K^T and P V as cache-resident GEMMs (``linear``'s register tiles) and an
online softmax between them; each kv head's keys and (transposed) values are packed once
per call into the layout those GEMMs read, and a causal tile scores keys only up to its
own diagonal. Decode walks each sequence's cache
once in memory order (all kv heads of position t together) in blocks of keys: every
head's scores for the block, then one online-softmax update per head and block (running
max, running sum, rescaled accumulator); long contexts are split into chunks across
threads and merged at the end (flash-decoding).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import prange

from kernels import _validate
from kernels._jit import NEG_LARGE, exp_f32, jit_inline, jit_parallel, max_f32, prefetch
from kernels.linear import dot, dot4, dot4x4, gemm_nt_block
from perfmodel.errors import SeedchipError

_TILE_ROWS = 128
_KEY_BLOCK = 128
_DECODE_BLOCK = 64  # keys scored before each online-softmax update in decode


@jit_inline
def _load_queries(q, b, hk, group, i0, scale, qs):
    """qs[i * group + g] = scale * q[b, i0 + i, hk * group + g] for the tile's queries."""
    head_dim = q.shape[3]
    for r in range(qs.shape[0]):
        i = i0 + r // group
        h = hk * group + r % group
        for d in range(head_dim):
            qs[r, d] = q[b, i, h, d] * scale


@jit_parallel
def _pack_keys_values(k, v, k_packed, v_packed):
    """Each kv head's keys and values laid out as the tiles' GEMMs read them, once per call
    rather than once per query tile: k_packed[b, hk, t] = k[b, t, hk] (contiguous rows) and
    v_packed[b, hk, block, d, j] = v[b, block * _KEY_BLOCK + j, hk, d] (V transposed per
    key block, so that P V is an NT product like Q K^T; zero past the sequence)."""
    batch, seq, n_kv_heads, head_dim = v.shape
    for pair in prange(batch * n_kv_heads):
        b = pair // n_kv_heads
        hk = pair - b * n_kv_heads
        for t in range(seq):
            k_packed[b, hk, t] = k[b, t, hk]
            block = t // _KEY_BLOCK
            j = t - block * _KEY_BLOCK
            for d in range(head_dim):
                v_packed[b, hk, block, d, j] = v[b, t, hk, d]
        tail = seq - (v_packed.shape[2] - 1) * _KEY_BLOCK
        v_packed[b, hk, -1, :, tail:] = 0.0


@jit_inline
def _softmax_block(scores, group, i0, t0, n_keys, causal, top, total, alpha):
    """Online softmax over one key block: scores become weights (0 for masked keys), and each
    row's running max and sum are updated; alpha[r] rescales what the row accumulated so far."""
    for r in range(scores.shape[0]):
        row = scores[r]
        valid = min(n_keys, i0 + r // group - t0 + 1) if causal else n_keys
        if valid <= 0:
            row[:] = 0.0
            alpha[r] = 1.0
            continue
        new_top = max(top[r], max_f32(row[:valid]))
        alpha[r] = exp_f32(top[r] - new_top)
        top[r] = new_top
        part = np.float32(0.0)
        for t in range(valid):
            p = exp_f32(row[t] - new_top)
            row[t] = p
            part += p
        row[valid:] = 0.0
        total[r] = total[r] * alpha[r] + part


@jit_inline
def _rescale_add(acc, alpha, part):
    """acc[r] = acc[r] * alpha[r] + part[r]."""
    for r in range(acc.shape[0]):
        a = alpha[r]
        for d in range(acc.shape[1]):
            acc[r, d] = acc[r, d] * a + part[r, d]


@jit_inline
def _prefill_tile(q, k_packed, v_packed, causal, scale, b, hk, i0, n_queries, out):
    """Queries i0 .. i0 + n_queries of all heads in kv group hk: flash-attention over key
    blocks, with Q K^T and P V as cache-resident GEMMs and K/V read once for the group."""
    seq, head_dim = q.shape[1], q.shape[3]
    group = q.shape[2] // k_packed.shape[1]
    rows = n_queries * group
    qs = np.empty((rows, head_dim), np.float32)
    scores = np.empty((rows, _KEY_BLOCK), np.float32)
    part = np.empty((rows, head_dim), np.float32)
    acc = np.zeros((rows, head_dim), np.float32)
    top = np.full(rows, NEG_LARGE, np.float32)
    total = np.zeros(rows, np.float32)
    alpha = np.empty(rows, np.float32)
    _load_queries(q, b, hk, group, i0, scale, qs)
    key_end = min(seq, i0 + n_queries) if causal else seq
    for t0 in range(0, key_end, _KEY_BLOCK):
        # scores only for keys some query of the tile sees (a causal tile stops at its own
        # diagonal); the softmax zeroes the weights of the rest of the block
        n_keys = min(_KEY_BLOCK, key_end - t0)
        gemm_nt_block(qs, k_packed[b, hk, t0:t0 + n_keys], scores)
        _softmax_block(scores, group, i0, t0, n_keys, causal, top, total, alpha)
        gemm_nt_block(scores, v_packed[b, hk, t0 // _KEY_BLOCK], part)
        _rescale_add(acc, alpha, part)
    for r in range(rows):
        inv = np.float32(1.0) / total[r]
        for d in range(head_dim):
            out[b, i0 + r // group, hk * group + r % group, d] = acc[r, d] * inv


@jit_parallel
def _prefill_kernel(q, k_packed, v_packed, causal, scale, tile_queries, out):
    batch, seq, n_heads, _ = q.shape
    n_kv_heads = k_packed.shape[1]
    n_tiles = (seq + tile_queries - 1) // tile_queries
    for task in prange(batch * n_kv_heads * n_tiles):
        pair = task // n_tiles
        j = task - pair * n_tiles
        b = pair // n_kv_heads
        hk = pair - b * n_kv_heads
        # zig-zag order (first, last, second, ...) evens out causal work across threads
        tile = j // 2 if j % 2 == 0 else n_tiles - 1 - j // 2
        i0 = tile * tile_queries
        _prefill_tile(q, k_packed, v_packed, causal, scale, b, hk, i0,
                      min(tile_queries, seq - i0), out)


def _check_heads(n_heads: int, n_kv_heads: int) -> int:
    if n_kv_heads == 0 or n_heads % n_kv_heads:
        raise SeedchipError(f"k: n_kv_heads ({n_kv_heads}) must divide n_heads ({n_heads})")
    return n_heads // n_kv_heads


def attention_prefill(q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool = True) -> np.ndarray:
    """softmax(q k^T / sqrt(head_dim)) v per batch and head, query i seeing keys <= i if causal.

    q: [batch, seq, n_heads, head_dim]; k, v: [batch, seq, n_kv_heads, head_dim] with
    n_kv_heads dividing n_heads (GQA; equal for MHA). Returns float32 of q's shape.
    """
    q = _validate.floats("q", q, 4)
    k = _validate.floats("k", k, 4)
    _validate.shape("k", k, (q.shape[0], q.shape[1], None, q.shape[3]))
    v = _validate.floats("v", v, 4)
    _validate.shape("v", v, k.shape)
    group = _check_heads(q.shape[2], k.shape[2])
    out = np.empty_like(q)
    if out.size:
        tile_queries = max(1, _TILE_ROWS // group)
        batch, seq, n_kv_heads, head_dim = k.shape
        k_packed = np.empty((batch, n_kv_heads, seq, head_dim), np.float32)
        blocks = -(-seq // _KEY_BLOCK)
        v_packed = np.empty((batch, n_kv_heads, blocks, head_dim, _KEY_BLOCK), np.float32)
        _pack_keys_values(k, v, k_packed, v_packed)
        _prefill_kernel(q, k_packed, v_packed, bool(causal),
                        np.float32(1.0 / math.sqrt(max(q.shape[3], 1))), tile_queries, out)
    return out


def attention_prefill_reference(q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool = True) -> np.ndarray:
    """numpy float32 einsum reference for ``attention_prefill``."""
    batch, seq, n_heads, head_dim = q.shape
    group = n_heads // k.shape[2]
    k = np.repeat(k, group, axis=2)
    v = np.repeat(v, group, axis=2)
    scores = np.einsum("bihd,bthd->bhit", q, k, optimize=True) / np.float32(math.sqrt(head_dim))
    if causal:
        scores = np.where(np.tril(np.ones((seq, seq), bool)), scores, -np.inf)
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    scores /= scores.sum(axis=-1, keepdims=True)
    return np.einsum("bhit,bthd->bihd", scores, v, optimize=True).astype(np.float32)


@jit_inline
def _score_block(qb, keys, group, scale, scores):
    """scores[h, t] = scale * qb[h] . keys[t, h // group] for every key t of the block.

    Four keys per pass: against four query heads of one kv group at a time (``dot4x4``)
    when the group size is a multiple of four, else against each head (``dot4``)."""
    n_keys = keys.shape[0]
    full = n_keys // 4 * 4
    for t in range(0, full, 4):
        if group % 4 == 0:
            for hk in range(keys.shape[1]):
                k0, k1, k2, k3 = keys[t, hk], keys[t + 1, hk], keys[t + 2, hk], keys[t + 3, hk]
                for h in range(hk * group, (hk + 1) * group, 4):
                    tile = dot4x4(qb[h], qb[h + 1], qb[h + 2], qb[h + 3], k0, k1, k2, k3)
                    for i in range(4):
                        for j in range(4):
                            scores[h + i, t + j] = tile[4 * i + j] * scale
            continue
        for h in range(qb.shape[0]):
            qh = qb[h]
            hk = h // group
            s0, s1, s2, s3 = dot4(qh, keys[t, hk], keys[t + 1, hk], keys[t + 2, hk],
                                  keys[t + 3, hk])
            scores[h, t] = s0 * scale
            scores[h, t + 1] = s1 * scale
            scores[h, t + 2] = s2 * scale
            scores[h, t + 3] = s3 * scale
    for t in range(full, n_keys):
        for h in range(qb.shape[0]):
            scores[h, t] = dot(qb[h], keys[t, h // group]) * scale


@jit_inline
def _accumulate_block(weights, values, group, acc):
    """acc[h] += sum over the block's keys t of weights[h, t] * values[t, h // group].

    Four value rows per pass over an accumulator row: one load and one store of it serve
    four FMAs. When the group size is even, each pass serves two heads of one kv group, so
    each value element loaded serves two FMAs (side by side with one head a pass, on this
    host's validation shapes of even groups: decode attention 4-9% faster)."""
    if group % 2 != 0:
        _accumulate_heads(weights, values, group, acc)
        return
    n_keys = values.shape[0]
    full = n_keys // 4 * 4
    for t in range(0, full, 4):
        for h in range(0, acc.shape[0], 2):
            first = acc[h]
            second = acc[h + 1]
            hk = h // group
            v0, v1, v2, v3 = values[t, hk], values[t + 1, hk], values[t + 2, hk], values[t + 3, hk]
            a0, a1, a2, a3 = weights[h, t], weights[h, t + 1], weights[h, t + 2], weights[h, t + 3]
            b0, b1, b2, b3 = (weights[h + 1, t], weights[h + 1, t + 1], weights[h + 1, t + 2],
                              weights[h + 1, t + 3])
            for d in range(first.size):
                x0 = v0[d]
                x1 = v1[d]
                x2 = v2[d]
                x3 = v3[d]
                first[d] += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3
                second[d] += b0 * x0 + b1 * x1 + b2 * x2 + b3 * x3
    _accumulate_tail(weights, values, group, acc, full)


@jit_inline
def _accumulate_heads(weights, values, group, acc):
    """``_accumulate_block`` one head per pass (any group size)."""
    n_keys = values.shape[0]
    full = n_keys // 4 * 4
    for t in range(0, full, 4):
        for h in range(acc.shape[0]):
            row = acc[h]
            hk = h // group
            v0, v1, v2, v3 = values[t, hk], values[t + 1, hk], values[t + 2, hk], values[t + 3, hk]
            p0, p1, p2, p3 = weights[h, t], weights[h, t + 1], weights[h, t + 2], weights[h, t + 3]
            for d in range(row.size):
                row[d] += p0 * v0[d] + p1 * v1[d] + p2 * v2[d] + p3 * v3[d]
    _accumulate_tail(weights, values, group, acc, full)


@jit_inline
def _accumulate_tail(weights, values, group, acc, begin):
    """The block's keys from ``begin`` on (fewer than four), one at a time."""
    for t in range(begin, values.shape[0]):
        for h in range(acc.shape[0]):
            row = acc[h]
            vt = values[t, h // group]
            p = weights[h, t]
            for d in range(row.size):
                row[d] += p * vt[d]


@jit_parallel
def _decode_kernel(q, k_cache, v_cache, lengths, scale, part_max, part_sum, part_acc):
    """Per (sequence, chunk): running max, sum and unnormalised output for every head.

    Keys are taken a block at a time (all kv heads of a position together, in memory
    order): first every head's scores for the block (independent dot products), then one
    max, one vectorised exp pass and one rescale per head and block, then the weighted V
    rows into the accumulators. Scoring a block before the softmax breaks the per-key
    chain (score, compare with the running max, exp, rescale) that serialises a
    key-at-a-time online softmax."""
    batch, n_heads, head_dim = q.shape
    n_kv_heads = k_cache.shape[2]
    group = n_heads // n_kv_heads
    splits = part_max.shape[1]
    for task in prange(batch * splits):
        b = task // splits
        chunk = task - b * splits
        length = lengths[b]
        top = part_max[b, chunk]
        total = part_sum[b, chunk]
        acc = part_acc[b, chunk]
        top[:] = NEG_LARGE
        total[:] = 0.0
        acc[:] = 0.0
        scores = np.empty((n_heads, _DECODE_BLOCK), np.float32)
        alpha = np.empty(n_heads, np.float32)
        start = chunk * length // splits
        end = (chunk + 1) * length // splits
        keys_flat = k_cache[b].reshape(k_cache[b].size)
        values_flat = v_cache[b].reshape(v_cache[b].size)
        row = n_kv_heads * head_dim
        for t0 in range(start, end, _DECODE_BLOCK):
            n_keys = min(_DECODE_BLOCK, end - t0)
            ahead = min(_DECODE_BLOCK, max(0, end - t0 - _DECODE_BLOCK))
            for i in range((t0 + _DECODE_BLOCK) * row, (t0 + _DECODE_BLOCK + ahead) * row, 16):
                prefetch(keys_flat, i)
                prefetch(values_flat, i)
            _score_block(q[b], k_cache[b, t0:t0 + n_keys], group, scale, scores)
            _softmax_block(scores, 1, 0, 0, n_keys, False, top, total, alpha)
            for h in range(n_heads):
                for d in range(head_dim):
                    acc[h, d] *= alpha[h]
            _accumulate_block(scores, v_cache[b, t0:t0 + n_keys], group, acc)


@jit_parallel
def _decode_merge(part_max, part_sum, part_acc, out):
    batch, splits, n_heads, head_dim = part_acc.shape
    for task in prange(batch * n_heads):
        b = task // n_heads
        h = task - b * n_heads
        top = NEG_LARGE
        for c in range(splits):
            top = max(top, part_max[b, c, h])
        total = np.float32(0.0)
        out[b, h] = 0.0
        for c in range(splits):
            w = exp_f32(part_max[b, c, h] - top)
            total += w * part_sum[b, c, h]
            for d in range(head_dim):
                out[b, h, d] += w * part_acc[b, c, h, d]
        if total > 0.0:
            inv = np.float32(1.0) / total
            for d in range(head_dim):
                out[b, h, d] *= inv


def attention_decode(q: np.ndarray, k_cache: np.ndarray, v_cache: np.ndarray,
                     lengths: np.ndarray) -> np.ndarray:
    """One decode step: each sequence's new query attends to the first lengths[b] cache entries.

    q: [batch, n_heads, head_dim]; k_cache, v_cache: [batch, max_ctx, n_kv_heads, head_dim]
    with n_kv_heads dividing n_heads; lengths: [batch] ints in [0, max_ctx]. A sequence of
    length 0 yields zeros. Returns float32 [batch, n_heads, head_dim].
    """
    q = _validate.floats("q", q, 3)
    k_cache = _validate.floats("k_cache", k_cache, 4)
    _validate.shape("k_cache", k_cache, (q.shape[0], None, None, q.shape[2]))
    v_cache = _validate.floats("v_cache", v_cache, 4)
    _validate.shape("v_cache", v_cache, k_cache.shape)
    _check_heads(q.shape[1], k_cache.shape[2])
    lengths = _validate.indices("lengths", lengths, 1, upper=k_cache.shape[1] + 1)
    _validate.shape("lengths", lengths, (q.shape[0],))
    batch, n_heads, head_dim = q.shape
    # enough chunks to keep every thread busy, none shorter than 64 positions
    longest = int(lengths.max(initial=0))
    splits = max(1, min(-(-2 * numba.get_num_threads() // max(batch, 1)), longest // 64))
    part_max = np.empty((batch, splits, n_heads), np.float32)
    part_sum = np.empty((batch, splits, n_heads), np.float32)
    part_acc = np.empty((batch, splits, n_heads, head_dim), np.float32)
    out = np.empty_like(q)
    scale = np.float32(1.0 / math.sqrt(max(head_dim, 1)))
    _decode_kernel(q, k_cache, v_cache, lengths, scale, part_max, part_sum, part_acc)
    _decode_merge(part_max, part_sum, part_acc, out)
    return out


def attention_decode_reference(q: np.ndarray, k_cache: np.ndarray, v_cache: np.ndarray,
                               lengths: np.ndarray) -> np.ndarray:
    """numpy float32 einsum reference for ``attention_decode`` (one sequence at a time)."""
    batch, n_heads, head_dim = q.shape
    n_kv_heads = k_cache.shape[2]
    out = np.zeros(q.shape, np.float32)
    for b in range(batch):
        length = int(lengths[b])
        if length == 0:
            continue
        grouped = q[b].reshape(n_kv_heads, n_heads // n_kv_heads, head_dim)
        scores = np.einsum("kgd,tkd->kgt", grouped, k_cache[b, :length], optimize=True)
        scores *= np.float32(1.0 / math.sqrt(head_dim))
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        out[b] = np.einsum("kgt,tkd->kgd", scores, v_cache[b, :length], optimize=True).reshape(n_heads, head_dim)
    return out


@jit_parallel
def _rope_kernel(x, positions, inv_freq, out):
    n_heads, head_dim = x.shape[1], x.shape[2]
    half = head_dim // 2
    for t in prange(x.shape[0]):
        for i in range(half):
            angle = positions[t] * inv_freq[i]
            c = np.float32(math.cos(angle))
            s = np.float32(math.sin(angle))
            for h in range(n_heads):
                first = x[t, h, i]
                second = x[t, h, i + half]
                out[t, h, i] = first * c - second * s
                out[t, h, i + half] = second * c + first * s


def rope(x: np.ndarray, positions: np.ndarray, theta: float = 10000.0) -> np.ndarray:
    """Rotary position embedding, rotate-half convention (GPT-NeoX, Hugging Face Llama).

    Element i of the first half pairs with element i + head_dim/2 and turns by angle
    positions[t] * theta**(-2i/head_dim). x: [tokens, n_heads, head_dim] (head_dim even);
    positions: [tokens] non-negative ints. Returns float32 of x's shape.
    """
    x = _validate.floats("x", x, 3)
    if x.shape[2] % 2:
        raise SeedchipError(f"x: head_dim must be even for rope, got {x.shape[2]}")
    positions = _validate.indices("positions", positions, 1)
    _validate.shape("positions", positions, (x.shape[0],))
    if positions.size and positions.min() < 0:
        raise SeedchipError("positions: must be >= 0")
    out = np.empty_like(x)
    _rope_kernel(x, positions, _inv_freq(x.shape[2], _validate.non_negative("theta", theta)), out)
    return out


def _inv_freq(head_dim: int, theta: float) -> np.ndarray:
    return float(theta) ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)


def rope_reference(x: np.ndarray, positions: np.ndarray, theta: float = 10000.0) -> np.ndarray:
    """numpy (float64) reference for ``rope``."""
    x = np.asarray(x, np.float64)
    half = x.shape[2] // 2
    angles = np.asarray(positions, np.float64)[:, None] * _inv_freq(x.shape[2], theta)[None, :]
    c, s = np.cos(angles)[:, None, :], np.sin(angles)[:, None, :]
    first, second = x[..., :half], x[..., half:]
    return np.concatenate([first * c - second * s, second * c + first * s], axis=-1).astype(np.float32)
