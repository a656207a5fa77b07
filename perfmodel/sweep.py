"""Design-space sweep: one workload, or a weighted mix, over a grid of chip parameters.

The grid (`perfmodel.grid`) is one chip whose varied fields are numpy arrays; every op
of every graph is timed once over the whole grid by `perfmodel.roofline.time_graph`
(numpy broadcasting, no Python loop per point). Single chip, no layouts.

A workload is timed as passes: a pass is one batch (recommendation) or a batch's
prefill plus its decode steps (generation), as `workloads.estimate` defines them. Per
grid point:
    latency_s           = pass_s x latency_passes          (one request, as `estimate`)
    throughput          = requests_per_pass / pass_s       requests/s of one chip
    usd_per_unit        = $ per request, joules_per_unit = J per request (`perfmodel.cost`,
                          chip busy all the time)
    chip_usd, power     = the chip's price and power at the assumed utilisation
    fits                = every workload's footprint fits main memory

Mix (``--mix dlrm-dcnv2:0.7,llama3-8b:0.3``): each workload runs at its own batch, and a
weight is the workload's share of the chip time (chip-hours) of the base chip, i.e. of
the fleet's work as it is served today. The mix's workload objectives are relative to
the base chip (1.0 = the base chip; no unit) and exact for that fleet:
    chip-hours  = sum_i w_i x t_i / t_i(base)       (t: chip time per request)
    throughput  = 1 / chip-hours                     (how much more work a chip does)
    $ and J     = sum_i w_i x usd_i / usd_i(base)    (likewise joules): the fleet's bill
    latency     = sum_i w_i x latency_i / latency_i(base)   (weighted mean ratio)
Weights are normalised to sum 1. chip_usd and power stay absolute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from perfmodel.chip import Chip
from perfmodel.cost import CostAssumptions, chip_cost, cost_per_unit
from perfmodel.errors import SeedchipError
from perfmodel.grid import Grid
from perfmodel.ops import Node
from perfmodel.roofline import time_graph


@dataclass(frozen=True)
class Objective:
    """A quantity to rank or trade off, its unit, and whether less or more is better."""

    name: str
    unit: str
    better: str  # "min" or "max"
    field: str  # result field name with its unit
    per_workload: bool  # relative to the base chip in a mix

    def column(self, relative: bool) -> str:
        """'latency_s', or 'latency_x_base' in a mix."""
        return f"{self.name}_x_base" if relative and self.per_workload else self.field

    def unit_text(self, relative: bool) -> str:
        return "x base" if relative and self.per_workload else self.unit


OBJECTIVES: Mapping[str, Objective] = {o.name: o for o in (
    Objective("latency", "s", "min", "latency_s", True),
    Objective("throughput", "req/s", "max", "requests_per_s", True),
    Objective("usd_per_unit", "USD/req", "min", "usd_per_request", True),
    Objective("joules_per_unit", "J/req", "min", "joules_per_request", True),
    Objective("chip_usd", "USD", "min", "chip_usd", False),
    Objective("power", "W", "min", "power_w", False),
)}


@dataclass(frozen=True)
class Run:
    """A graph timed once and repeated: a batch, a prefill, or a slice of decode steps."""

    nodes: tuple[Node, ...]
    repeats: int = 1


@dataclass(frozen=True)
class Workload:
    """What one pass of a workload runs, how many requests it serves, and its footprint."""

    name: str
    runs: tuple[Run, ...]
    requests_per_pass: float
    latency_passes: int
    footprint_bytes: float
    weight: float = 1.0

    @property
    def op_count(self) -> int:
        """Ops timed per grid point (each node of each run once)."""
        return sum(len(run.nodes) for run in self.runs)


@dataclass(frozen=True)
class SweepResult:
    """Objectives at every grid point, flattened in C order of the grid's axes."""

    grid: Grid
    workloads: tuple[str, ...]
    relative: bool
    values: Mapping[str, np.ndarray]  # objective name -> one value per point
    fits: np.ndarray
    estimates: int  # grid points x ops timed

    def column(self, name: str) -> str:
        return OBJECTIVES[name].column(self.relative)


