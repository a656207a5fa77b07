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
def activate_into(code, values, out):
    """out[i] = activation ``code`` (0 none, then ``ACTIVATIONS`` order) of values[i], 1-d.

    The switch sits outside the loops so that each loop vectorises.
    """
    if code == 1:
        for i in range(values.size):
            out[i] = max(values[i], np.float32(0.0))
    elif code == 2:
        for i in range(values.size):
            out[i] = gelu_scalar(values[i])
    elif code == 3:
        for i in range(values.size):
            out[i] = silu_scalar(values[i])
    else:
        for i in range(values.size):
            out[i] = values[i]


@jit_parallel
def _activation_kernel(x, out, code):
    n = x.size
    for chunk in prange((n + _CHUNK - 1) // _CHUNK):
        end = min(n, (chunk + 1) * _CHUNK)
        activate_into(code, x[chunk * _CHUNK:end], out[chunk * _CHUNK:end])


def activation_code(activation: str | None) -> int:
    """The kernel code for an activation name (None: 0)."""
    if activation is None:
        return 0
    return ACTIVATIONS.index(_validate.choice("activation", activation, ACTIVATIONS)) + 1


def _apply(x: np.ndarray, activation: str, out: np.ndarray | None) -> np.ndarray:
    array = _validate.as_float_any_ndim("x", x)
    out = _validate.output("out", out, array.shape)
    _activation_kernel(array.reshape(-1), out.reshape(-1), activation_code(activation))
    return out


def relu(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """max(x, 0) elementwise; any shape, float32 result (in ``out`` when given)."""
    return _apply(x, "relu", out)


def gelu(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """GELU, tanh approximation (torch ``approximate="tanh"``); float32 result (in ``out`` when given)."""
    return _apply(x, "gelu", out)


def silu(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """x * sigmoid(x) elementwise (SiLU / swish); float32 result (in ``out`` when given)."""
    return _apply(x, "silu", out)


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
