"""Op IR: hand-derived flops and bytes for every op kind; invalid shapes are clear errors."""

import pytest

from perfmodel import ops
from perfmodel.errors import SeedchipError


def test_gemm_counts():
    gemm = ops.Gemm(m=4, n=8, k=16, dtype="bf16")
    assert gemm.flops() == 2 * 4 * 8 * 16
    assert gemm.bytes() == (4 * 16 + 16 * 8 + 4 * 8) * 2
    assert gemm.weight_bytes() == 16 * 8 * 2


def test_gemm_bias_activation_batch_and_weight_only_int8():
    gemm = ops.Gemm(m=2, n=3, k=5, batch=4, dtype="bf16", weight_dtype="int8", bias=True,
                    activation="relu")
    assert gemm.flops() == 4 * 2 * 3 * (2 * 5 + 1 + 1)
    assert gemm.bytes() == 4 * ((2 * 5) * 2 + (5 * 3) * 1 + (2 * 3) * 2 + 3 * 2)


def test_embedding_bag_counts():
    bag = ops.EmbeddingBag(rows=1000, dim=64, bags=10, pooling=20, dtype="fp32")
    assert bag.flops() == 10 * 20 * 64
    assert bag.bytes() == 10 * 20 * 64 * 4 + 10 * 20 * 8 + 10 * 8 + 10 * 64 * 4
    assert bag.weight_bytes() == 1000 * 64 * 4


def test_int8_rows_carry_scale_and_bias():
    bag = ops.EmbeddingBag(rows=1000, dim=64, bags=1, pooling=1, dtype="int8")
    assert bag.row_bytes == 64 + 8


def test_dot_interaction_counts():
    op = ops.DotInteraction(batch=2, features=27, dim=128, dtype="fp32")
    pairs = 27 * 26 // 2
    assert op.flops() == 2 * 2 * pairs * 128
    assert op.bytes() == 2 * 27 * 128 * 4 + 2 * pairs * 4


def test_cross_layer_low_rank_and_full():
    low = ops.CrossLayer(batch=3, dim=100, rank=10, dtype="fp32")
    assert low.flops() == 3 * (2 * 2 * 100 * 10 + 3 * 100)
    assert low.weight_bytes() == (2 * 100 * 10 + 100) * 4
    full = ops.CrossLayer(batch=3, dim=100, dtype="fp32")
    assert full.flops() == 3 * (2 * 100 * 100 + 3 * 100)


def test_attention_prefill_counts():
    op = ops.AttentionPrefill(batch=2, seq=4, n_heads=8, n_kv_heads=2, head_dim=16, dtype="bf16")
    pairs = 4 * 5 / 2
    assert op.flops() == 2 * pairs * 8 * (4 * 16 + 4)
    assert op.transcendentals() == 2 * pairs * 8  # one exp per score
    q = 2 * 4 * 8 * 16 * 2
    kv = 2 * 4 * 2 * 16 * 2
    assert op.bytes() == 2 * q + 2 * kv + 2 * kv
    full = ops.AttentionPrefill(batch=1, seq=4, n_heads=1, n_kv_heads=1, head_dim=1, causal=False)
    assert full.pairs == 16


def test_attention_decode_counts():
    op = ops.AttentionDecode(batch=3, context=100, n_heads=8, n_kv_heads=2, head_dim=16,
                             dtype="bf16", kv_dtype="fp8")
    assert op.flops() == 3 * 101 * 8 * (4 * 16 + 4)
    assert op.transcendentals() == 3 * 101 * 8
    per_token_kv = 2 * 2 * 16 * 1
    q = 3 * 8 * 16 * 2
    assert op.bytes() == 2 * q + 3 * 100 * per_token_kv + 3 * per_token_kv


def test_norm_elementwise_softmax_topk_sampling():
    assert ops.Norm(rows=2, dim=10, norm="rms", dtype="fp32").bytes() == (2 * 2 * 10 + 10) * 4
    assert ops.Norm(rows=2, dim=10, norm="layer").flops() == 2 * 10 * 7
    add = ops.Elementwise(elements=100, function="add", dtype="fp32")
    assert (add.flops(), add.bytes()) == (100, 3 * 100 * 4)
    assert ops.Softmax(rows=2, cols=50).flops() == 4 * 100
    assert ops.Softmax(rows=2, cols=50).transcendentals() == 100
    assert ops.Elementwise(elements=10, function="gelu").transcendentals() == 10
    assert ops.Elementwise(elements=10, function="relu").transcendentals() == 0
    assert ops.Gemm(2, 3, 4, activation="silu").transcendentals() == 6  # an exp ...
    assert ops.Gemm(2, 3, 4, activation="silu").reciprocals() == 6  # ... and a reciprocal
    assert ops.Elementwise(elements=10, function="swiglu").transcendentals() == 10
    assert ops.Elementwise(elements=10, function="swiglu").reciprocals() == 10
    assert ops.Elementwise(elements=10, function="gelu").reciprocals() == 10  # tanh: exp, 1/x
    assert ops.Elementwise(elements=10, function="relu").reciprocals() == 0
    topk = ops.TopK(rows=2, cols=1000, k=3, dtype="fp32")
    assert topk.flops() == 2 * 1000 * 2
    assert topk.bytes() == 2 * 1000 * 4 + 2 * 3 * 12
    assert ops.Sampling(rows=1, vocab=10, top_k=1).bytes() == 10 * 4 + 8


