"""Calibrate the host: microbenchmarks only, written as a chip file perfmodel loads like any preset.

Each figure is the median of >= 5 timed rounds after warm-up on pre-touched memory:

- matrix peak: the project's own GEMM kernel (`kernels.linear`, fp32) on square
  problems of `GEMM_SIZES`;
- vector peak: independent FMAs over an L1-resident array per thread;
- streaming read bandwidth of each level: repeated reads of a buffer sized to fit the
  per-core L2, the shared L3, or far larger than L3 (DRAM); triad is reported too;
- random-row gather bandwidth of each level for `GATHER_ROW_BYTES`-byte rows: one cache
  line per row, so the gather efficiency is the pure cost of a random access;
- fixed per-op overhead: a call of a public kernel wrapper on a tiny input (validation,
  dispatch and a parallel region).

Validation (`benches.validate`) must use other shapes; `CALIBRATION_SHAPES` lists what is
measured here so a test can check the two sets are disjoint.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Callable

import numpy as np

from benches.system import SystemInfo, system_info
from benches.timing import Timing, measure
from perfmodel import units

GEMM_SIZES = (1024, 1536)
GATHER_ROW_BYTES = 64
DRAM_BUFFER_BYTES = 512 * 2**20
GATHER_ROWS = 1 << 18
OVERHEAD_CALLS = 400
CALIBRATION_SHAPES = {("gemm", size, size, size) for size in GEMM_SIZES} | {
    ("gather_row_bytes", GATHER_ROW_BYTES)}


@dataclass(frozen=True)
class Measurement:
    """One calibrated figure in base units, with the spread of its rounds."""

    name: str
    value: float
    dimension: str
    spread: float
    detail: str


@dataclass(frozen=True)
class Calibration:
    system: SystemInfo
    threads: int
    date: str
    measurements: tuple[Measurement, ...]

    def value(self, name: str) -> float:
        return next(m.value for m in self.measurements if m.name == name)


def _rate(name: str, amount: float, timing: Timing, dimension: str, detail: str) -> Measurement:
    """``amount`` (flops or bytes) per call over the median time; spread as measured."""
    return Measurement(name, amount / timing.median_s, dimension, timing.spread, detail)


def _floats(count: int) -> np.ndarray:
    """A pre-touched float32 buffer (fresh pages are slow on first touch)."""
    return np.ones(max(count, 1), dtype=np.float32)


def _gemm(size: int) -> Measurement:
    import kernels

    rng = np.random.default_rng(size)
    x = rng.standard_normal((size, size), dtype=np.float32)
    w = rng.standard_normal((size, size), dtype=np.float32)
    timing = measure(lambda: kernels.linear(x, w))
    return _rate(f"gemm_{size}", 2.0 * size**3, timing, units.FLOP_PER_S,
                 f"kernels.linear fp32 {size}x{size}x{size}")


def _vector(threads: int) -> Measurement:
    from kernels.membench import fma_throughput

    x = _floats(threads * 2048).reshape(threads, 2048)
    iterations = 4000
    timing = measure(lambda: fma_throughput(x, iterations, np.float32(0.999),
                                            np.float32(0.001)))
    return _rate("vector", 2.0 * iterations * x.size, timing, units.FLOP_PER_S,
                 f"fma over {threads} x 8 KiB")


def _read(name: str, buffer_bytes: int, threads: int, detail: str) -> Measurement:
    from kernels.membench import stream_read_repeat

    a = _floats(buffer_bytes // 4)
    repeats = max(1, (256 * 2**20) // a.nbytes)
    timing = measure(lambda: stream_read_repeat(a, repeats, threads))
    return _rate(name, float(repeats * a.nbytes), timing, units.BYTES_PER_S,
                 f"{detail}: {units.format_quantity(a.nbytes, units.BYTES, binary=True)} "
                 f"read {repeats}x")


def _triad() -> Measurement:
    from kernels.membench import triad

    arrays = [_floats(DRAM_BUFFER_BYTES // 4 // 4) for _ in range(3)]
    timing = measure(lambda: triad(arrays[0], arrays[1], arrays[2], np.float32(3.0)))
    return _rate("dram_triad", 3.0 * arrays[0].nbytes, timing, units.BYTES_PER_S,
                 "a = b + s*c, 3 x 128 MiB, counted as STREAM does (no write-allocate)")


def _gather(name: str, table_bytes: int, threads: int, detail: str) -> Measurement:
    from kernels.membench import gather_rows_sum

    dim = GATHER_ROW_BYTES // 4
    table = _floats(table_bytes // 4).reshape(-1, dim)
    rows = np.random.default_rng(7).integers(0, table.shape[0], GATHER_ROWS, dtype=np.int64)
    out = np.zeros((threads * 4, dim), dtype=np.float32)
    timing = measure(lambda: gather_rows_sum(table, rows, out))
    return _rate(name, float(GATHER_ROWS * GATHER_ROW_BYTES), timing, units.BYTES_PER_S,
                 f"{detail}: {GATHER_ROWS} random {GATHER_ROW_BYTES} B rows of a "
                 f"{units.format_quantity(table.nbytes, units.BYTES, binary=True)} table")


def _overhead() -> Measurement:
    import kernels

    x = _floats(16).reshape(1, 16)
    weight = _floats(16)

    def calls() -> None:
        for _ in range(OVERHEAD_CALLS):
            kernels.rms_norm(x, weight)

    timing = measure(calls)
    return Measurement("overhead", timing.median_s / OVERHEAD_CALLS, units.SECONDS,
                       timing.spread, "kernels.rms_norm on [1, 16]: wrapper, dispatch and a "
                       "parallel region")


STEP_COUNT = len(GEMM_SIZES) + 9


def calibrate(on_step: Callable[[str], None] = lambda name: None) -> Calibration:
    """Run every microbenchmark; ``on_step`` is told the name of each before it runs."""
    import numba

    system = system_info()
    threads = numba.get_num_threads()
    l2 = system.cache(2)
    l3 = system.cache(3)
    l2_bytes = (l2.size_bytes if l2 else 256 * 2**10) * threads
    l3_bytes = l3.size_bytes if l3 else 8 * 2**20
    steps: list[tuple[str, Callable[[], Measurement]]] = [
        *((f"gemm {size}", lambda size=size: _gemm(size)) for size in GEMM_SIZES),
        ("vector", lambda: _vector(threads)),
        ("L2 read", lambda: _read("l2_read", l2_bytes // 2, threads, "half of L2 per thread")),
        ("L3 read", lambda: _read("l3_read", l3_bytes // 2, threads, "half of L3")),
        ("DRAM read", lambda: _read("dram_read", DRAM_BUFFER_BYTES, threads, "far beyond L3")),
        ("DRAM triad", _triad),
        ("L2 gather", lambda: _gather("l2_gather", l2_bytes // 2, threads, "L2-resident")),
        ("L3 gather", lambda: _gather("l3_gather", l3_bytes // 2, threads, "L3-resident")),
        ("DRAM gather", lambda: _gather("dram_gather", 2 * DRAM_BUFFER_BYTES, threads,
                                        "DRAM")),
        ("overhead", _overhead),
    ]
    assert len(steps) == STEP_COUNT
    measurements = []
    for name, step in steps:
        on_step(name)
        measurements.append(step())
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Calibration(system, threads, date, tuple(measurements))
