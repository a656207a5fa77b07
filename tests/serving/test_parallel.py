"""Multi-chip layouts: collective formulas by hand, per-chip shapes and memory, and the
invariant that more chips never beat the single-chip compute bound divided by the chips."""

import math

import pytest
from hypothesis import given, settings, strategies as st

from perfmodel.chip import Link, load_chip
from perfmodel.collectives import collective_time_s, ring_all_reduce_s, tree_all_reduce_s
from perfmodel.errors import SeedchipError
from perfmodel.ops import Collective
from perfmodel.parallel import Layout, first_layout, generation_layouts
from perfmodel.roofline import time_graph
from workloads.config import load_workload
from workloads.estimate import estimate, fit_layout, memory
from workloads.graphs import graph, kv_bytes_per_token, weight_bytes

LINK = Link(bandwidth_bytes_per_s=100e9, latency_s=1e-6, max_chips=8)
H100 = load_chip("h100-sxm")
LLAMA70 = load_workload("llama3-70b")
LLAMA8 = load_workload("llama3-8b")
MIXTRAL = load_workload("mixtral-8x7b")
DLRM = load_workload("dlrm-dcnv2")


def test_tree_all_reduce_by_hand():
    # 8 chips: depth 3; the payload goes up and down once: 2 S / B + 2 * 3 L
    assert tree_all_reduce_s(1e6, 8, LINK) == pytest.approx(2 * 1e6 / 100e9 + 6e-6)
    assert tree_all_reduce_s(1e6, 5, LINK) == pytest.approx(2 * 1e6 / 100e9 + 6e-6)  # ceil(log2 5) = 3
    assert tree_all_reduce_s(1e6, 1, LINK) == 0.0
    assert ring_all_reduce_s(1e6, 8, LINK) == pytest.approx(2 * 7 / 8 * 1e6 / 100e9 + 14e-6)


def test_all_reduce_takes_the_faster_algorithm():
    small, large = 1e3, 1e9  # latency-bound: tree; bandwidth-bound: ring
    assert collective_time_s("all_reduce", small, 8, LINK) == tree_all_reduce_s(small, 8, LINK)
    assert collective_time_s("all_reduce", large, 8, LINK) == ring_all_reduce_s(large, 8, LINK)


def test_layout_validation_and_search_order():
    assert Layout(tp=2, pp=3).chips == 6 and Layout().describe() == "1 chip"
    with pytest.raises(SeedchipError, match="--tp must be an integer >= 1"):
        Layout(tp=0)
    with pytest.raises(SeedchipError, match="not both"):
        Layout(tp=2, shards=2)
    order = list(generation_layouts(8, moe=False))[:6]
    assert order == [Layout(), Layout(tp=2), Layout(pp=2), Layout(pp=3), Layout(tp=4),
                     Layout(tp=2, pp=2)]
    assert all(lay.tp * lay.ep <= 8 for lay in generation_layouts(8, moe=True))


def test_first_layout_errors_when_nothing_fits():
    with pytest.raises(SeedchipError, match="no layout fits memory"):
        first_layout(iter([Layout(), Layout(tp=2)]), lambda lay: False, "big model")


def test_tensor_parallel_shards_weights_and_adds_two_all_reduces_per_layer():
    whole = weight_bytes(LLAMA70)
    per_chip = weight_bytes(LLAMA70, layout=Layout(tp=8))
    assert per_chip == pytest.approx(whole / 8, rel=0.001)  # norms are replicated
    nodes = graph(LLAMA70, 4, context=100, layout=Layout(tp=8))
    reduce = next(n for n in nodes if n.name == "tp_all_reduce")
    assert reduce.count == 2 * 80
    assert reduce.op == Collective("all_reduce", 4 * 8192 * 2.0, 8)
    attention = next(n.op for n in nodes if n.name == "attention")
    assert (attention.n_heads, attention.n_kv_heads) == (8, 1)


def test_pipeline_parallel_splits_layers_and_kv_and_sends_between_stages():
    layout = Layout(pp=4)
    assert kv_bytes_per_token(LLAMA70, layout=layout) == kv_bytes_per_token(LLAMA70) / 4
    nodes = graph(LLAMA70, 8, context=100, layout=layout)
    send = next(n for n in nodes if n.name == "pp_send")
    assert send.count == 3 and send.op.payload_bytes == 2 * 8192 * 2.0  # microbatch 8 / 4
    assert weight_bytes(LLAMA70, layout=layout) < weight_bytes(LLAMA70) / 4 * 1.05


