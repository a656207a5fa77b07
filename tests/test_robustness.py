"""Extreme but valid values stay finite and ordered; kernels accumulate in fp32."""

import math

import numpy as np
import pytest

import kernels
from perfmodel import ops, roofline
from perfmodel.chip import load_chip
from workloads.config import load_workload
from workloads.estimate import estimate

EXTREMES = [
    ("bf16=1e18 FLOP/s", "hbm_bandwidth=1 B/s"),
    ("bf16=1 FLOP/s", "hbm_bandwidth=1e18 B/s"),
    ("overhead=0 s", "sram=1 B"),
]


@pytest.mark.parametrize("settings", EXTREMES)
def test_extreme_chips_give_finite_positive_times(settings):
    chip = load_chip("h100-sxm", dict(setting.split("=") for setting in settings))
    for op in (ops.Gemm(8192, 8192, 8192), ops.EmbeddingBag(10**12, 128, 4096, 100, zipf_s=1.05),
               ops.EmbeddingBag(10**12, 128, 1, 1, zipf_s=0.0), ops.Norm(1, 1),
               ops.AttentionDecode(256, 10**6, 64, 8, 128)):
        timing = roofline.time(op, chip)
        assert math.isfinite(timing.total_s) and timing.total_s > 0, (settings, op)


def test_a_trillion_row_table_estimates_finite():
    chip = load_chip("seedchip-rec")
    bag = ops.EmbeddingBag(10**12, 64, 2048, 80, zipf_s=1.05)
    small = ops.EmbeddingBag(10**6, 64, 2048, 80, zipf_s=1.05)
    assert roofline.time(bag, chip).total_s >= roofline.time(small, chip).total_s


def test_slowest_memory_gives_a_finite_estimate():
    chip = load_chip("h100-sxm", {"hbm_bandwidth": "1 B/s"})
    result = estimate(load_workload("llama3-8b"), chip, 1, prompt=16, output=2)
    assert math.isfinite(result.latency_s) and result.latency_s > 1e9


def test_fp16_tables_accumulate_in_fp32():
    """4096 rows of 1.0: an fp16 running sum would stop at 2048 (2048 + 1 rounds to 2048)."""
    table = np.ones((4096, 8), np.float16)
    pooled = kernels.embedding_bag(table, np.arange(4096), np.array([0]))
    np.testing.assert_array_equal(pooled, 4096.0)


def test_int8_tables_accumulate_in_fp32():
    table = np.full((4096, 8), 127, np.int8)
    scales, biases = np.full(4096, 1 / 127, np.float32), np.zeros(4096, np.float32)
    pooled = kernels.embedding_bag_int8(table, scales, biases, np.arange(4096), np.array([0]))
    np.testing.assert_allclose(pooled, 4096.0, rtol=1e-5)


def test_fp16_inputs_to_linear_accumulate_in_fp32():
    x = np.full((2, 4096), 1.0, np.float16)
    w = np.full((3, 4096), 1.0, np.float16)
    np.testing.assert_array_equal(kernels.linear(x, w), 4096.0)
