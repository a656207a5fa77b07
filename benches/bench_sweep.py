"""Sweep engine throughput: (grid points x ops in the graph) estimates per second.

A 500 x 500 grid of SRAM capacity and memory bandwidth on seedchip-rec, timed on the
dlrm-dcnv2 graph at batch 2048 (the grid chip and the graph are built once, outside the
timing; `perfmodel.sweep.sweep` times every op over the whole grid and derives all
objectives). Target: >= 1,000,000 estimates/s on a 2-core machine.
"""

from __future__ import annotations

import time


from perfmodel.chip import load_chip
from perfmodel.grid import build_grid, parse_vary
from perfmodel.sweep import sweep
from workloads.config import load_workload
from workloads.sweep import sweep_workload

TARGET_ESTIMATES_PER_S = 1e6
AXES = ("sram=1MiB..512MiB:500", "memory_bandwidth=0.1TB/s..8TB/s:500")


def test_sweep_estimates_per_second(benchmark):
    base = load_chip("seedchip-rec")
    started = time.perf_counter()
    grid = build_grid("seedchip-rec", [parse_vary(text) for text in AXES])
    build_s = time.perf_counter() - started
    workload = sweep_workload(load_workload("dlrm-dcnv2"), base, 2048)
    result = benchmark.pedantic(sweep, args=(grid, [workload], base), rounds=5,
                                warmup_rounds=1, iterations=1)
    rate = result.estimates / benchmark.stats.stats.median
    benchmark.extra_info.update(grid_points=grid.size, ops=workload.op_count,
                                estimates=result.estimates,
                                estimates_per_s=round(rate), grid_build_s=round(build_s, 4))
    print(f"\nsweep: {grid.size:,} points x {workload.op_count} ops = {result.estimates:,} "
          f"estimates in {benchmark.stats.stats.median:.3f} s (median of 5) = "
          f"{rate:,.0f} estimates/s; grid chip built in {build_s:.3f} s")
    assert rate >= TARGET_ESTIMATES_PER_S