def test_collective_has_no_memory_traffic():
    op = ops.Collective("all_reduce", 1e6, 8)
    assert (op.flops(), op.bytes(), op.operands()) == (0.0, 1e6, ())


def test_costs_add_up():
    nodes = [ops.Node(ops.Gemm(1, 2, 3), 4), ops.Node(ops.Norm(1, 2))]
    total = ops.total_cost(nodes)
    assert total.flops == 4 * 12 + 8
    assert total == nodes[0].op.cost() * 4 + nodes[1].op.cost()


@pytest.mark.parametrize("build, fragment", [
    (lambda: ops.Gemm(0, 1, 1), "Gemm.m must be an integer >= 1"),
    (lambda: ops.Gemm(1, 1, 1, dtype="fp7"), "unknown dtype 'fp7'"),
    (lambda: ops.Gemm(1, 1, 1, activation="tanhh"), "unknown 'tanhh'"),
    (lambda: ops.EmbeddingBag(10, 4, 1, 1, zipf_s=-1.0), "zipf_s must be >= 0"),
    (lambda: ops.AttentionDecode(1, 1, 6, 4, 8), "must divide"),
    (lambda: ops.Collective("broadcast", 1.0, 2), "unknown 'broadcast'"),
    (lambda: ops.Node(ops.Norm(1, 1), -1), "count must be an integer >= 0"),
    (lambda: ops.Norm(1, 1, norm="batch"), "unknown 'batch'"),
])
def test_invalid_ops(build, fragment):
    with pytest.raises(SeedchipError, match=fragment):
        build()


@pytest.mark.parametrize("op", [
    ops.Gemm(4, 8, 16), ops.EmbeddingBag(100, 8, 4, 3), ops.DotInteraction(4, 5, 8),
    ops.CrossLayer(4, 8, 2), ops.AttentionPrefill(1, 8, 4, 2, 8), ops.AttentionDecode(2, 8, 4, 2, 8),
    ops.Norm(4, 8), ops.Elementwise(16, "gelu"), ops.Softmax(4, 8), ops.TopK(2, 16, 3),
    ops.Sampling(2, 16)])
def test_outputs_and_cache_writes_are_the_written_operands(op):
    written = {operand.name for operand in op.operands() if operand.written}
    assert written == ({"out", "kv_write"} if "Attention" in type(op).__name__
                       else {"tokens"} if isinstance(op, ops.Sampling) else {"out"})


def test_dot_products_count_the_outputs_that_are_reductions():
    assert ops.Gemm(4, 8, 16, batch=3).dot_products() == 3 * 4 * 8
    assert ops.DotInteraction(5, 4, 8).dot_products() == 5 * 6
    assert ops.CrossLayer(5, 8, 2).dot_products() == 5 * (2 + 8)
    assert ops.CrossLayer(5, 8, 0).dot_products() == 5 * 8
    assert ops.AttentionPrefill(2, 4, 3, 1, 8).dot_products() == 2 * 3 * (10 + 4 * 8)
    assert ops.AttentionDecode(2, 9, 3, 1, 8).dot_products() == 2 * 3 * (10 + 8)


def test_flash_attention_updates_each_output_row_once_per_key_block():
    # causal, 5 queries, blocks of 2 keys: rows 0-1 see one block, 2-3 two, row 4 three
    prefill = ops.AttentionPrefill(1, 5, 2, 1, 8, key_block=2)
    assert prefill.blocks_per_query == 1 + 1 + 2 + 2 + 3
    assert prefill.dot_products() == 2 * (15 + 9 * 8)
    full = ops.AttentionPrefill(1, 5, 2, 1, 8, causal=False, key_block=2)
    assert full.dot_products() == 2 * (25 + 5 * 3 * 8)
    # 10 keys (9 cached and the new one) in blocks of 4: three updates of each output
    assert ops.AttentionDecode(2, 9, 3, 1, 8, key_block=4).dot_products() == 2 * 3 * (10 + 3 * 8)
    with pytest.raises(SeedchipError, match="key_block"):
        ops.AttentionDecode(2, 9, 3, 1, 8, key_block=0)
    assert ops.Norm(4, 8).dot_products() == ops.Softmax(4, 8).dot_products() == 0
