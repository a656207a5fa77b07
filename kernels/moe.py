"""Mixture-of-experts: top-k routing and grouped SwiGLU experts.

Tokens are grouped per expert (a counting sort of the routed (token, slot) pairs) and
gathered into one matrix; the gate, up and down projections of all experts then run as
three grouped GEMMs (one parallel region each, every expert's weights read once), and each
token sums its slots' outputs scaled by the routing weights.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from kernels import _validate
from kernels._jit import exp_f32, jit, jit_parallel
from kernels.linear import grouped_nt, swiglu_ffn_reference, swiglu_gate
from kernels.sampling import row_topk


@jit_parallel
def _route_kernel(logits, top_k, weights, experts):
    for t in prange(logits.shape[0]):
        row_topk(logits[t], top_k, weights[t], experts[t])
        top = weights[t, 0]
        total = np.float32(0.0)
        for s in range(top_k):
            weights[t, s] = exp_f32(weights[t, s] - top)
            total += weights[t, s]
        for s in range(top_k):
            weights[t, s] /= total


@jit
def _group_by_expert(experts, n_experts):
    """Flat (token * top_k + slot) ids ordered by expert, and each expert's start in them."""
    flat = experts.reshape(experts.size)
    starts = np.zeros(n_experts + 1, np.int64)
    for e in flat:
        starts[e + 1] += 1
    for e in range(n_experts):
        starts[e + 1] += starts[e]
    fill = starts[:-1].copy()
    order = np.empty(flat.size, np.int64)
    for i in range(flat.size):
        order[fill[flat[i]]] = i
        fill[flat[i]] += 1
    return order, starts


@jit_parallel
def _combine(out, down, slot_rows, weights):
    """out[t] = sum over t's slots s of weights[t, s] * down[slot_rows[t, s]] (per token, so
    no two threads write one row)."""
    for t in prange(out.shape[0]):
        for s in range(weights.shape[1]):
            w = weights[t, s]
            row = down[slot_rows[t, s]]
            for j in range(out.shape[1]):
                out[t, j] += w * row[j]


def moe_route(logits: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """Mixtral routing: each token's top_k experts and the softmax of their logits.

    logits: [tokens, n_experts]. Returns (weights float32 [tokens, top_k] summing to 1 per
    token, experts int64 [tokens, top_k]) in descending logit order.
    """
    logits = _validate.floats("logits", logits, 2)
    top_k = _validate.positive("top_k", top_k, logits.shape[1])
    weights = np.empty((logits.shape[0], top_k), np.float32)
    experts = np.empty((logits.shape[0], top_k), np.int64)
    _route_kernel(logits, top_k, weights, experts)
    return weights, experts


def moe_route_reference(logits: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """numpy (float64) reference for ``moe_route``."""
    experts = np.argsort(-np.asarray(logits, np.float32), axis=-1, kind="stable")[:, :top_k]
    chosen = np.take_along_axis(np.asarray(logits, np.float64), experts, axis=-1)
    weights = np.exp(chosen - chosen[:, :1])
    return (weights / weights.sum(axis=-1, keepdims=True)).astype(np.float32), experts


def moe_ffn(x: np.ndarray, router_logits: np.ndarray, w_gate: np.ndarray, w_up: np.ndarray,
            w_down: np.ndarray, top_k: int) -> np.ndarray:
    """Sum over each token's top_k experts of routing weight * SwiGLU expert output.

    x: [tokens, d]; router_logits: [tokens, n_experts]; w_gate, w_up: [n_experts, ff, d];
    w_down: [n_experts, d, ff]; routing as ``moe_route``. Returns float32 [tokens, d].
    """
    x = _validate.floats("x", x, 2)
    w_gate = _validate.floats("w_gate", w_gate, 3)
    _validate.shape("w_gate", w_gate, (None, None, x.shape[1]))
    w_up = _validate.floats("w_up", w_up, 3)
    _validate.shape("w_up", w_up, w_gate.shape)
    w_down = _validate.floats("w_down", w_down, 3)
    _validate.shape("w_down", w_down, (w_gate.shape[0], x.shape[1], w_gate.shape[1]))
    router_logits = _validate.floats("router_logits", router_logits, 2)
    _validate.shape("router_logits", router_logits, (x.shape[0], w_gate.shape[0]))
    weights, experts = moe_route(router_logits, top_k)
    order, starts = _group_by_expert(experts, w_gate.shape[0])
    tokens = order // top_k
    rows = np.ascontiguousarray(x[tokens])
    n_rows, ff = rows.shape[0], w_gate.shape[1]
    chunks = max(1, 2 * numba.get_num_threads() // max(1, int(np.count_nonzero(np.diff(starts)))))
    gate = np.empty((n_rows, ff), np.float32)
    up = np.empty((n_rows, ff), np.float32)
    grouped_nt(rows, w_gate, gate, starts, min(chunks, max(1, ff // 3)))
    grouped_nt(rows, w_up, up, starts, min(chunks, max(1, ff // 3)))
    swiglu_gate(gate, up)
    down = np.empty((n_rows, x.shape[1]), np.float32)
    grouped_nt(gate, w_down, down, starts, min(chunks, max(1, x.shape[1] // 3)))
    slot_rows = np.empty(order.size, np.int64)
    slot_rows[order] = np.arange(order.size)
    out = np.zeros_like(x)
    _combine(out, down, slot_rows.reshape(weights.shape), weights)
    return out


def moe_ffn_reference(x: np.ndarray, router_logits: np.ndarray, w_gate: np.ndarray, w_up: np.ndarray,
                      w_down: np.ndarray, top_k: int) -> np.ndarray:
    """numpy (float64) reference for ``moe_ffn``, one token at a time."""
    weights, experts = moe_route_reference(router_logits, top_k)
    out = np.zeros(x.shape, np.float64)
    for t in range(x.shape[0]):
        for w, e in zip(weights[t], experts[t]):
            out[t] += w * swiglu_ffn_reference(x[t:t + 1], w_gate[e], w_up[e], w_down[e])[0]
    return out.astype(np.float32)
