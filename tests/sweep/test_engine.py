"""Sweep results equal the scalar roofline per grid point; mix semantics; Pareto frontier."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfmodel.chip import load_chip
from perfmodel.cost import chip_cost
from perfmodel.grid import build_grid, parse_vary
from perfmodel.roofline import time_graph
from perfmodel.sweep import frontier, pareto_mask, sweep, top
from workloads.config import load_workload
from workloads.estimate import estimate
from workloads.graphs import graph
from workloads.sweep import sweep_workload

AXES = ("sram=16MiB..512MiB:x2", "memory_bandwidth=0.2TB/s..2TB/s:4", "bf16=128,512TFLOP/s")


@pytest.fixture(scope="module")
def rec_sweep():
    base = load_chip("seedchip-rec")
    grid = build_grid("seedchip-rec", [parse_vary(text) for text in AXES])
    config = load_workload("dlrm-dcnv2-small")
    return grid, sweep(grid, [sweep_workload(config, base, 256)], base), config


def _scalar_chip(grid, index):
    """The chip at one grid point, built field by field like the grid (no loader)."""
    point = grid.values(index)
    base = load_chip("seedchip-rec", {"memory_bandwidth": f"{float(point['memory_bandwidth'])!r} B/s"})
    sram = dataclasses.replace(base.memory[0], capacity_bytes=float(point["sram"]))
    return dataclasses.replace(base, memory=(sram, base.memory[1]),
                               matrix_flops_per_s={**base.matrix_flops_per_s,
                                                   "bf16": float(point["bf16"])})


@pytest.mark.parametrize("index", [0, 7, 13, 22, 39])
def test_every_objective_equals_the_scalar_model_at_sampled_points(rec_sweep, index):
    grid, result, config = rec_sweep
    chip = _scalar_chip(grid, index)
    one = estimate(config, chip, 256)
    assert result.values["latency"][index] == pytest.approx(one.latency_s, rel=1e-9)
    assert result.values["latency"][index] == pytest.approx(
        time_graph(graph(config, 256), chip).total_s * -(-config.candidates // 256), rel=1e-9)
    assert result.values["throughput"][index] == pytest.approx(one.requests_per_s, rel=1e-9)
    assert result.values["usd_per_unit"][index] == pytest.approx(one.usd_per_request, rel=1e-9)
    assert result.values["joules_per_unit"][index] == pytest.approx(one.joules_per_request,
                                                                    rel=1e-9)
    assert result.values["power"][index] == pytest.approx(chip_cost(chip).power_w, rel=1e-9)
    assert result.values["chip_usd"][index] == pytest.approx(chip.price_usd, rel=1e-9)
    assert result.estimates == grid.size * len(graph(config, 256))


def test_generation_sweep_equals_estimate():
    base = load_chip("seedchip-gen")
    axis = parse_vary("memory_count=4,6,8")
    grid = build_grid("seedchip-gen", [axis])
    config = load_workload("llama-tiny")
    result = sweep(grid, [sweep_workload(config, base, 4, prompt=64, output=9)], base)
    for index, count in enumerate(axis.values):
        one = estimate(config, load_chip("seedchip-gen", {"memory_count": str(int(count))}), 4,
                       prompt=64, output=9)
        assert result.values["latency"][index] == pytest.approx(one.latency_s, rel=1e-9)
        assert result.values["usd_per_unit"][index] == pytest.approx(one.usd_per_request,
                                                                     rel=1e-9)


def test_mix_is_relative_to_the_base_chip():
    """At the base chip's own values every relative objective is 1; weights are shares of
    base chip time, so relative $ is the weighted mean of each workload's ratio."""
    base = load_chip("seedchip-rec")
    grid = build_grid("seedchip-rec", [parse_vary("sram=128MiB,256MiB")])  # 256 MiB: base
    workloads = [sweep_workload(load_workload("dlrm-dcnv2-small"), base, 256, weight=3),
                 sweep_workload(load_workload("llama-tiny"), base, 2, prompt=32, output=4,
                                weight=1)]
    mixed = sweep(grid, workloads, base)
    assert mixed.relative and mixed.column("latency") == "latency_x_base"
    for name in ("latency", "throughput", "usd_per_unit", "joules_per_unit"):
        assert mixed.values[name][1] == pytest.approx(1.0, rel=1e-12)
    alone = [sweep(grid, [w], base).values["usd_per_unit"] for w in workloads]
    expected = 0.75 * alone[0][0] / alone[0][1] + 0.25 * alone[1][0] / alone[1][1]
    assert mixed.values["usd_per_unit"][0] == pytest.approx(expected, rel=1e-12)
    assert mixed.values["chip_usd"][0] == base.price_usd


def test_points_that_do_not_fit_memory_are_not_ranked():
    base = load_chip("seedchip-gen")
    grid = build_grid("seedchip-gen", [parse_vary("memory_count=1,2,6")])
    result = sweep(grid, [sweep_workload(load_workload("llama3-8b"), base, 64, prompt=1024,
                                         output=1024)], base)
    assert list(result.fits) == [False, True, True]
    assert 0 not in top(result, "latency", 0) and 0 not in frontier(result, "latency", "chip_usd")


def test_top_orders_by_the_objectives_direction(rec_sweep):
    _, result, _ = rec_sweep
    best = top(result, "throughput", 5)
    assert list(result.values["throughput"][best]) == sorted(result.values["throughput"],
                                                            reverse=True)[:5]
    assert len(top(result, "latency", 0)) == result.grid.size


def _dominates(a, b):
    return a[0] <= b[0] and a[1] <= b[1] and (a[0] < b[0] or a[1] < b[1])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 8), st.integers(0, 8)), min_size=0, max_size=40))
def test_pareto_frontier_is_exactly_the_non_dominated_points(points):
    """Small integers make ties and duplicates common."""
    xs = np.array([p[0] for p in points], dtype=float)
    ys = np.array([p[1] for p in points], dtype=float)
    mask = pareto_mask(xs, ys)
    on = [p for p, keep in zip(points, mask) if keep]
    for point in on:
        assert not any(_dominates(other, point) for other in points)
    for point, keep in zip(points, mask):
        if not keep:
            assert any(_dominates(other, point) for other in on)


def test_frontier_maximises_throughput(rec_sweep):
    _, result, _ = rec_sweep
    chosen = frontier(result, "throughput", "power")
    best = np.argmax(result.values["throughput"])
    assert result.values["throughput"][chosen[0]] == result.values["throughput"][best]
    assert np.all(np.diff(result.values["throughput"][chosen]) <= 0)
    assert np.all(np.diff(result.values["power"][chosen]) < 0)