def sweep(grid: Grid, workloads: Sequence[Workload], base: Chip,
          assumptions: CostAssumptions = CostAssumptions()) -> SweepResult:
    """Every objective at every point of ``grid`` for one workload or a mix."""
    if not workloads:
        raise SeedchipError("give a workload or a mix")
    if any(not w.weight > 0 for w in workloads):
        raise SeedchipError("mix weights must be positive")
    chip = grid.chip
    per_workload = [_workload_objectives(w, chip, assumptions) for w in workloads]
    relative = len(workloads) > 1
    if relative:
        at_base = [_workload_objectives(w, base, assumptions) for w in workloads]
        total = sum(w.weight for w in workloads)
        values = _mix(per_workload, at_base, [w.weight / total for w in workloads])
    else:
        values = per_workload[0]
    cost = chip_cost(chip, assumptions)
    values["chip_usd"] = chip.price_usd if assumptions.price_usd is None else assumptions.price_usd
    values["power"] = cost.power_w
    capacity = chip.main_memory.capacity_bytes
    fits = np.logical_and.reduce([np.greater_equal(capacity, w.footprint_bytes)
                                  for w in workloads])
    flat = {name: _flat(values[name], grid) for name in OBJECTIVES}
    return SweepResult(grid, tuple(w.name for w in workloads), relative, flat,
                       _flat(fits, grid), grid.size * sum(w.op_count for w in workloads))


def _workload_objectives(workload: Workload, chip: Chip,
                         assumptions: CostAssumptions) -> dict[str, np.ndarray]:
    pass_s = sum(time_graph(run.nodes, chip).total_s * run.repeats for run in workload.runs)
    requests_per_s = workload.requests_per_pass / pass_s
    unit = cost_per_unit(chip_cost(chip, assumptions), requests_per_s)
    return {"latency": pass_s * workload.latency_passes, "throughput": requests_per_s,
            "usd_per_unit": unit.usd, "joules_per_unit": unit.joules}


def _mix(per_workload: Sequence[dict], at_base: Sequence[dict],
         weights: Sequence[float]) -> dict[str, np.ndarray]:
    """Weighted sums of each workload's objectives relative to the base chip."""
    def weighted(name: str, invert: bool = False) -> np.ndarray:
        return sum(weight * (base[name] / point[name] if invert else point[name] / base[name])
                   for weight, point, base in zip(weights, per_workload, at_base))

    return {"latency": weighted("latency"), "throughput": 1.0 / weighted("throughput", True),
            "usd_per_unit": weighted("usd_per_unit"),
            "joules_per_unit": weighted("joules_per_unit")}


def _flat(value: np.ndarray | float, grid: Grid) -> np.ndarray:
    return np.broadcast_to(value, grid.shape).ravel()


# ---------------------------------------------------------------- ranking


def objective(name: str) -> Objective:
    """An objective by name; unknown names are a clear error."""
    if name not in OBJECTIVES:
        raise SeedchipError(f"unknown objective {name!r} (known: {', '.join(OBJECTIVES)})")
    return OBJECTIVES[name]


def _as_cost(result: SweepResult, name: str) -> np.ndarray:
    """The objective as something to minimise."""
    values = result.values[name]
    return -values if objective(name).better == "max" else values


def top(result: SweepResult, name: str, count: int) -> np.ndarray:
    """Flat indices of the ``count`` best points that fit memory by one objective
    (all of them for count 0), best first; ties keep grid order."""
    feasible = np.flatnonzero(result.fits)
    order = feasible[np.argsort(_as_cost(result, name)[feasible], kind="stable")]
    return order if count == 0 else order[:count]


def pareto_mask(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Points no other point dominates, minimising both (dominates: no worse in both and
    better in one). Equal points do not dominate each other. O(n log n)."""
    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    mask = np.zeros(first.shape, dtype=bool)
    if first.size == 0:
        return mask
    order = np.lexsort((second, first))
    a, b = first[order], second[order]
    starts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])  # groups of equal first
    group_best = np.minimum.reduceat(b, starts)
    before = np.r_[np.inf, np.minimum.accumulate(group_best)[:-1]]  # strictly smaller first
    group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(a)]))
    mask[order] = (b == group_best[group]) & (group_best[group] < before[group])
    return mask


def frontier(result: SweepResult, first: str, second: str) -> np.ndarray:
    """Flat indices of the Pareto frontier of two objectives among the points that fit
    memory, in order of the first objective (best first)."""
    if first == second:
        raise SeedchipError("--pareto needs two different objectives")
    feasible = np.flatnonzero(result.fits)
    x, y = _as_cost(result, first)[feasible], _as_cost(result, second)[feasible]
    chosen = feasible[pareto_mask(x, y)]
    return chosen[np.lexsort((_as_cost(result, second)[chosen], _as_cost(result, first)[chosen]))]
