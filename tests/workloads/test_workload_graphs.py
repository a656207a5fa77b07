"""Op graphs: flops against closed forms, MoE routing, weights read, invariants."""

import pytest
from hypothesis import given, settings, strategies as st

from perfmodel.ops import Gemm, total_cost
from perfmodel.roofline import time_graph
from workloads.config import load_workload
from workloads.graphs import graph, kv_bytes_per_token, param_count
from workloads.llm import expected_experts_hit

CONTEXT = 1024


def _attention_flops_per_token(c, context: int) -> float:
    """QK^T and PV: 4 x head_dim flops per head per cached key, per layer."""
    return 4.0 * c.layers * c.n_heads * c.head_dim * (context + 1)


@pytest.mark.parametrize("name", ["gptj-6b", "llama2-7b", "llama3-8b", "llama3-70b"])
def test_dense_decode_flops_per_token_are_2x_params_plus_attention(name):
    c = load_workload(name)
    matmul_params = param_count(c) - c.vocab * c.d_model  # the input embedding is a gather
    if c.tied_embeddings:
        matmul_params += c.vocab * c.d_model
    expected = 2.0 * matmul_params + _attention_flops_per_token(c, CONTEXT)
    flops = total_cost(graph(c, 8, context=CONTEXT)).flops / 8
    assert flops == pytest.approx(expected, rel=0.05)


@pytest.mark.parametrize("name", ["mixtral-8x7b", "deepseek-moe-16b"])
def test_moe_decode_flops_follow_active_params_at_large_batch(name):
    c = load_workload(name)
    batch = 4 * c.n_experts  # tokens * top_k spread exactly over all experts
    active = c.param_count(active=True) - c.vocab * c.d_model
    expected = 2.0 * active + _attention_flops_per_token(c, CONTEXT)
    flops = total_cost(graph(c, batch, context=CONTEXT)).flops / batch
    assert flops == pytest.approx(expected, rel=0.05)


def test_expected_experts_hit():
    assert expected_experts_hit(8, 2, 1) == pytest.approx(2.0)
    assert expected_experts_hit(8, 2, 2) == pytest.approx(8 * (1 - 0.75**2))
    assert expected_experts_hit(64, 6, 10_000) == pytest.approx(64.0)
    hits = [expected_experts_hit(64, 6, t) for t in range(1, 50)]
    assert hits == sorted(hits)


def _expert_weight_bytes(nodes) -> float:
    return sum(n.op.weight_bytes() * n.count for n in nodes if n.name.startswith("experts_"))


def test_moe_batch_one_reads_only_top_k_experts():
    c = load_workload("mixtral-8x7b")
    per_expert = c.ffn_params(c.expert_ffn_dim) * 2  # bf16
    nodes = graph(c, 1, context=100)
    assert _expert_weight_bytes(nodes) == pytest.approx(c.layers * c.top_k * per_expert)
    many = graph(c, 256, context=100)
    assert _expert_weight_bytes(many) == pytest.approx(c.layers * c.n_experts * per_expert)


@pytest.mark.parametrize("name", ["llama2-7b", "llama3-8b", "gptj-6b"])
def test_dense_decode_graph_reads_every_parameter_once(name):
    c = load_workload(name)
    nodes = graph(c, 1, context=10)
    read = sum(n.op.weight_bytes() * n.count for n in nodes)
    # norm weights are stored in the activation dtype; every parameter is 2 bytes in bf16
    assert read == pytest.approx(2 * param_count(c), rel=1e-3)


def test_prefill_lm_head_runs_on_the_last_token_only():
    c = load_workload("llama3-8b")
    head = next(n.op for n in graph(c, 4, prompt=512) if n.name == "lm_head")
    assert isinstance(head, Gemm) and (head.m, head.n) == (4, c.vocab)


def test_kv_bytes_per_token():
    c = load_workload("llama3-8b")
    assert kv_bytes_per_token(c, "bf16") == 2 * 32 * 8 * 128 * 2
    assert kv_bytes_per_token(c, "fp8") == 2 * 32 * 8 * 128


def test_int8_generation_is_weight_only():
    c = load_workload("llama3-8b")
    qkv = next(n.op for n in graph(c, 1, "int8", context=10) if n.name == "qkv")
    assert (qkv.dtype, qkv.weight_dtype) == ("bf16", "int8")


def test_int8_recommendation_uses_rowwise_tables():
    c = load_workload("dlrm-rm1")
    bag = next(n.op for n in graph(c, 16, "int8") if n.name.startswith("bag_"))
    assert bag.dtype == "int8" and bag.row_bytes == 32 + 8


@pytest.mark.parametrize("name", ["dlrm-dcnv2", "dlrm-rm1", "dlrm-rm3"])
@settings(max_examples=15, deadline=None)
@given(batch=st.integers(1, 4096))
def test_mlp_flops_scale_linearly_in_batch(name, batch):
    c = load_workload(name)
    def mlp_flops(b):
        return sum(n.op.flops() * n.count for n in graph(c, b) if isinstance(n.op, Gemm))
    assert mlp_flops(batch) == pytest.approx(batch * mlp_flops(1))


@pytest.mark.parametrize("name", ["dlrm-dcnv2", "two-tower", "dlrm-rm2"])
@settings(max_examples=15, deadline=None)
@given(batch=st.integers(1, 100_000), extra=st.integers(1, 100_000))
def test_more_samples_never_take_less_time(h100, name, batch, extra):
    c = load_workload(name)
    assert (time_graph(graph(c, batch + extra), h100).total_s
            >= time_graph(graph(c, batch), h100).total_s)


@pytest.mark.parametrize("name", ["llama3-8b", "mixtral-8x7b"])
@settings(max_examples=15, deadline=None)
@given(batch=st.integers(1, 256), extra=st.integers(1, 256), context=st.integers(0, 4000))
def test_larger_decode_batches_never_take_less_time(h100, name, batch, extra, context):
    c = load_workload(name)
    assert (time_graph(graph(c, batch + extra, context=context), h100).total_s
            >= time_graph(graph(c, batch, context=context), h100).total_s)
