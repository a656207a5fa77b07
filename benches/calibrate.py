"""Calibrate the host: microbenchmarks only, written as a chip file perfmodel loads like any preset.

Each figure is the median of >= 5 timed rounds after warm-up on pre-touched memory:

- matrix peak: the project's own GEMM kernel (`kernels.linear`, fp32) on square
  problems of `GEMM_SIZES`;
- vector peak: independent FMAs over an L1-resident array per thread;
- transcendental rate: vectorised exp (the kernels' own `exp_f32`) likewise;
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
OVERHEAD_CALLS = 400
CALIBRATION_SHAPES = {("gemm", size, size, size) for size in GEMM_SIZES} | {
    ("gather_row_bytes", GATHER_ROW_BYTES)}


@dataclass(frozen=True)
class Scale:
    """How big the microbenchmarks are: the real run, or tiny ones for tests."""

    gemm_sizes: tuple[int, ...] = GEMM_SIZES
    dram_buffer_bytes: int = 512 * 2**20
    gather_rows: int = 1 << 18
    rounds: int = 7
    l3_multiple: int = 4  # the DRAM buffer is at least this many times the L3

    @property
    def steps(self) -> int:
        return len(self.gemm_sizes) + 10


TINY = Scale(gemm_sizes=(64, 96), dram_buffer_bytes=4 * 2**20, gather_rows=1 << 10, rounds=5,
             l3_multiple=0)


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


def _gemm(index: int, size: int, rounds: int) -> Measurement:
    import kernels

    rng = np.random.default_rng(size)
    x = rng.standard_normal((size, size), dtype=np.float32)
    w = rng.standard_normal((size, size), dtype=np.float32)
    timing = measure(lambda: kernels.linear(x, w), rounds)
    return _rate(f"gemm_{index}", 2.0 * size**3, timing, units.FLOP_PER_S,
                 f"kernels.linear fp32 {size}x{size}x{size}")


def _vector(threads: int, rounds: int) -> Measurement:
    from kernels.membench import fma_throughput

    x = _floats(threads * 2048).reshape(threads, 2048)
    iterations = 4000
    timing = measure(lambda: fma_throughput(x, iterations, np.float32(0.999),
                                            np.float32(0.001)), rounds)
    return _rate("vector", 2.0 * iterations * x.size, timing, units.FLOP_PER_S,
                 f"fma over {threads} x 8 KiB")


def _transcendental(threads: int, rounds: int) -> Measurement:
    from kernels.membench import exp_throughput

    x = _floats(threads * 2048).reshape(threads, 2048)
    iterations = 500
    timing = measure(lambda: exp_throughput(x, iterations), rounds)
    return _rate("transcendental", float(iterations * x.size), timing, units.FLOP_PER_S,
                 f"vectorised exp over {threads} x 8 KiB (exp/s)")


def _read(name: str, buffer_bytes: int, threads: int, rounds: int, detail: str) -> Measurement:
    from kernels.membench import stream_read_repeat

    a = _floats(buffer_bytes // 4)
    repeats = max(1, (256 * 2**20) // a.nbytes)
    timing = measure(lambda: stream_read_repeat(a, repeats, threads), rounds)
    return _rate(name, float(repeats * a.nbytes), timing, units.BYTES_PER_S,
                 f"{detail}: {units.format_quantity(a.nbytes, units.BYTES, binary=True)} "
                 f"read {repeats}x")


def _triad(buffer_bytes: int, rounds: int) -> Measurement:
    from kernels.membench import triad

    arrays = [_floats(buffer_bytes // 4 // 4) for _ in range(3)]
    timing = measure(lambda: triad(arrays[0], arrays[1], arrays[2], np.float32(3.0)), rounds)
    return _rate("dram_triad", 3.0 * arrays[0].nbytes, timing, units.BYTES_PER_S,
                 f"a = b + s*c, 3 x {units.format_quantity(arrays[0].nbytes, units.BYTES, binary=True)}"
                 ", counted as STREAM does (no write-allocate)")


def _gather(name: str, table_bytes: int, threads: int, gather_rows: int, rounds: int,
            detail: str) -> Measurement:
    from kernels.membench import gather_rows_sum

    dim = GATHER_ROW_BYTES // 4
    table = _floats(table_bytes // 4).reshape(-1, dim)
    rows = np.random.default_rng(7).integers(0, table.shape[0], gather_rows, dtype=np.int64)
    out = np.zeros((threads * 4, dim), dtype=np.float32)
    timing = measure(lambda: gather_rows_sum(table, rows, out), rounds)
    return _rate(name, float(gather_rows * GATHER_ROW_BYTES), timing, units.BYTES_PER_S,
                 f"{detail}: {gather_rows} random {GATHER_ROW_BYTES} B rows of a "
                 f"{units.format_quantity(table.nbytes, units.BYTES, binary=True)} table")


def _overhead(rounds: int) -> Measurement:
    import kernels

    x = _floats(16).reshape(1, 16)
    weight = _floats(16)

    def calls() -> None:
        for _ in range(OVERHEAD_CALLS):
            kernels.rms_norm(x, weight)

    timing = measure(calls, rounds)
    return Measurement("overhead", timing.median_s / OVERHEAD_CALLS, units.SECONDS,
                       timing.spread, "kernels.rms_norm on [1, 16]: wrapper, dispatch and a "
                       "parallel region")


def _l3_bytes(system: SystemInfo) -> int:
    l3 = system.cache(3)
    return l3.size_bytes if l3 else 8 * 2**20


def _dram_buffer_bytes(scale: Scale, l3_bytes: int) -> int:
    """A buffer far larger than the last-level cache, so reads come from DRAM."""
    return max(scale.dram_buffer_bytes, scale.l3_multiple * l3_bytes)


@dataclass(frozen=True)
class Drift:
    """How fast the host runs now against its chip file: current / calibrated, per ceiling."""

    gemm: float
    vector: float
    dram_read: float


def drift(chip, scale: Scale = Scale()) -> Drift:
    """Re-measure three calibration microbenchmarks (GEMM, FMA, DRAM read) and compare them
    with the figures in ``chip`` (a calibrated host file). A shared machine's speed wanders
    by tens of percent within minutes; validation reports this beside its errors, and never
    uses it to adjust a prediction."""
    import numba

    threads = numba.get_num_threads()
    rounds = scale.rounds
    gemm = _gemm(0, scale.gemm_sizes[0], rounds).value
    vector = _vector(threads, rounds).value
    dram_bytes = _dram_buffer_bytes(scale, _l3_bytes(system_info()))
    dram = _read("dram_read", dram_bytes, threads, rounds, "beyond L3").value
    return Drift(gemm / chip.peak_flops_per_s("fp32"), vector / chip.vector_flops_per_s,
                 dram / chip.main_memory.bandwidth_bytes_per_s)


def calibrate(on_step: Callable[[str], None] = lambda name: None,
              scale: Scale = Scale()) -> Calibration:
    """Run every microbenchmark; ``on_step`` is told the name of each before it runs.

    The GEMM measurements are named gemm_0, gemm_1, ... in the order of ``scale.gemm_sizes``.
    """
    import numba

    system = system_info()
    threads = numba.get_num_threads()
    l2 = system.cache(2)
    l2_bytes = (l2.size_bytes if l2 else 256 * 2**10) * threads
    l3_bytes = _l3_bytes(system)
    dram = _dram_buffer_bytes(scale, l3_bytes)
    rounds = scale.rounds
    steps: list[tuple[str, Callable[[], Measurement]]] = [
        *((f"gemm {size}", lambda i=i, size=size: _gemm(i, size, rounds))
          for i, size in enumerate(scale.gemm_sizes)),
        ("vector", lambda: _vector(threads, rounds)),
        ("transcendental", lambda: _transcendental(threads, rounds)),
        ("L2 read", lambda: _read("l2_read", l2_bytes // 2, threads, rounds,
                                  "half of L2 per thread")),
        ("L3 read", lambda: _read("l3_read", l3_bytes // 2, threads, rounds, "half of L3")),
        ("DRAM read", lambda: _read("dram_read", dram, threads, rounds, "beyond L3")),
        ("DRAM triad", lambda: _triad(dram, rounds)),
        ("L2 gather", lambda: _gather("l2_gather", l2_bytes // 2, threads, scale.gather_rows,
                                      rounds, "L2-resident")),
        ("L3 gather", lambda: _gather("l3_gather", l3_bytes // 2, threads, scale.gather_rows,
                                      rounds, "L3-resident")),
        ("DRAM gather", lambda: _gather("dram_gather", 2 * dram, threads, scale.gather_rows,
                                        rounds, "DRAM")),
        ("overhead", lambda: _overhead(rounds)),
    ]
    assert len(steps) == scale.steps
    measurements = []
    for name, step in steps:
        on_step(name)
        measurements.append(step())
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Calibration(system, threads, date, tuple(measurements))
