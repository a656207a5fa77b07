"""Chip parameter grids: ``--vary`` ranges, and one array-valued `Chip` for the whole grid.

Range syntax; NAME is a key that ``--set`` accepts (`perfmodel.chip.override_keys`):
    NAME=LOW..HIGH:N     N evenly spaced values from LOW to HIGH, both included
    NAME=LOW..HIGH:xF    geometric: LOW, LOW*F, LOW*F^2, ... while <= HIGH (F > 1)
    NAME=A,B,C           the values listed
Values carry units ("32MiB..512MiB:x2", "1TB/s..8TB/s:8"); a LOW without a unit takes
HIGH's ("1..8TB/s:8"), listed values without one the last value's ("1,2,4TB/s"); with no
unit at all, numbers are in base units (bytes, bytes/s, flop/s, ...) or plain counts.

The grid chip holds axis i's values along array dimension i, so numpy broadcasting
covers every combination and a whole graph is timed once for all of them
(`perfmodel.roofline` is written for array-valued chips). Each value goes through the
same path as ``--set`` (`load_chip` with one override), so units, limits and derived
values are the loader's: a parameter that sets exactly the one field it names (sram,
bf16, raw memory bandwidth, ...) is loaded at its smallest and largest value and then
broadcast directly; one that also changes derived fields (memory_count: capacity,
bandwidth, cost and power of a composed memory; memory_bandwidth of a composed memory:
its power, hence TDP) is loaded once per value. Two parameters that change the same
field cannot be varied together. The loader's checks across fields (memory levels grow
outwards, idle power below TDP) are repeated at every grid point.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from perfmodel import units
from perfmodel.chip import Chip, load_chip, override_keys
from perfmodel.errors import SeedchipError

MAX_POINTS = 10_000_000
MAX_LOADED_VALUES = 1_000  # values of a parameter with derived fields (one load each)
SYNTAX = "NAME=LOW..HIGH:N, NAME=LOW..HIGH:xF or NAME=A,B,C"

Path = tuple[Any, ...]


@dataclass(frozen=True)
class Axis:
    """One varied parameter: its ``--set`` name and values in base units."""

    name: str
    values: np.ndarray
    dimension: str | None  # units dimension of the values; None: plain numbers

    def describe(self, value: float) -> str:
        """A value for people: '64 MiB', '2 TB/s', '4'."""
        if self.dimension is None:
            return f"{value:g}"
        return units.format_quantity(value, self.dimension, binary=self.name.startswith("sram"))


@dataclass(frozen=True)
class Grid:
    """The cartesian product of the axes, and the chip whose varied fields are arrays."""

    axes: tuple[Axis, ...]
    chip: Chip

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(axis.values) for axis in self.axes)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def values(self, flat_index: int | np.ndarray) -> dict[str, Any]:
        """Parameter values (base units) at flat grid indices (C order)."""
        position = np.unravel_index(flat_index, self.shape)
        return {axis.name: axis.values[index] for axis, index in zip(self.axes, position)}

    def describe(self, flat_index: int) -> str:
        """'sram=64 MiB, memory_bandwidth=2 TB/s'."""
        point = self.values(flat_index)
        return ", ".join(f"{axis.name}={axis.describe(point[axis.name])}" for axis in self.axes)


# ---------------------------------------------------------------- parsing


def parse_vary(text: str) -> Axis:
    """One ``--vary`` option; malformed, empty, negative or too long ranges are errors."""
    name, sep, spec = (part.strip() for part in text.partition("="))
    if not sep or not name or not spec:
        raise SeedchipError(f"--vary {text!r}: expected {SYNTAX}")
    if name == "memory" or name.endswith("_part"):
        raise SeedchipError(f"--vary {name}: not a number; vary memory_count, and pick the part "
                            "with --set memory=PART:COUNT")
    if name not in override_keys():
        raise SeedchipError(f"--vary {name}: unknown parameter (known: "
                            f"{', '.join(key for key in override_keys() if key != 'memory')})")
    where = f"--vary {text}"
    values, dimension = (_range(spec, where) if ".." in spec
                         else _listed(spec.split(","), where))
    if np.any(values < 0):
        raise SeedchipError(f"{where}: values must not be negative")
    return Axis(name, values, dimension)


def _range(spec: str, where: str) -> tuple[np.ndarray, str | None]:
    low_text, _, rest = spec.partition("..")
    high_text, colon, step = rest.rpartition(":")
    if not colon or not step.strip():
        raise SeedchipError(f"{where}: give the number of points (:N) or a factor (:xF), "
                            f"e.g. 1..8TB/s:8 or 32MiB..512MiB:x2")
    high, dimension, symbol = units.parse_any(high_text.strip(), where)
    low_text = low_text.strip()
    low, low_dimension, _ = units.parse_any(low_text, where)
    if low_dimension is None and dimension is not None:
        low, low_dimension, _ = units.parse_any(low_text + symbol, where)
    if low_dimension != dimension:
        raise SeedchipError(f"{where}: LOW and HIGH are in different units")
    if not high > low:
        raise SeedchipError(f"{where}: empty range (HIGH must exceed LOW)")
    step = step.strip()
    if step.startswith("x"):
        factor = _number(step[1:], where, "factor")
        if not factor > 1 or not low > 0:
            raise SeedchipError(f"{where}: a geometric range needs a factor above 1 and LOW > 0")
        count = math.floor(math.log(high / low) / math.log(factor) + 1e-9) + 1
        _check_count(count, where)
        values = low * factor ** np.arange(count)
        return np.minimum(values, high), dimension  # the last step may overshoot by rounding
    count = _number(step, where, "number of points")
    if not count.is_integer() or count < 2:
        raise SeedchipError(f"{where}: the number of points must be a whole number >= 2")
    _check_count(count, where)
    return np.linspace(low, high, int(count)), dimension


def _listed(items: Sequence[str], where: str) -> tuple[np.ndarray, str | None]:
    """Values A,B,C; bare numbers take the last item's unit ("1,2,4TB/s")."""
    items = [item.strip() for item in items]
    symbol = units.parse_any(items[-1], where)[2]
    parsed = [units.parse_any(item, where) for item in items]
    parsed = [units.parse_any(item + symbol, where) if dimension is None else (value, dimension, _)
              for item, (value, dimension, _) in zip(items, parsed)]
    dimensions = {dimension for _, dimension, _ in parsed}
    if len(dimensions) > 1:
        raise SeedchipError(f"{where}: the values are in different units")
    values = np.array([value for value, _, _ in parsed])
    if len(np.unique(values)) < len(values):
        raise SeedchipError(f"{where}: a value is listed twice")
    return values, dimensions.pop()


