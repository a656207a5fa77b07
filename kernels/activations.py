"""Elementwise activations: relu, gelu (tanh approximation), silu.

The scalar forms are shared with ``linear`` and ``swiglu_ffn``, which apply them in their
epilogue. gelu and silu use ``exp_f32`` so that LLVM vectorises them (libm exp would not).
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from kernels import _validate
from kernels._jit import exp_f32, jit_inline, jit_parallel

ACTIVATIONS = ("relu", "gelu", "silu")
"""Activation names accepted by ``linear``; a kernel receives ``ACTIVATIONS.index(name) + 1``
(0 meaning none)."""

_GELU_C = np.float32(math.sqrt(2.0 / math.pi))
_CHUNK = 1 << 16


@jit_inline
def silu_scalar(x):
    """x * sigmoid(x)."""
    return x / (np.float32(1.0) + exp_f32(-x))


@jit_inline
def gelu_scalar(x):
    """0.5 x (1 + tanh(c (x + 0.044715 x^3))), written as x * sigmoid(2 c (x + 0.044715 x^3))."""
    u = _GELU_C * (x + np.float32(0.044715) * x * x * x)
    return x / (np.float32(1.0) + exp_f32(np.float32(-2.0) * u))


@jit_inline
def activate(code, x):
    """Apply activation ``code`` (0 none, then ``ACTIVATIONS`` order) to a float32 scalar."""
    if code == 1:
        return max(x, np.float32(0.0))
    if code == 2:
        return gelu_scalar(x)
    if code == 3:
        return silu_scalar(x)
    return x


@jit_parallel
def _activation_kernel(x, out, code):
    n = x.size
    for chunk in prange((n + _CHUNK - 1) // _CHUNK):
        for i in range(chunk * _CHUNK, min(n, (chunk + 1) * _CHUNK)):
            out[i] = activate(code, x[i])


def activation_code(activation: str | None) -> int:
    """The kernel code for an activation name (None: 0)."""
    if activation is None:
        return 0
    return ACTIVATIONS.index(_validate.choice("activation", activation, ACTIVATIONS)) + 1


def _apply(x: np.ndarray, activation: str) -> np.ndarray:
    array = _validate.as_float_any_ndim("x", x)
    out = np.empty_like(array)
    _activation_kernel(array.reshape(-1), out.reshape(-1), activation_code(activation))
    return out


def relu(x: np.ndarray) -> np.ndarray:
    """max(x, 0) elementwise; any shape, float32 out."""
    return _apply(x, "relu")


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU with the tanh approximation (as torch ``approximate="tanh"``); float32 out."""
    return _apply(x, "gelu")


def silu(x: np.ndarray) -> np.ndarray:
    """x * sigmoid(x) elementwise (SiLU / swish); float32 out."""
    return _apply(x, "silu")


def activation_reference(x: np.ndarray, activation: str | None) -> np.ndarray:
    """numpy reference for every activation, computed in float64 and returned as float32."""
    v = np.asarray(x, dtype=np.float64)
    if activation == "relu":
        v = np.maximum(v, 0.0)
    elif activation == "gelu":
        v = 0.5 * v * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (v + 0.044715 * v ** 3)))
    elif activation == "silu":
        v = v * 0.5 * (1.0 + np.tanh(0.5 * v))
    return v.astype(np.float32)
