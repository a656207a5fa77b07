"""Wall-clock timing shared by the benchmarks, calibration and validation.

Warm up (JIT compile, caches, page faults) first, then take the median of several rounds,
because single rounds of a bandwidth test on a shared machine vary by tens of percent;
calibration and validation interleave their rounds so that slow spells of the machine
fall on all their measurements alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """Seconds per call over ``rounds`` timed calls after warm-up."""

    median_s: float
    min_s: float
    max_s: float
    rounds: int

    @property
    def spread(self) -> float:
        """(max - min) / median: how noisy the rounds were."""
        return (self.max_s - self.min_s) / self.median_s


SETTLE_S = 0.3
"""Pause before timing: thread pools of the previous measurement (OpenBLAS, OpenMP)
spin-wait for a while after each call and would steal the cores from the next one."""


def settle() -> None:
    """Wait until other thread pools have stopped spinning; call before timing anything."""
    time.sleep(SETTLE_S)


def measure(function: Callable[[], object], rounds: int = 7, warmup: int = 2) -> Timing:
    """Time ``function()`` ``rounds`` times after ``settle()`` and ``warmup`` untimed calls.

    rounds must be >= 5.
    """
    if rounds < 5:
        raise ValueError(f"rounds must be >= 5 for a meaningful median, got {rounds}")
    settle()
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return Timing(statistics.median(samples), min(samples), max(samples), rounds)


def measure_interleaved(functions: Sequence[Callable[[], object]], rounds: int = 7,
                        warmup: int = 2,
                        on_round: Callable[[int], None] = lambda index: None) -> list[Timing]:
    """Time several functions together, one ``Timing`` each, in the order given.

    After ``warmup`` untimed calls of each, every round visits the functions in turn; a
    visit makes one untimed call (the function's data back in cache, as a lone repeated
    run would have it) and one timed call. Each function's samples are thus spread over
    the whole run: a slow spell of a shared machine lands on every function alike rather
    than on all rounds of one. ``on_round(i)`` is called after round i.
    """
    if rounds < 5:
        raise ValueError(f"rounds must be >= 5 for a meaningful median, got {rounds}")
    settle()
    for function in functions:
        for _ in range(warmup):
            function()
    samples: list[list[float]] = [[] for _ in functions]
    for index in range(rounds):
        for function, times in zip(functions, samples):
            function()
            start = time.perf_counter()
            function()
            times.append(time.perf_counter() - start)
        on_round(index)
    return [Timing(statistics.median(times), min(times), max(times), rounds)
            for times in samples]
