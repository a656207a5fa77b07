"""Wall-clock timing shared by the benchmarks, calibration and validation.

Warm up (JIT compile, caches, page faults) first, then take the median of several rounds,
because single rounds of a bandwidth test on a shared machine vary by tens of percent;
calibration and validation interleave their rounds so that slow spells of the machine
fall on all their measurements alike.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import itertools
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """Seconds per call over ``rounds`` timed calls after warm-up (``samples``: each round's
    call, in order, where the measurement keeps them)."""

    median_s: float
    min_s: float
    max_s: float
    rounds: int
    samples: tuple[float, ...] = ()

    @classmethod
    def of(cls, samples: Sequence[float]) -> Timing:
        """The timing of these samples, which it keeps."""
        return cls(statistics.median(samples), min(samples), max(samples), len(samples),
                   tuple(samples))

    @property
    def spread(self) -> float:
        """(max - min) / median: how noisy the rounds were."""
        return (self.max_s - self.min_s) / self.median_s


REWARM_CALLS = 3
REWARM_S = 0.005
"""Untimed calls before each timed one in calibration and validation, at least
REWARM_CALLS of them and for at least REWARM_S: the model times an op run repeatedly on
its own, its weights, state (KV caches) and hot embedding rows where its footprint puts
them, and after other work this host's caches (and address translations) get there only
after several calls. Decode attention over a 12 MB cache, after other cases: 817 us after
one untimed call, 630 after two, 568 after three, 335 back to back; an embedding bag of
10k Zipf(1.2) lookups of 512 B rows, fresh indices each call, after a 512 MB stream: 262
us after one call, 224 after three, 173 after ten, 159 after thirty. Short ops get many
calls for little time, long ones a few. Random lookups are not repeated: see
``input_sets``."""

HOST_TOLERANCE = 0.2
"""How far (as a share) a re-measured ceiling of the host may be from its chip file before
validation says so, and before a round stops counting as run on the host as calibrated."""

MIN_KEPT_ROUNDS = 5
"""Fewer rounds in one host state than this: medians over all rounds instead."""


def commonest_state(rates: Sequence[float]) -> list[bool]:
    """Which rounds ran in the host's commonest state, told by a probe's rate in each round:
    those within HOST_TOLERANCE of the rate that the most rounds are within HOST_TOLERANCE
    of (the faster such rate on ties). This host moves its two CPUs between one core complex
    and two every few seconds to minutes, and its DRAM reads between about 36 and 60 GB/s
    with them: a median over rounds of both would describe neither."""
    def near(center: float) -> list[bool]:
        return [abs(rate / center - 1.0) <= HOST_TOLERANCE for rate in rates]
    return near(max(rates, key=lambda center: (sum(near(center)), center)))


def host_states(rates: Sequence[float]) -> list[list[bool]]:
    """The host states the rounds ran in, commonest first: the commonest state
    (``commonest_state``), then the commonest among the rounds in none so far, and so on,
    each further state only while it holds at least MIN_KEPT_ROUNDS rounds."""
    states = [commonest_state(rates)]
    while True:
        rest = [index for index in range(len(rates)) if not any(s[index] for s in states)]
        if len(rest) < MIN_KEPT_ROUNDS:
            return states
        among_rest = commonest_state([rates[index] for index in rest])
        if sum(among_rest) < MIN_KEPT_ROUNDS:
            return states
        state = [False] * len(rates)
        for index, kept in zip(rest, among_rest):
            state[index] = kept
        states.append(state)


def kept_rounds(timing: Timing, keep: Sequence[bool]) -> Timing:
    """``timing`` over the rounds marked in ``keep`` when at least MIN_KEPT_ROUNDS are,
    else over all of its rounds."""
    if sum(keep) < MIN_KEPT_ROUNDS:
        return timing
    return Timing.of([sample for sample, use in zip(timing.samples, keep) if use])


FRESH_INPUT_BYTES = 256 * 2**20
MAX_INPUT_SETS = 64


def input_sets(gathered_bytes: float) -> int:
    """How many sets of random indices a gather measurement cycles through, one set a call,
    so that each call's rows are as cold as a new batch's: enough that the other sets' rows,
    read in between, add up to ``FRESH_INPUT_BYTES`` (far beyond a last-level cache).

    Repeating one set, the untimed calls before each timed one bring its rows into cache,
    which the model (rightly) never assumes of a batch's lookups: an embedding bag of 49k
    random 128 B rows of a 256 MB table took 361 us with one set and 830 us cycling 16; the
    DRAM gather microbenchmark's 1024 B rows 27 ns with one set, 61-65 ns cycling 8.
    """
    if gathered_bytes <= 0:
        return 1
    return int(min(MAX_INPUT_SETS, max(1, math.ceil(FRESH_INPUT_BYTES / gathered_bytes))))


def cycling(functions: Sequence[Callable[[], object]]) -> Callable[[], object]:
    """One function that calls the next of ``functions`` each time (round robin)."""
    following = itertools.cycle(functions)
    return lambda: next(following)()


SETTLE_S = 0.3
"""Pause before timing: thread pools of the previous measurement (OpenBLAS, OpenMP)
spin-wait for a while after each call and would steal the cores from the next one."""


def settle() -> None:
    """Wait until other thread pools have stopped spinning, and keep freed memory in the
    process (``keep_freed_memory``); call before timing anything."""
    keep_freed_memory()
    time.sleep(SETTLE_S)


_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_MAX_BYTES = 32 * 2**20  # glibc's ceiling on 64-bit


@functools.cache
def keep_freed_memory() -> bool:
    """Ask glibc to serve arrays of up to 32 MiB from the heap and not to hand freed memory
    back to the system, as a serving process's allocator does in steady state.

    Otherwise every kernel output of a few MiB is a fresh mapping, and its first touch costs
    page faults that dwarf the kernel on a virtual machine: dlrm-dcnv2-small's cross layers
    took 26 ms instead of 12.5 ms on the calls whose output was freshly mapped (a forward
    pass 101 vs 76 ms). The model does not time page faults, and a server does not pay
    them per request. Returns False where the C library has no ``mallopt`` (not glibc).
    """
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):
        mallopt = None
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX_BYTES)
                and mallopt(_M_TRIM_THRESHOLD, 2**30))


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
    return Timing.of(samples)


def measure_interleaved(functions: Sequence[Callable[[], object]], rounds: int = 7,
                        warmup: int = 2,
                        on_round: Callable[[int], None] = lambda index: None,
                        rewarm: int = 1, rewarm_s: float = 0.0,
                        more: Callable[[], bool] = lambda: False,
                        max_rounds: int = 0) -> list[Timing]:
    """Time several functions together, one ``Timing`` each, in the order given.

    After ``warmup`` untimed calls of each, every round visits the functions in turn; a
    visit makes untimed calls, at least ``rewarm`` of them and for at least ``rewarm_s``
    seconds (the function's data back in cache, as a lone repeated run would have it), and
    one timed call. Each function's samples are thus spread over the whole run: a slow
    spell of a shared machine lands on every function alike rather than on all rounds of
    one. ``on_round(i)`` is called after round i. After ``rounds`` rounds, further ones
    run while ``more()`` says so, up to ``max_rounds`` in all.
    """
    if rounds < 5:
        raise ValueError(f"rounds must be >= 5 for a meaningful median, got {rounds}")
    settle()
    for function in functions:
        for _ in range(warmup):
            function()
    samples: list[list[float]] = [[] for _ in functions]
    index = 0
    while index < rounds or (index < max_rounds and more()):
        for function, times in zip(functions, samples):
            _rewarm(function, rewarm, rewarm_s)
            start = time.perf_counter()
            function()
            times.append(time.perf_counter() - start)
        on_round(index)
        index += 1
    return [Timing.of(times) for times in samples]


def _rewarm(function: Callable[[], object], calls: int, seconds: float) -> None:
    """Call ``function`` at least ``calls`` times and for at least ``seconds``."""
    start = time.perf_counter()
    made = 0
    while made < calls or time.perf_counter() - start < seconds:
        function()
        made += 1
