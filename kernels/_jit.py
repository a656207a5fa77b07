"""Shared Numba settings and the two LLVM intrinsics the kernels need.

Numba exposes neither a software prefetch nor a float bit-cast, and without Intel SVML its
``math.exp`` is a scalar libm call that blocks vectorisation, so ``exp_f32`` is written out
as a polynomial LLVM can vectorise to AVX2.
"""

from __future__ import annotations

import functools

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

# Reassociation lets LLVM vectorise reductions; no "nnan"/"ninf", so masks and NaNs stay
# well defined.
FASTMATH = {"reassoc", "contract", "nsz", "arcp", "afn"}

# error_model="numpy": division by zero gives inf/nan instead of a Python exception check
# inside every loop, which would stop LLVM from vectorising any loop that divides.
jit = functools.partial(njit, cache=True, fastmath=FASTMATH, error_model="numpy")
"""``@jit``: njit with on-disk caching, the fast-math subset above and numpy error model."""

jit_parallel = functools.partial(jit, parallel=True)
"""``@jit_parallel``: as ``jit`` with ``prange`` support."""

jit_inline = functools.partial(jit, inline="always")
"""``@jit_inline``: small helpers inlined into their (parallel) callers at the Numba level."""

NEG_LARGE = np.float32(-3.0e38)
"""Finite stand-in for -inf (a softmax start value and mask) that fast-math cannot break."""


@intrinsic
def prefetch(typingctx, array, index):
    """Hint the CPU to fetch ``array[index]`` (a 1-d array) into cache; no effect on results."""
    if not (isinstance(array, types.Array) and array.ndim == 1 and isinstance(index, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        array_type, index_type = signature.args
        handle = context.make_array(array_type)(context, builder, args[0])
        position = context.cast(builder, args[1], index_type, types.intp)
        pointer = cgutils.get_item_pointer(context, builder, array_type, handle, [position], wraparound=False)
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function_type = ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32])
        function = cgutils.get_or_insert_function(builder.module, function_type, "llvm.prefetch.p0")
        # read access, high temporal locality, data cache
        builder.call(function, [builder.bitcast(pointer, byte_pointer), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(array, index), codegen


@intrinsic
def bits_to_float32(typingctx, bits):
    """Reinterpret the low 32 bits of an integer as an IEEE float32."""
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        word = context.cast(builder, args[0], signature.args[0], types.int32)
        return builder.bitcast(word, ir.FloatType())

    return types.float32(bits), codegen


_LOG2E = np.float32(1.4426950408889634)
_LN2_HI = np.float32(0.693359375)
_LN2_LO = np.float32(-2.12194440e-4)
_EXP_POLY = tuple(np.float32(c) for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                                           4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1))


@jit_inline
def exp_f32(x):
    """exp(x) in float32 (Cephes expf: relative error < 1e-7 on [-87, 88]), vectorisable.

    Arguments are clamped to [-87, 88], so exp of a very negative number is ~1e-38, not 0.
    """
    x = min(max(np.float32(x), np.float32(-87.0)), np.float32(88.0))
    n = np.floor(x * _LOG2E + np.float32(0.5))
    r = x - n * _LN2_HI - n * _LN2_LO
    p = _EXP_POLY[0]
    p = p * r + _EXP_POLY[1]
    p = p * r + _EXP_POLY[2]
    p = p * r + _EXP_POLY[3]
    p = p * r + _EXP_POLY[4]
    p = p * r + _EXP_POLY[5]
    p = p * r * r + r + np.float32(1.0)
    return p * bits_to_float32((np.int32(n) + np.int32(127)) << 23)


_ABS_BITS = np.int32(0x7FFFFFFF)
_NEG_LARGE_BITS = np.array(NEG_LARGE).view(np.int32)[()]


@jit_inline
def _ordered_bits(v):
    """A float32's bits as an int32 that orders like the float (negatives' magnitude bits flipped)."""
    return v ^ ((v >> 31) & _ABS_BITS)


@jit_inline
def max_f32(values):
    """max(NEG_LARGE, largest element) of a 1-d C-contiguous float32 array.

    LLVM will not vectorise a float max reduction without a no-NaNs function attribute,
    which Numba cannot set, so the maximum is taken over order-preserving integer bits:
    an int32 max that vectorises, ~8x faster than the scalar float loop.
    """
    bits = values.view(np.int32)
    top = _ordered_bits(_NEG_LARGE_BITS)
    for j in range(bits.size):
        top = max(top, _ordered_bits(bits[j]))
    return bits_to_float32(_ordered_bits(top))
