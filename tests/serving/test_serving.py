"""Serving: SLO batch search against brute force, queueing against closed forms, fleet
arithmetic and cost linearity, and clear errors for infeasible requests."""

import math

import pytest
from hypothesis import given, settings, strategies as st

from perfmodel.chip import load_chip
from perfmodel.cost import CostAssumptions, HOURS_PER_YEAR
from perfmodel.errors import SeedchipError
from perfmodel.queueing import mm1_sojourn_quantile_s, simulate_batching
from perfmodel.serving import (MAX_RANKING_LOAD, GenerationSlo, RankingSlo,
                               interpolated_batch_times, largest_feasible, max_rate,
                               plan_fleet, serve_generation, serve_ranking)

H100 = load_chip("h100-sxm")


@settings(max_examples=200)
@given(threshold=st.integers(0, 3000), limit=st.integers(0, 2000))
def test_largest_feasible_matches_brute_force(threshold, limit):
    feasible = lambda n: n <= threshold
    brute = max((n for n in range(1, limit + 1) if feasible(n)), default=0)
    assert largest_feasible(feasible, limit) == brute


def _decode(batch):  # memory-bound weights read + a per-sequence share
    return 0.010 + 0.0002 * batch


def _prefill(batch):
    return 0.020 * batch


@settings(max_examples=30, deadline=None)
@given(tpot_ms=st.floats(12, 200), memory_batch=st.integers(1, 600), output=st.integers(2, 400))
def test_generation_batch_is_the_largest_meeting_tpot_and_memory(tpot_ms, memory_batch, output):
    slo = GenerationSlo(ttft_p99_s=10.0, tpot_p99_s=tpot_ms / 1e3)
    tpot = lambda b: _decode(b) + b * _prefill(1) / (output - 1)
    brute = max((b for b in range(1, memory_batch + 1) if tpot(b) <= slo.tpot_p99_s), default=0)
    if brute == 0:
        with pytest.raises(SeedchipError, match="TPOT SLO"):
            serve_generation(_prefill, _decode, memory_batch, output, slo, requests=2000)
        return
    served = serve_generation(_prefill, _decode, memory_batch, output, slo, requests=2000)
    assert served.batch == brute
    assert served.tpot_s <= slo.tpot_p99_s * (1 + 1e-9)
    assert served.request_rate_per_s <= served.capacity_per_s


def test_generation_capacity_and_tpot_by_hand():
    served = serve_generation(_prefill, _decode, 64, 101, GenerationSlo(10.0, 1.0))
    assert served.batch == 64
    step = _decode(64)
    assert served.capacity_per_s == pytest.approx(64 / (100 * step + 64 * 0.020))
    # at full load the prefills of 64 requests are spread over each request's 100 steps
    assert served.tpot_s == pytest.approx(step + 64 * 0.020 / 100)
    assert served.tokens_per_s == pytest.approx(served.request_rate_per_s * 101)


def test_tight_ttft_lowers_the_rate_and_is_met():
    loose = serve_generation(_prefill, _decode, 64, 101, GenerationSlo(10.0, 1.0))
    tight = serve_generation(_prefill, _decode, 64, 101, GenerationSlo(0.08, 1.0))
    assert tight.request_rate_per_s < loose.request_rate_per_s
    assert tight.ttft.p99_s <= 0.08


@pytest.mark.parametrize("slo, message", [
    (GenerationSlo(ttft_p99_s=0.01, tpot_p99_s=1.0), "below the unloaded TTFT"),
    (GenerationSlo(ttft_p99_s=1.0, tpot_p99_s=0.005), "TPOT SLO 5 ms cannot be met"),
])
def test_infeasible_generation_slo_is_a_clear_error(slo, message):
    with pytest.raises(SeedchipError, match=message):
        serve_generation(_prefill, _decode, 64, 101, slo)


def _ranking(batch):
    return 0.001 + 0.0005 * batch


