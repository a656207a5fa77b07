"""Physical sanity: decode is memory-bound, long prefill compute-bound, hot rows in SRAM help."""

import pytest

from perfmodel.chip import load_chip
from perfmodel.ops import OpKind
from perfmodel.roofline import time_graph
from workloads.config import LlmConfig, load_workload, preset_names
from workloads.graphs import graph

GENERATION = [n for n in preset_names() if isinstance(load_workload(n), LlmConfig)]
TINY = ("llama-tiny", "mixtral-tiny")


@pytest.mark.parametrize("chip_name", ["h100-sxm", "toy"])
@pytest.mark.parametrize("name", GENERATION)
def test_decode_at_batch_one_is_memory_bound_and_no_faster_than_weights_over_bandwidth(
        name, chip_name, toy_chip_path):
    chip = load_chip(toy_chip_path if chip_name == "toy" else chip_name)
    config = load_workload(name)
    timing = time_graph(graph(config, 1, context=128), chip)
    if name in TINY:  # per-op launch overhead can outweigh a few MB of weights
        assert timing.bound in ("memory", "overhead")
    else:
        assert timing.bound == "memory"
    # batch 1 of an MoE reads top_k experts only: the bound is the active weights
    active_bytes = config.param_count(active=True) * 2
    if active_bytes > chip.sram.capacity_bytes:
        assert timing.total_s >= active_bytes / chip.main_memory.bandwidth_bytes_per_s


@pytest.mark.parametrize("name, prompt", [("llama3-8b", 8192), ("llama2-7b", 4096),
                                          ("mixtral-8x7b", 8192), ("gptj-6b", 2048)])
def test_prefill_of_a_long_prompt_is_compute_bound(h100, name, prompt):
    timing = time_graph(graph(load_workload(name), 1, prompt=prompt), h100)
    assert timing.bound == "compute"


def _bag_time_s(chip, config) -> float:
    timing = time_graph(graph(config, 4096), chip)
    return next(row.total_s for row in timing.by_kind() if row.kind == OpKind.EMBEDDING_BAG)


def test_embedding_bag_time_drops_when_the_hot_set_fits_in_sram(toy_chip_path):
    config = load_workload("dlrm-rm2-small")  # 205 MB of bf16 tables
    small = load_chip(toy_chip_path, {"sram_capacity": "8 MiB"})
    large = load_chip(toy_chip_path, {"sram_capacity": "512 MiB"})  # every table fits
    assert _bag_time_s(large, config) < 0.5 * _bag_time_s(small, config)


def test_more_skew_means_more_hits_and_less_bag_time(toy):
    import dataclasses
    config = load_workload("dlrm-rm2-small")
    uniform = dataclasses.replace(config, zipf_s=0.0)
    assert _bag_time_s(toy, config) < _bag_time_s(toy, uniform)
