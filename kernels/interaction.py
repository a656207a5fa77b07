"""Recommendation-model feature interactions: DLRM dot interaction and the DCNv2 cross layer."""

from __future__ import annotations

import numpy as np
from numba import prange

from kernels import _validate
from kernels._jit import jit_inline, jit_parallel
from kernels.linear import dot, dot4, matmul_nt


@jit_inline
def _feature(dense, sparse, b, i):
    """z_i of sample b: the dense vector for i = 0, else pooled sparse feature i - 1."""
    return dense[b] if i == 0 else sparse[b, i - 1]


@jit_parallel
def _dot_kernel(dense, sparse, out):
    """Per sample, z_i . z_j for i < j: four j at a time against one z_i, so each load of
    z_i serves four independent dot products."""
    batch, dim = dense.shape
    features = sparse.shape[1] + 1
    for b in prange(batch):
        out[b, :dim] = dense[b]
        col = dim
        for i in range(features):
            zi = _feature(dense, sparse, b, i)
            j = i + 1
            while j + 4 <= features:
                out[b, col], out[b, col + 1], out[b, col + 2], out[b, col + 3] = dot4(
                    zi, sparse[b, j - 1], sparse[b, j], sparse[b, j + 1], sparse[b, j + 2])
                col += 4
                j += 4
            for j in range(j, features):
                out[b, col] = dot(zi, sparse[b, j - 1])
                col += 1


def dot_interaction(dense: np.ndarray, sparse_pooled: np.ndarray) -> np.ndarray:
    """DLRM interaction: the dense vector followed by all pairwise dot products of features.

    dense: [batch, d] (the bottom-MLP output); sparse_pooled: [batch, f, d] (pooled
    embeddings). With z = [dense, sparse_0 .. sparse_{f-1}], returns float32
    [batch, d + (f+1) f / 2]: dense, then z_i . z_j for i < j in row-major upper-triangle
    order (0,1), (0,2), ..., (0,f), (1,2), ... (numpy ``triu_indices(f + 1, 1)``).
    """
    dense = _validate.floats("dense", dense, 2)
    sparse_pooled = _validate.floats("sparse_pooled", sparse_pooled, 3)
    _validate.shape("sparse_pooled", sparse_pooled, (dense.shape[0], None, dense.shape[1]))
    features = sparse_pooled.shape[1] + 1
    out = np.empty((dense.shape[0], dense.shape[1] + features * (features - 1) // 2), np.float32)
    _dot_kernel(dense, sparse_pooled, out)
    return out


def dot_interaction_reference(dense: np.ndarray, sparse_pooled: np.ndarray) -> np.ndarray:
    """numpy (float64) reference for ``dot_interaction``."""
    z = np.concatenate([np.asarray(dense, np.float64)[:, None], np.asarray(sparse_pooled, np.float64)], axis=1)
    upper_i, upper_j = np.triu_indices(z.shape[1], 1)
    dots = np.einsum("bid,bjd->bij", z, z)[:, upper_i, upper_j]
    return np.concatenate([z[:, 0], dots], axis=1).astype(np.float32)


@jit_parallel
def _cross_epilogue(y, x0, x, bias):
    """In place: y = x0 * (y + bias) + x."""
    for b in prange(y.shape[0]):
        for j in range(y.shape[1]):
            y[b, j] = x0[b, j] * (y[b, j] + bias[j]) + x[b, j]


def dcn_cross(x0: np.ndarray, x: np.ndarray, u: np.ndarray, v: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """One DCNv2 low-rank cross layer: x0 * (u @ (v @ x) + bias) + x, per sample.

    Per sample, x0 and x are column vectors of size d, v is [r, d] and u is [d, r] (torch
    ``Linear(d, r).weight`` and ``Linear(r, d).weight``), bias is [d]. For row-major batches
    x0, x: [batch, d] this is ``x0 * ((x @ v.T) @ u.T + bias) + x``. Returns float32 [batch, d].
    """
    x0 = _validate.floats("x0", x0, 2)
    x = _validate.floats("x", x, 2)
    _validate.shape("x", x, x0.shape)
    v = _validate.floats("v", v, 2)
    _validate.shape("v", v, (None, x0.shape[1]))
    u = _validate.floats("u", u, 2)
    _validate.shape("u", u, (x0.shape[1], v.shape[0]))
    bias = _validate.floats("bias", bias, 1)
    _validate.shape("bias", bias, (x0.shape[1],))
    y = matmul_nt(matmul_nt(x, v), u)
    _cross_epilogue(y, x0, x, bias)
    return y


def dcn_cross_reference(x0: np.ndarray, x: np.ndarray, u: np.ndarray, v: np.ndarray,
                        bias: np.ndarray) -> np.ndarray:
    """numpy (float64) reference for ``dcn_cross``."""
    x0, x, u, v, bias = (np.asarray(a, np.float64) for a in (x0, x, u, v, bias))
    return (x0 * ((x @ v.T) @ u.T + bias) + x).astype(np.float32)
