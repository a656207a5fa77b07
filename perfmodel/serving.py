"""Serving one model replica under a latency SLO, and the fleet that carries a target load.

The workload side passes step times as functions of the batch (from the roofline), so
this module knows nothing about models. All searches are deterministic (seeded).

Generation (continuous batching; B = decode slots, concurrent sequences per replica):
    t_p         = prefill time of one request's prompt (prefills run one request at a time
                  in this budget; the queueing simulation below batches waiting prompts)
    step(B)     = decode-step time at batch B (mean over the output's contexts)
    TPOT(B)     = step(B) + B t_p / (output - 1)
                  (each sequence's output - 1 steps also wait for the prefills of the B
                  requests that replace finished ones, spread over its steps; TPOT per
                  request is averaged over its tokens, as MLPerf defines it, so p50 = p99)
    capacity    = B / ((output - 1) step(B) + B t_p)       requests/s at full slots
    TTFT at arrival rate r = (queueing + prefill, simulated by `simulate_batching` with
                  prefill batch times) + step(B) (the running decode step finishes first)
  B is the largest batch that fits memory with TPOT(B) within the TPOT SLO (binary
  search on this monotone predicate); the replica's rate is the largest r <= capacity
  whose simulated TTFT percentiles meet the TTFT SLO (bisection). TPOT is taken at B
  even when r < capacity (fewer sequences would decode faster: conservative).
Ranking (a dynamic-batching server of requests, each scoring ``candidates`` samples):
  the largest batch (requests) is the largest that fits memory and whose batch time
  meets the p99 SLO, up to RANKING_BATCH_LIMIT; batch times are evaluated at powers of
  two and interpolated linearly between them; the replica's rate is the largest arrival
  rate whose simulated p99 (queueing + service) meets the SLO (bisection), at most
  MAX_RANKING_LOAD of the batch-limited capacity: near saturation a finite simulation
  cannot resolve the tail (its queue has no time to build), and fleets keep headroom.
Fleet: replicas = ceil(target / replica rate), chips = replicas x chips per replica;
utilisation = target / (replicas x capacity); power and $ from `perfmodel.cost` at that
utilisation; memory bill = chips x main-memory capacity.

Default SLOs (all overridable) come from MLPerf Inference (MLCommons inference rules,
v5.0): llama2-70b-interactive TTFT p99 450 ms and TPOT p99 40 ms; DLRMv2 server
p99 60 ms.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from perfmodel.chip import Chip
from perfmodel.cost import HOURS_PER_YEAR, CostAssumptions, chip_cost
from perfmodel.errors import SeedchipError
from perfmodel.queueing import LatencyPercentiles, simulate_batching

RANKING_BATCH_LIMIT = 256
PREFILL_BATCH_LIMIT = 16
SIMULATED_REQUESTS = 10_000
BISECTION_STEPS = 10
MAX_RANKING_LOAD = 0.9


@dataclass(frozen=True)
class GenerationSlo:
    ttft_p99_s: float = 0.450
    tpot_p99_s: float = 0.040
    ttft_p50_s: float | None = None
    tpot_p50_s: float | None = None

    def __post_init__(self) -> None:
        _check_slo(self)

    @property
    def tpot_s(self) -> float:
        """The tightest TPOT bound (p50 and p99 coincide in this model)."""
        return min(v for v in (self.tpot_p99_s, self.tpot_p50_s) if v is not None)


@dataclass(frozen=True)
class RankingSlo:
    p99_s: float = 0.060

    def __post_init__(self) -> None:
        _check_slo(self)


def _check_slo(slo: object) -> None:
    for name, value in vars(slo).items():
        if value is not None and not (math.isfinite(value) and value > 0):
            raise SeedchipError(f"SLO {name} must be a positive time, got {value!r}")


def largest_feasible(feasible: Callable[[int], bool], limit: int) -> int:
    """Largest n in 1..limit with ``feasible(n)``, for a predicate that holds up to some n
    and fails beyond (doubling, then bisection); 0 when ``feasible(1)`` fails."""
    if limit < 1 or not feasible(1):
        return 0
    low, high = 1, 2
    while high <= limit and feasible(high):
        low, high = high, high * 2
    high = min(high, limit + 1)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if feasible(middle) else (low, middle)
    return low


def max_rate(meets: Callable[[float], bool], capacity_per_s: float) -> float:
    """Largest arrival rate in (0, capacity] that ``meets`` the SLO (bisection;
    ``meets`` must hold at small rates and fail, if at all, above some rate)."""
    if meets(capacity_per_s):
        return capacity_per_s
    low, high = 0.0, capacity_per_s
    for _ in range(BISECTION_STEPS):
        middle = (low + high) / 2
        low, high = (middle, high) if meets(middle) else (low, middle)
    return low


# ---------------------------------------------------------------- generation


@dataclass(frozen=True)
class GenerationServing:
    """One replica serving generation within the SLO."""

    batch: int
    output: int
    prefill_s: float
    decode_step_s: float
    tpot_s: float
    ttft: LatencyPercentiles
    request_rate_per_s: float
    capacity_per_s: float

    @property
    def tokens_per_s(self) -> float:
        """Output tokens per second at the SLO-feasible rate."""
        return self.request_rate_per_s * self.output

    @property
    def utilisation(self) -> float:
        return self.request_rate_per_s / self.capacity_per_s


def serve_generation(prefill_s: Callable[[int], float], decode_s: Callable[[int], float],
                     memory_batch: int, output: int, slo: GenerationSlo = GenerationSlo(), *,
                     requests: int = SIMULATED_REQUESTS, seed: int = 0) -> GenerationServing:
    """Largest decode batch and arrival rate of one replica within ``slo`` (see module doc).

    ``prefill_s(b)``: prefill time of b prompts; ``decode_s(b)``: decode-step time at
    batch b; ``memory_batch``: the largest batch that fits memory.
    """
    if output < 2:
        raise SeedchipError("serving generation needs --output >= 2 (one decode step at least)")
    steps = output - 1
    t_p = prefill_s(1)

    def tpot(batch: int) -> float:
        return decode_s(batch) + batch * t_p / steps

    batch = largest_feasible(lambda b: tpot(b) <= slo.tpot_s, memory_batch)
    if batch == 0:
        limit = "memory holds no sequence" if memory_batch < 1 else (
            f"the time per output token at batch 1 is {tpot(1) * 1e3:.3g} ms")
        raise SeedchipError(f"TPOT SLO {slo.tpot_s * 1e3:.3g} ms cannot be met: {limit}")
    step = decode_s(batch)
    capacity = batch / (steps * step + batch * t_p)
    prefill_times = [prefill_s(b) for b in range(1, min(batch, PREFILL_BATCH_LIMIT) + 1)]
    bounds = [(q, v) for q, v in (("p50", slo.ttft_p50_s), ("p99", slo.ttft_p99_s)) if v]

    @functools.lru_cache(maxsize=None)
    def ttft(rate: float) -> LatencyPercentiles:
        queued = simulate_batching(rate, prefill_times, requests=requests, seed=seed)
        return _shifted(queued, step)

    def meets(rate: float) -> bool:
        result = ttft(rate)
        return all(getattr(result, f"{q}_s") <= v for q, v in bounds)

    floor_s = t_p + step
    for q, v in bounds:
        if floor_s > v:
            raise SeedchipError(f"TTFT {q} SLO {v * 1e3:.3g} ms is below the unloaded TTFT "
                                f"of {floor_s * 1e3:.3g} ms (prefill {t_p * 1e3:.3g} ms + one "
                                f"decode step at batch {batch})")
    rate = max_rate(meets, capacity)
    if rate <= 0:
        raise SeedchipError("TTFT SLO cannot be met at any load")
    return GenerationServing(batch=batch, output=output, prefill_s=t_p, decode_step_s=step,
                             tpot_s=step / (1.0 - rate * t_p), ttft=ttft(rate),
                             request_rate_per_s=rate, capacity_per_s=capacity)


def _shifted(latency: LatencyPercentiles, seconds: float) -> LatencyPercentiles:
    return replace(latency, mean_s=latency.mean_s + seconds, p50_s=latency.p50_s + seconds,
                   p95_s=latency.p95_s + seconds, p99_s=latency.p99_s + seconds)


# ---------------------------------------------------------------- ranking


@dataclass(frozen=True)
class RankingServing:
    """One replica serving ranking requests within the SLO."""

    batch: int
    batch_time_s: float
    latency: LatencyPercentiles
    request_rate_per_s: float
    capacity_per_s: float

    @property
    def utilisation(self) -> float:
        return self.request_rate_per_s / self.capacity_per_s


def serve_ranking(batch_time_s: Callable[[int], float], memory_batch: int,
                  slo: RankingSlo = RankingSlo(), *, batch_limit: int = RANKING_BATCH_LIMIT,
                  requests: int = SIMULATED_REQUESTS, seed: int = 0) -> RankingServing:
    """Largest batch and arrival rate of one replica within ``slo`` (see module doc).

    ``batch_time_s(b)``: time of a batch of b requests; ``memory_batch``: the largest
    batch (requests) that fits memory.
    """
    if memory_batch < 1:
        raise SeedchipError("memory holds no request")
    if batch_time_s(1) > slo.p99_s:
        raise SeedchipError(f"p99 SLO {slo.p99_s * 1e3:.3g} ms is below the time of one request "
                            f"({batch_time_s(1) * 1e3:.3g} ms)")
    batch = largest_feasible(lambda b: batch_time_s(b) <= slo.p99_s,
                             min(memory_batch, batch_limit))
    times = interpolated_batch_times(batch_time_s, batch)
    capacity = batch / times[-1]

    @functools.lru_cache(maxsize=None)
    def latency(rate: float) -> LatencyPercentiles:
        return simulate_batching(rate, times, requests=requests, seed=seed)

    rate = max_rate(lambda r: latency(r).p99_s <= slo.p99_s, MAX_RANKING_LOAD * capacity)
    if rate <= 0:
        raise SeedchipError(f"p99 SLO {slo.p99_s * 1e3:.3g} ms leaves no room for queueing "
                            f"behind one request's {batch_time_s(1) * 1e3:.3g} ms at any load")
    return RankingServing(batch=batch, batch_time_s=times[-1], latency=latency(rate),
                          request_rate_per_s=rate, capacity_per_s=capacity)


def interpolated_batch_times(batch_time_s: Callable[[int], float], batch: int) -> np.ndarray:
    """Times of batches 1..batch: exact at powers of two and at ``batch``, linear between."""
    knots = sorted({*(2**i for i in range(int(math.log2(batch)) + 1)), batch})
    return np.interp(np.arange(1, batch + 1), knots, [batch_time_s(b) for b in knots])


# ---------------------------------------------------------------- fleet


@dataclass(frozen=True)
class Fleet:
    """Chips that carry a target load, and what they cost and draw."""

    replicas: int
    chips_per_replica: int
    utilisation: float
    power_w: float
    usd_per_hour: float
    memory_bytes: float
    target_per_s: float

    @property
    def chips(self) -> int:
        return self.replicas * self.chips_per_replica

    @property
    def usd_per_year(self) -> float:
        return self.usd_per_hour * HOURS_PER_YEAR

    @property
    def usd_per_unit(self) -> float:
        """Dollars per unit of the target (request or token)."""
        return self.usd_per_hour / (self.target_per_s * 3600.0)

    @property
    def joules_per_unit(self) -> float:
        """Chip joules per unit of the target (before PUE)."""
        return self.power_w / self.target_per_s


def plan_fleet(target_per_s: float, rate_per_replica: float, capacity_per_replica: float,
               chip: Chip, chips_per_replica: int,
               assumptions: CostAssumptions = CostAssumptions()) -> Fleet:
    """Replicas, chips, power, $ and memory to carry ``target_per_s`` units per second when
    a replica meets the SLO up to ``rate_per_replica`` and saturates at
    ``capacity_per_replica`` (both in the target's units)."""
    if not (math.isfinite(target_per_s) and target_per_s > 0):
        raise SeedchipError(f"target load must be positive, got {target_per_s!r}")
    replicas = math.ceil(target_per_s / rate_per_replica * (1 - 1e-12))
    utilisation = min(1.0, target_per_s / (replicas * capacity_per_replica))
    cost = chip_cost(chip, replace(assumptions, utilisation=utilisation))
    chips = replicas * chips_per_replica
    return Fleet(replicas=replicas, chips_per_replica=chips_per_replica,
                 utilisation=utilisation, power_w=cost.power_w * chips,
                 usd_per_hour=cost.usd_per_hour * chips,
                 memory_bytes=chips * chip.main_memory.capacity_bytes,
                 target_per_s=target_per_s)
