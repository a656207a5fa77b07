"""estimate(): definitions of latency and throughput, memory fit, batch max, bad input."""

import math

import pytest

from perfmodel.errors import SeedchipError
from workloads.config import load_workload
from workloads.estimate import estimate, max_batch, memory


def test_generation_figures_follow_their_definitions(h100):
    config = load_workload("llama3-8b")
    result = estimate(config, h100, 8, "bf16", prompt=512, output=64)
    assert result.latency_s == pytest.approx(result.ttft_s + 63 * result.tpot_s)
    assert result.throughput_per_s == pytest.approx(8 * 64 / result.latency_s)
    assert result.requests_per_s == pytest.approx(8 / result.latency_s)
    assert result.decode_tokens_per_s == pytest.approx(8 / result.tpot_s)
    assert result.throughput_unit == "tokens" and result.fits_in_memory
    assert sum(row.share for row in result.breakdown) == pytest.approx(1.0)
    assert {row.phase for row in result.breakdown} == {"prefill", "decode"}


def test_single_output_token_is_just_the_prefill(h100):
    result = estimate(load_workload("llama-tiny"), h100, 1, prompt=100, output=1)
    assert result.latency_s == pytest.approx(result.ttft_s) and result.tpot_s > 0


def test_recommendation_figures_follow_their_definitions(h100):
    config = load_workload("dlrm-dcnv2")
    result = estimate(config, h100, 2048)
    assert result.throughput_unit == "samples"
    assert result.throughput_per_s == pytest.approx(2048 / result.batch_latency_s)
    assert result.requests_per_s == pytest.approx(result.throughput_per_s / config.candidates)
    small = estimate(config, h100, 100)  # 400 candidates take 4 batches of 100
    assert small.latency_s == pytest.approx(4 * small.batch_latency_s)


def test_kv_cache_grows_with_batch_and_tokens(h100):
    config = load_workload("llama3-8b")
    one = memory(config, h100, 1, prompt=1000, output=24)
    assert one.kv_cache_bytes == 1024 * 131072
    assert memory(config, h100, 4, prompt=1000, output=24).kv_cache_bytes == 4 * one.kv_cache_bytes


def test_batch_max_is_the_largest_batch_that_fits(h100):
    config = load_workload("llama3-8b")
    batch = max_batch(config, h100, prompt=1024, output=256)
    assert memory(config, h100, batch, prompt=1024, output=256).fits
    assert not memory(config, h100, batch + 1, prompt=1024, output=256).fits
    kv_only = (h100.main_memory.capacity_bytes - 16.06e9) / (1280 * 131072)
    assert 0.5 * kv_only < batch <= kv_only


def test_model_too_big_for_the_chip(h100):
    config = load_workload("llama3-70b")
    assert not estimate(config, h100, 1, prompt=128, output=16).fits_in_memory
    with pytest.raises(SeedchipError, match="no batch fits"):
        max_batch(config, h100, prompt=128, output=16)
    assert max_batch(config, h100, "fp8", prompt=128, output=16) >= 1


@pytest.mark.parametrize("kwargs, message", [
    ({"batch": 0, "prompt": 10, "output": 10}, "batch must be"),
    ({"batch": 1, "prompt": 8000, "output": 500}, "exceeds llama3-8b's context of 8192"),
    ({"batch": 1, "prompt": 0, "output": 5}, "prompt must be"),
    ({"batch": 1, "prompt": None, "output": 5}, "give --prompt and --output"),
])
def test_bad_generation_input(h100, kwargs, message):
    with pytest.raises(SeedchipError, match=message):
        estimate(load_workload("llama3-8b"), h100, **kwargs)


def test_prompt_is_rejected_for_recommendation(h100):
    with pytest.raises(SeedchipError, match="generation workloads only"):
        estimate(load_workload("dlrm-rm1"), h100, 10, prompt=5)


def test_two_tower_request_scores_all_candidates(h100):
    config = load_workload("two-tower-small")
    result = estimate(config, h100, 4 * config.candidates)
    assert result.requests_per_s == pytest.approx(4 / result.batch_latency_s)
    assert math.isfinite(result.latency_s) and result.latency_s == result.batch_latency_s