def test_ranking_batch_is_the_largest_meeting_the_slo_and_memory():
    for slo_ms, memory_batch in ((20, 1000), (20, 10), (5, 1000), (1.7, 1000)):
        served = serve_ranking(_ranking, memory_batch, RankingSlo(slo_ms / 1e3))
        brute = max(b for b in range(1, min(memory_batch, 256) + 1)
                    if _ranking(b) <= slo_ms / 1e3)
        assert served.batch == brute
        assert served.latency.p99_s <= slo_ms / 1e3
        assert served.request_rate_per_s <= MAX_RANKING_LOAD * served.capacity_per_s


def test_ranking_slo_below_one_request_is_a_clear_error():
    with pytest.raises(SeedchipError, match="below the time of one request"):
        serve_ranking(_ranking, 100, RankingSlo(0.001))
    with pytest.raises(SeedchipError, match="no room for queueing"):
        serve_ranking(_ranking, 100, RankingSlo(0.0015))


def test_interpolated_batch_times_are_exact_at_powers_of_two():
    times = interpolated_batch_times(lambda b: float(b * b), 6)
    assert list(times) == [1, 4, 10, 16, 26, 36]  # 3 and 5 interpolated; 6 is the batch


def test_max_rate_matches_mm1_closed_form():
    """M/M/1: the p99 of time in system is ln(100) / (mu - lambda), so the largest rate
    within an SLO T is mu - ln(100) / T. The bisection over a seeded simulation lands
    within 5% of it."""
    service_s, slo_s = 0.01, 0.2
    mu = 1 / service_s
    meets = lambda rate: simulate_batching(rate, [service_s], requests=100_000, seed=5,
                                           exponential_service=True).p99_s <= slo_s
    expected = mu - math.log(100) / slo_s
    assert mm1_sojourn_quantile_s(expected, mu, 0.99) == pytest.approx(slo_s)
    assert max_rate(meets, mu * 0.999) == pytest.approx(expected, rel=0.05)


def test_served_ranking_latency_grows_with_load():
    times = interpolated_batch_times(_ranking, 32)
    capacity = 32 / times[-1]
    p99s = [simulate_batching(capacity * load, times, seed=1).p99_s for load in (0.1, 0.4, 0.7, 0.9)]
    assert p99s == sorted(p99s)


def test_fleet_by_hand():
    fleet = plan_fleet(1000.0, 300.0, 400.0, H100, 2, CostAssumptions(years=5, usd_per_kwh=0.1,
                                                                        pue=1.2))
    assert fleet.replicas == 4 and fleet.chips == 8
    assert fleet.utilisation == pytest.approx(1000 / 1600)
    power = 70 + 630 * fleet.utilisation
    assert fleet.power_w == pytest.approx(8 * power)
    hourly = 8 * (30000 / (5 * HOURS_PER_YEAR) + power / 1000 * 1.2 * 0.1)
    assert fleet.usd_per_hour == pytest.approx(hourly)
    assert fleet.usd_per_year == pytest.approx(hourly * HOURS_PER_YEAR)
    assert fleet.usd_per_unit == pytest.approx(hourly / 3.6e6)
    assert fleet.memory_bytes == 8 * 80e9


def test_fleet_cost_is_linear_in_price_and_electricity():
    def capital_and_energy(price, kwh):
        free_power = plan_fleet(500, 100, 100, H100, 1, CostAssumptions(price_usd=price,
                                                                       usd_per_kwh=0))
        with_power = plan_fleet(500, 100, 100, H100, 1, CostAssumptions(price_usd=price,
                                                                       usd_per_kwh=kwh))
        return free_power.usd_per_hour, with_power.usd_per_hour - free_power.usd_per_hour
    capital, energy = capital_and_energy(10_000, 0.05)
    assert capital_and_energy(20_000, 0.05)[0] == pytest.approx(2 * capital)
    assert capital_and_energy(20_000, 0.10)[1] == pytest.approx(2 * energy)
    assert capital_and_energy(0, 0.05)[0] == 0


@pytest.mark.parametrize("value", [0, -1, float("nan")])
def test_bad_slo_and_target(value):
    with pytest.raises(SeedchipError, match="SLO"):
        RankingSlo(value)
    with pytest.raises(SeedchipError, match="target"):
        plan_fleet(value, 1, 1, H100, 1)
