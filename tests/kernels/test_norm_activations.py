"""rms_norm, layer_norm, softmax and the activations against numpy."""

from __future__ import annotations

import numpy as np
import pytest

from kernels.activations import activation_reference, gelu, relu, silu
from kernels.norm import (layer_norm, layer_norm_reference, rms_norm, rms_norm_reference, softmax,
                          softmax_reference)
from tests.kernels.conftest import normal

SHAPES = [(1, 1), (1, 7), (5, 33), (3, 2, 130)]


@pytest.mark.parametrize("shape", SHAPES)
def test_rms_norm(rng, shape):
    x, w = normal(rng, *shape), normal(rng, shape[-1])
    np.testing.assert_allclose(rms_norm(x, w), rms_norm_reference(x, w), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", SHAPES)
def test_layer_norm(rng, shape):
    x, w, b = normal(rng, *shape, scale=5.0) + 3, normal(rng, shape[-1]), normal(rng, shape[-1])
    np.testing.assert_allclose(layer_norm(x, w, b), layer_norm_reference(x, w, b), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape", SHAPES)
def test_softmax(rng, shape):
    x = normal(rng, *shape, scale=10.0)
    got = softmax(x)
    np.testing.assert_allclose(got, softmax_reference(x), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got.sum(axis=-1), 1.0, rtol=1e-5)


def test_softmax_of_large_logits_is_finite():
    got = softmax(np.array([[1e30, 0.0, -1e30]], np.float32))
    np.testing.assert_allclose(got, [[1.0, 0.0, 0.0]], atol=1e-7)


@pytest.mark.parametrize("function,name", [(relu, "relu"), (gelu, "gelu"), (silu, "silu")])
@pytest.mark.parametrize("size", [1, 17, 70000])
def test_activations(rng, function, name, size):
    x = normal(rng, size, scale=4.0)
    np.testing.assert_allclose(function(x), activation_reference(x, name), rtol=1e-5, atol=1e-6)


def test_activation_extremes():
    x = np.array([-1e4, -100.0, 0.0, 100.0, 1e4], np.float32)
    for function, name in [(gelu, "gelu"), (silu, "silu")]:
        np.testing.assert_allclose(function(x), activation_reference(x, name), rtol=1e-6, atol=1e-30)


def test_out_buffer_is_filled_and_returned(rng):
    x, w, b = normal(rng, 4, 9), normal(rng, 9), normal(rng, 9)
    for call, want in [(lambda o: rms_norm(x, w, out=o), rms_norm_reference(x, w)),
                       (lambda o: layer_norm(x, w, b, out=o), layer_norm_reference(x, w, b)),
                       (lambda o: softmax(x, out=o), softmax_reference(x)),
                       (lambda o: silu(x, out=o), activation_reference(x, "silu"))]:
        out = np.full_like(x, np.nan)
        assert call(out) is out
        np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-5)
