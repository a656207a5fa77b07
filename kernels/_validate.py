"""Input checks shared by every kernel wrapper.

Each check raises ``SeedchipError`` with one line naming the argument, before any jitted
code runs, so the kernels can index without bounds checks and never read out of bounds.
Float arrays come back C-contiguous float32 (a copy only when needed); index arrays
C-contiguous int64.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from perfmodel.errors import SeedchipError


def _as_ndarray(name: str, value: object) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise SeedchipError(f"{name}: expected a numpy array, got {type(value).__name__}")
    return value


def _check_ndim(name: str, array: np.ndarray, ndim: int) -> None:
    if array.ndim != ndim:
        raise SeedchipError(f"{name}: expected {ndim} dimensions, got shape {array.shape}")


def array(name: str, value: object, ndim: int, dtypes: Sequence[type]) -> np.ndarray:
    """An array of ``ndim`` dimensions and one of ``dtypes``, C-contiguous (copied if not)."""
    array_ = _as_ndarray(name, value)
    _check_ndim(name, array_, ndim)
    if array_.dtype not in dtypes:
        names = "/".join(np.dtype(d).name for d in dtypes)
        raise SeedchipError(f"{name}: expected dtype {names}, got {array_.dtype}")
    return np.ascontiguousarray(array_)


def floats(name: str, value: object, ndim: int) -> np.ndarray:
    """A float16/32/64 array of ``ndim`` dimensions as C-contiguous float32."""
    array = _as_ndarray(name, value)
    _check_ndim(name, array, ndim)
    if array.dtype not in (np.float16, np.float32, np.float64):
        raise SeedchipError(f"{name}: expected a float16/32/64 array, got dtype {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.float32)


def as_float_any_ndim(name: str, value: object) -> np.ndarray:
    """A float16/32/64 array of any shape as C-contiguous float32."""
    array = _as_ndarray(name, value)
    return floats(name, array, array.ndim)


def indices(name: str, value: object, ndim: int, upper: int | None = None) -> np.ndarray:
    """An integer array as C-contiguous int64, each entry in ``[0, upper)`` when given."""
    array = _as_ndarray(name, value)
    _check_ndim(name, array, ndim)
    if not np.issubdtype(array.dtype, np.integer):
        raise SeedchipError(f"{name}: expected an integer array, got dtype {array.dtype}")
    array = np.ascontiguousarray(array, dtype=np.int64)
    if upper is not None and array.size and (array.min() < 0 or array.max() >= upper):
        raise SeedchipError(f"{name}: entries must lie in [0, {upper}), "
                            f"got range [{array.min()}, {array.max()}]")
    return array


def offsets(name: str, value: object, n_indices: int) -> np.ndarray:
    """Bag start offsets: int64, non-decreasing, first >= 0, last <= ``n_indices``."""
    array = indices(name, value, 1)
    if array.size and (array[0] < 0 or array[-1] > n_indices):
        raise SeedchipError(f"{name}: offsets must lie in [0, {n_indices}], "
                            f"got first {array[0]} and last {array[-1]}")
    if np.any(np.diff(array) < 0):
        raise SeedchipError(f"{name}: offsets must be non-decreasing")
    return array


def shape(name: str, array: np.ndarray, expected: Sequence[int | None]) -> None:
    """Require ``array.shape`` to match ``expected``, where None matches any extent."""
    if len(array.shape) != len(expected) or any(
            want is not None and got != want for got, want in zip(array.shape, expected)):
        wanted = "(" + ", ".join("*" if w is None else str(w) for w in expected) + ")"
        raise SeedchipError(f"{name}: expected shape {wanted}, got {array.shape}")


def positive(name: str, value: int, upper: int | None = None) -> int:
    """An integer in ``[1, upper]`` (no upper bound when None)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1 \
            or (upper is not None and value > upper):
        bound = "" if upper is None else f" and <= {upper}"
        raise SeedchipError(f"{name}: expected an integer >= 1{bound}, got {value!r}")
    return int(value)


def choice(name: str, value: object, options: Sequence[str]) -> str:
    """One of ``options``."""
    if value not in options:
        raise SeedchipError(f"{name}: expected one of {', '.join(map(repr, options))}, got {value!r}")
    return value


def non_negative(name: str, value: float) -> np.float32:
    """A finite real number >= 0, as float32."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not np.isfinite(value) or value < 0:
        raise SeedchipError(f"{name}: expected a finite number >= 0, got {value!r}")
    return np.float32(value)


def output(name: str, value: np.ndarray | None, expected: tuple[int, ...]) -> np.ndarray:
    """A caller's output buffer (float32, C-contiguous, shape ``expected``), or a new one.

    Reusing a buffer avoids first-touch page faults, which cost more than a streaming kernel.
    """
    if value is None:
        return np.empty(expected, np.float32)
    array_ = _as_ndarray(name, value)
    if array_.dtype != np.float32 or not array_.flags.c_contiguous or not array_.flags.writeable:
        raise SeedchipError(f"{name}: expected a writeable C-contiguous float32 array")
    shape(name, array_, expected)
    return array_