def _number(text: str, where: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SeedchipError(f"{where}: {what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise SeedchipError(f"{where}: {what} {text!r} is not finite")
    return value


def _check_count(count: float, where: str) -> None:
    if count > MAX_POINTS:
        raise SeedchipError(f"{where}: {count:.0f} points; at most {MAX_POINTS:,}")


# ---------------------------------------------------------------- the grid chip


def build_grid(chip_name: str, axes: Sequence[Axis],
               settings: Mapping[str, str] | None = None) -> Grid:
    """The grid of ``axes`` over a chip preset or file (with ``--set`` ``settings``)."""
    if not axes:
        raise SeedchipError("give at least one --vary")
    names = [axis.name for axis in axes]
    if len(set(names)) < len(names):
        raise SeedchipError("--vary: a parameter is varied twice")
    size = math.prod(len(axis.values) for axis in axes)
    if size > MAX_POINTS:
        raise SeedchipError(f"--vary: {size:,} grid points; at most {MAX_POINTS:,}")
    settings = dict(settings or {})
    base = load_chip(chip_name, settings)
    base_leaves = dict(_leaves(base))
    chip, owners = base, {}
    for index, axis in enumerate(axes):
        shape = [1] * len(axes)
        shape[index] = -1
        for path, column in _axis_columns(chip_name, settings, axis, base_leaves).items():
            if path in owners:
                raise SeedchipError(f"--vary {owners[path]} and --vary {axis.name} both change "
                                    f"{_path_text(base, path)}; vary one of them")
            owners[path] = axis.name
            chip = _with_leaf(chip, path, column.reshape(shape))
    grid = Grid(tuple(axes), chip)
    _check_across_fields(grid)
    return grid


def _axis_columns(chip_name: str, settings: Mapping[str, str], axis: Axis,
                  base_leaves: Mapping[Path, Any]) -> dict[Path, np.ndarray]:
    """The chip fields ``axis`` changes, each with one value per point of the axis."""
    def load(value: float) -> dict[Path, Any]:
        try:
            chip = load_chip(chip_name, {**settings,
                                         axis.name: units.exact_text(value, axis.dimension)})
        except SeedchipError as error:
            raise SeedchipError(f"--vary {axis.name}={axis.describe(value)}: {error}") from None
        leaves = dict(_leaves(chip))
        if leaves.keys() != base_leaves.keys():
            raise SeedchipError(f"--vary {axis.name}: changes the chip's structure; not sweepable")
        return leaves

    def changed(loaded: Sequence[dict[Path, Any]]) -> list[Path]:
        return sorted({path for leaves in loaded for path, value in leaves.items()
                       if value != base_leaves[path]}, key=str)

    ends = (float(axis.values.min()), float(axis.values.max()))
    probes = [load(value) for value in ends]
    paths = changed(probes)
    if len(paths) == 1 and all(probe[paths[0]] == value for probe, value in zip(probes, ends)):
        path = paths[0]
        if isinstance(base_leaves[path], int):
            if not np.all(axis.values == np.round(axis.values)):
                raise SeedchipError(f"--vary {axis.name}: takes whole numbers")
            return {path: axis.values.astype(np.int64)}
        return {path: axis.values}
    if len(axis.values) > MAX_LOADED_VALUES:
        raise SeedchipError(f"--vary {axis.name}: changes derived fields and is loaded once per "
                            f"value; at most {MAX_LOADED_VALUES} values")
    loaded = [load(float(value)) for value in axis.values]
    return {path: np.array([leaves[path] for leaves in loaded]) for path in changed(loaded)}


def _check_across_fields(grid: Grid) -> None:
    """The loader's checks that involve two fields, at every grid point."""
    chip = grid.chip
    for smaller, larger in zip(chip.memory, chip.memory[1:]):
        _require(grid, np.greater(larger.capacity_bytes, smaller.capacity_bytes),
                 f"memory level {larger.name} must be larger than {smaller.name}")
    _require(grid, np.less_equal(chip.idle_w, chip.tdp_w), "idle power exceeds TDP")


def _require(grid: Grid, holds: np.ndarray, message: str) -> None:
    holds = np.broadcast_to(holds, grid.shape).ravel()
    if not holds.all():
        raise SeedchipError(f"--vary: at {grid.describe(int(np.argmin(holds)))}: {message}")


# ---------------------------------------------------------------- chip fields as paths


def _leaves(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every numeric (or absent optional) field of a chip, nested in memory levels, link
    and composition."""
    if dataclasses.is_dataclass(value):
        for item in dataclasses.fields(value):
            yield from _leaves(getattr(value, item.name), (*path, item.name))
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif value is None or (isinstance(value, (int, float, np.ndarray))
                           and not isinstance(value, bool)):
        yield path, value  # None: an optional figure the file left out


def _with_leaf(value: Any, path: Path, new: Any) -> Any:
    """A copy of ``value`` with the field at ``path`` replaced by ``new``."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if dataclasses.is_dataclass(value):
        return dataclasses.replace(value, **{head: _with_leaf(getattr(value, head), rest, new)})
    if isinstance(value, tuple):
        return tuple(_with_leaf(item, rest, new) if index == head else item
                     for index, item in enumerate(value))
    return MappingProxyType({**value, head: _with_leaf(value[head], rest, new)})


def _path_text(chip: Chip, path: Path) -> str:
    """('memory', 1, 'bandwidth_bytes_per_s') -> 'memory LPDDR5X bandwidth_bytes_per_s'."""
    if path[0] == "memory":
        return " ".join(["memory", chip.memory[path[1]].name, *map(str, path[2:])])
    return " ".join(map(str, path))
