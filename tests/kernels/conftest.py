"""Shared fixtures for kernel tests: a seeded generator and float32 array factory."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


def normal(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    """A float32 standard-normal array of ``shape`` times ``scale``."""
    return (rng.standard_normal(shape) * scale).astype(np.float32)
