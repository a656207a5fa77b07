"""Latency under load: Poisson arrivals at a server that runs batches.

Two closed forms, used to test the simulation where they apply:
- M/M/1 (exponential service, one at a time): the time in system is exponential with
  rate mu - lambda, so its q-quantile is -ln(1 - q) / (mu - lambda).
- M/D/1 (deterministic service s, one at a time): the mean wait in queue is
  rho s / (2 (1 - rho)) with rho = lambda s (Pollaczek-Khinchine).

The general case, a server that takes every waiting request up to ``max_batch`` whenever
it frees up (dynamic batching) and needs ``batch_time_s[b]`` for a batch of b, has no
closed form; `simulate_batching` runs a seeded discrete-event simulation of it.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from perfmodel.errors import SeedchipError


def mm1_sojourn_quantile_s(arrival_per_s: float, service_per_s: float, quantile: float) -> float:
    """q-quantile of the time in an M/M/1 system; inf when the queue is unstable."""
    if arrival_per_s >= service_per_s:
        return math.inf
    return -math.log(1.0 - quantile) / (service_per_s - arrival_per_s)


def md1_mean_wait_s(arrival_per_s: float, service_s: float) -> float:
    """Mean wait in queue (before service) of an M/D/1 system; inf when unstable."""
    load = arrival_per_s * service_s
    if load >= 1:
        return math.inf
    return load * service_s / (2.0 * (1.0 - load))


@dataclass(frozen=True)
class LatencyPercentiles:
    mean_s: float
    p50_s: float
    p95_s: float
    p99_s: float
    mean_batch: float


UNSTABLE = LatencyPercentiles(math.inf, math.inf, math.inf, math.inf, math.nan)


def simulate_batching(arrival_per_s: float, batch_time_s: Sequence[float], *,
                      requests: int = 20_000, seed: int = 0,
                      exponential_service: bool = False) -> LatencyPercentiles:
    """Percentiles of request latency (queueing + batch service) under Poisson arrivals.

    ``batch_time_s[b - 1]`` is the service time of a batch of b requests; its length is
    the largest batch. With ``exponential_service`` each batch's time is drawn from an
    exponential distribution of that mean (for testing against M/M/1). The first 10% of
    requests are dropped as warm-up. Unstable loads (arrivals faster than the largest
    batch can serve) return infinite percentiles.
    """
    times = np.asarray(batch_time_s, dtype=np.float64)
    if times.size == 0 or not np.all(np.isfinite(times)) or np.any(times <= 0):
        raise SeedchipError("batch times must be a non-empty list of positive seconds")
    if not arrival_per_s > 0:
        raise SeedchipError(f"arrival rate must be positive, got {arrival_per_s!r}")
    max_batch = times.size
    if arrival_per_s * times[-1] / max_batch >= 1.0:
        return UNSTABLE
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1.0 / arrival_per_s, requests))
    arrival_list = arrivals.tolist()
    service_list = times.tolist()
    ends, sizes = [], []  # completion time and size of each batch
    clock = 0.0
    first = 0
    while first < requests:
        if clock < arrival_list[first]:
            clock = arrival_list[first]
        last = bisect.bisect_right(arrival_list, clock, first, min(first + max_batch, requests))
        service = service_list[last - first - 1]
        clock += rng.exponential(service) if exponential_service else service
        ends.append(clock)
        sizes.append(last - first)
        first = last
    batches = len(ends)
    latencies = np.repeat(ends, sizes) - arrivals
    kept = latencies[requests // 10:]
    p50, p95, p99 = np.percentile(kept, [50, 95, 99])
    return LatencyPercentiles(float(np.mean(kept)), float(p50), float(p95), float(p99),
                              requests / batches)
