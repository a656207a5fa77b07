"""linear and swiglu_ffn against numpy, on shapes that straddle the 4x3 tile, the narrow
(one weight row at a time) path and the thread split."""

from __future__ import annotations

import numpy as np
import pytest

from kernels.linear import linear, linear_reference, swiglu_ffn, swiglu_ffn_reference
from tests.kernels.conftest import normal

# float32 accumulation over `in` terms of unit-variance products: error grows like sqrt(in)
SHAPES = [(1, 1, 1), (1, 7, 5), (3, 13, 8), (4, 16, 3), (5, 33, 10), (31, 64, 7), (33, 70, 29), (100, 9, 64),
          (4, 700, 9), (7, 500, 6), (8, 513, 5), (2, 2100, 5)]  # narrow x (<= 16 KiB) or not


@pytest.mark.parametrize("tokens,inputs,outputs", SHAPES)
@pytest.mark.parametrize("activation", [None, "relu", "gelu", "silu"])
def test_linear_matches_numpy(rng, tokens, inputs, outputs, activation):
    x, w, b = normal(rng, tokens, inputs), normal(rng, outputs, inputs), normal(rng, outputs)
    got = linear(x, w, b, activation)
    assert got.dtype == np.float32 and got.shape == (tokens, outputs)
    np.testing.assert_allclose(got, linear_reference(x, w, b, activation), rtol=1e-4, atol=1e-5 * inputs)


def test_linear_without_bias_and_fp16_input(rng):
    x, w = normal(rng, 6, 40).astype(np.float16), normal(rng, 11, 40)
    np.testing.assert_allclose(linear(x, w), linear_reference(x, w), rtol=1e-4, atol=1e-4)


def test_linear_empty_batch_and_zero_inputs(rng):
    assert linear(normal(rng, 0, 8), normal(rng, 5, 8)).shape == (0, 5)
    assert not linear(np.zeros((2, 0), np.float32), np.zeros((3, 0), np.float32)).any()


def test_linear_accepts_non_contiguous(rng):
    x, w = normal(rng, 9, 20), normal(rng, 20, 14)
    np.testing.assert_allclose(linear(x[::2], w.T), linear_reference(x[::2], w.T), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("tokens", [1, 5, 40])
def test_swiglu_ffn_matches_numpy(rng, tokens):
    x = normal(rng, tokens, 24)
    gate, up, down = normal(rng, 40, 24, scale=0.3), normal(rng, 40, 24, scale=0.3), normal(rng, 24, 40, scale=0.3)
    np.testing.assert_allclose(swiglu_ffn(x, gate, up, down), swiglu_ffn_reference(x, gate, up, down),
                               rtol=1e-4, atol=1e-4)