def test_expert_parallel_spreads_experts_and_adds_all_to_all():
    layout = Layout(ep=8)
    nodes = graph(MIXTRAL, 64, context=100, layout=layout)
    a2a = next(n for n in nodes if n.name == "ep_all_to_all")
    assert a2a.count == 2 * 32 and a2a.op.chips == 8
    assert a2a.op.payload_bytes == 8 * 2 * 4096 * 2.0  # 8 local sequences x top-2 x d x bf16
    experts = MIXTRAL.n_experts * MIXTRAL.ffn_params(MIXTRAL.expert_ffn_dim) * MIXTRAL.layers * 2
    saved = weight_bytes(MIXTRAL) - weight_bytes(MIXTRAL, layout=layout)
    assert saved == pytest.approx(experts * 7 / 8, rel=0.001)
    with pytest.raises(SeedchipError, match="has no experts"):
        graph(LLAMA8, 1, context=1, layout=layout)


def test_embedding_sharding_splits_tables_and_adds_all_to_all():
    per_chip = weight_bytes(DLRM, layout=Layout(shards=4))
    assert per_chip == pytest.approx(weight_bytes(DLRM) / 4, rel=0.01)
    nodes = graph(DLRM, 4096, layout=Layout(shards=4))
    a2a = next(n for n in nodes if n.name == "shard_all_to_all")
    assert a2a.op.payload_bytes == 1024 * 26 * 128 * 4
    with pytest.raises(SeedchipError, match="--shards"):
        graph(DLRM, 10, layout=Layout(tp=2))


def _single_chip_compute_s(config, batch, **shape):
    return sum(n.timing.compute_s * n.node.count
               for n in time_graph(graph(config, batch, **shape), H100).nodes)


@settings(max_examples=25, deadline=None)
@given(tp=st.sampled_from([1, 2, 4, 8]), pp=st.sampled_from([1, 2, 4]),
       batch=st.integers(1, 256), context=st.integers(1, 4000))
def test_more_chips_never_beat_compute_bound_over_chips_llm(tp, pp, batch, context):
    layout = Layout(tp=tp, pp=pp)
    replica_s = time_graph(graph(LLAMA8, batch, context=context, layout=layout), H100).total_s
    # the replica advances the whole batch in replica_s; chips x replica_s of chip time
    # can never be less than the single chip's compute time for the same work
    assert replica_s * layout.pp >= _single_chip_compute_s(LLAMA8, batch, context=context) / layout.chips * 0.999


@settings(max_examples=15, deadline=None)
@given(shards=st.integers(1, 32), batch=st.integers(1, 20_000))
def test_more_chips_never_beat_compute_bound_over_chips_dlrm(shards, batch):
    replica_s = time_graph(graph(DLRM, batch, layout=Layout(shards=shards)), H100).total_s
    assert replica_s >= _single_chip_compute_s(DLRM, batch) / shards * 0.999


def test_fit_layout_picks_the_smallest_that_fits_and_errors_when_none_does(chip_file):
    assert fit_layout(LLAMA70, H100, "bf16", 1024, 256) == Layout(tp=2)
    assert fit_layout(LLAMA8, H100, "bf16", 1024, 256) == Layout()
    assert memory(LLAMA70, H100, 1, "bf16", 1024, 256, Layout(tp=2)).fits
    tiny = load_chip(chip_file(('capacity = "16 GB"', 'capacity = "0.1 GB"'),
                               ("max_chips = 8", "max_chips = 1")))
    with pytest.raises(SeedchipError, match="no layout fits memory"):
        fit_layout(LLAMA70, tiny, "bf16", 1024, 256)


def test_estimate_reports_chips_and_cost_per_unit():
    result = estimate(LLAMA70, H100, 8, "bf16", 256, 32, Layout(tp=4))
    assert result.chips == 4 and result.fits_in_memory
    assert result.usd_per_mtok > 0 and result.joules_per_token > 0
    # four chips at full power over the replica's token rate
    assert result.joules_per_token == pytest.approx(4 * 700 / result.throughput_per_s)
    assert math.isclose(result.usd_per_request * result.requests_per_s,
                        result.usd_per_mtok / 1e6 * result.throughput_per_s)
