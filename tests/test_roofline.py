"""Roofline: hand-derived timings, Zipf hit rates, collectives, and model invariants (hypothesis)."""

import dataclasses
import math
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from perfmodel import ops, roofline
from perfmodel.chip import Link, load_chip
from perfmodel.collectives import collective_time_s
from perfmodel.errors import SeedchipError
from perfmodel.skew import harmonic, lru_hit_rate, repeat_share, zipf_hit_rate


@pytest.fixture
def toy(chip_file):
    return load_chip(chip_file())


def test_large_gemm_is_compute_bound(toy):
    gemm = ops.Gemm(4096, 4096, 4096, dtype="bf16")
    timing = roofline.time(gemm, toy)
    assert timing.bound == "compute"
    assert timing.compute_s == pytest.approx(2 * 4096**3 / (100e12 * 0.5))
    assert timing.total_s == pytest.approx(timing.compute_s + 1e-6)


def test_gemv_with_weights_off_chip_is_memory_bound(toy):
    gemv = ops.Gemm(1, 8192, 8192, dtype="bf16")  # 128 MiB of weights > 64 MiB SRAM
    timing = roofline.time(gemv, toy)
    assert timing.bound == "memory"
    hbm = timing.levels[1]
    weights = 8192 * 8192 * 2
    assert hbm.level == "HBM" and hbm.bytes == weights  # activations stay in SRAM
    assert timing.memory_s == pytest.approx(weights / 0.8e12)


def test_the_rest_of_a_gathered_row_costs_its_tail_bandwidth(chip_file):
    bag = ops.EmbeddingBag(rows=10**7, dim=256, bags=1000, pooling=10, dtype="fp32")
    streaming = roofline.time(bag, load_chip(chip_file()))
    slow_tail = roofline.time(bag, load_chip(chip_file(), {"hbm_gather_tail_efficiency": "0.25"}))
    hbm = load_chip(chip_file()).main_memory
    rows = 1000 * 10 * (1 - zipf_hit_rate(64 * 2**20 / 1024, 10**7, 0.0))
    tail_bytes = rows * (1024 / hbm.transaction_bytes - 1) * hbm.transaction_bytes
    extra_s = tail_bytes / (hbm.achievable_bytes_per_s * 0.25) - tail_bytes / hbm.achievable_bytes_per_s
    assert slow_tail.levels[1].seconds == pytest.approx(streaming.levels[1].seconds + extra_s)


def test_outputs_are_timed_at_the_write_bandwidth(chip_file):
    relu = ops.Elementwise(elements=10**9, function="relu", dtype="fp32")  # 4 GB in, 4 GB out
    same = roofline.time(relu, load_chip(chip_file()))
    slow_writes = roofline.time(relu, load_chip(chip_file(), {"hbm_write_bandwidth": "0.5 TB/s"}))
    assert same.memory_s == pytest.approx(8e9 / 0.8e12)
    assert slow_writes.memory_s == pytest.approx(4e9 / 0.8e12 + 4e9 / 0.4e12)


def test_each_output_dot_product_adds_the_chips_dot_overhead(chip_file):
    gemm = ops.Gemm(256, 512, 32, dtype="bf16")
    plain = roofline.time(gemm, load_chip(chip_file()))
    costly = roofline.time(gemm, load_chip(chip_file(), {"dot_overhead": "1 ns"}))
    assert costly.compute_s == pytest.approx(plain.compute_s + 256 * 512 * 1e-9)
    norm = ops.Norm(256, 512)  # a vector op has no dot products
    assert roofline.time(norm, load_chip(chip_file(), {"dot_overhead": "1 ns"})).compute_s == \
        pytest.approx(roofline.time(norm, load_chip(chip_file())).compute_s)


def test_each_loaded_element_adds_the_chips_element_overhead(chip_file):
    plain, costly = (load_chip(chip_file(), overrides) for overrides in
                     ({}, {"element_overhead": "20 ps"}))
    gemm = ops.Gemm(4, 512, 256, batch=2, dtype="fp32")  # 2 x 512 x 256 weights
    decode = ops.AttentionDecode(batch=2, context=99, n_heads=8, n_kv_heads=2, head_dim=64,
                                 dtype="fp32")  # keys and values of 100 tokens, 2 kv heads
    for op, elements in ((gemm, 2 * 512 * 256), (decode, 2 * 2 * 100 * 2 * 64)):
        assert op.loaded_elements() == elements
        assert roofline.time(op, costly).compute_s == pytest.approx(
            roofline.time(op, plain).compute_s + elements * 20e-12)
    norm = ops.Norm(256, 512)  # loads nothing into matrix units
    assert roofline.time(norm, costly).compute_s == \
        pytest.approx(roofline.time(norm, plain).compute_s)


@pytest.mark.parametrize("stream_capacity_mib", [32, 64, 96, 128])
def test_a_cache_with_a_stream_capacity_keeps_a_share_of_a_larger_stream(chip_file,
                                                                         stream_capacity_mib):
    gemv = ops.Gemm(1, 8192, 8192, dtype="bf16")  # 128 MiB of weights > 64 MiB SRAM
    weights = 8192 * 8192 * 2
    stream = weights + 2 * 8192 * 2  # with the op's smaller streams (its input and output)
    chip = load_chip(chip_file(), {"sram_stream_capacity": f"{stream_capacity_mib} MiB"})
    share = roofline.retained_share(stream, stream_capacity_mib * 2**20)
    if stream_capacity_mib < 128:
        assert 0 < share < 1
        ratio = stream / (stream_capacity_mib * 2**20)
        assert share == pytest.approx(math.exp(-(1 - share) * ratio))
    hbm = roofline.time(gemv, chip).levels[1]
    assert hbm.bytes == pytest.approx(weights * (1 - share))
    lru = roofline.time(gemv, load_chip(chip_file())).levels[1]
    assert lru.bytes == weights  # no stream capacity: none of a larger stream stays
    relu = ops.Elementwise(elements=10**8, function="relu", dtype="fp32")  # 400 MB in and out
    written = roofline.time(relu, chip).levels[1].bytes - 4e8 * (1 - roofline.retained_share(
        8e8, stream_capacity_mib * 2**20))
    assert written == pytest.approx(4e8)  # outputs are written back whatever the cache keeps


@settings(max_examples=60, deadline=None)
@given(st.floats(0.1, 50.0), st.floats(0.1, 50.0))
def test_the_retained_share_solves_its_equation_and_falls_with_the_stream(ratio, other):
    share = roofline.retained_share(ratio * 1e6, 1e6)
    assert 0.0 <= share <= 1.0
    if ratio <= 1.0:
        assert share == 1.0
    else:
        assert share == pytest.approx(math.exp(-(1.0 - share) * ratio), abs=1e-9)
    if other > ratio:
        assert roofline.retained_share(other * 1e6, 1e6) <= share


@settings(max_examples=60, deadline=None)
@given(st.floats(1.01, 50.0), st.one_of(st.none(), st.floats(0.5, 40.0)), st.floats(0.01, 0.99))
def test_a_cache_keeps_at_most_its_stream_kept_bytes_of_a_stream(ratio, capacity_mb, kept_share):
    footprint, kept = ratio * 1e6, kept_share * 1e6  # a cache of 1 MB keeps part of itself
    share = roofline.retained_share(footprint, capacity_mb and capacity_mb * 1e6, kept)
    random = 1.0 if capacity_mb is None else roofline.retained_share(footprint, capacity_mb * 1e6)
    assert share == pytest.approx(min(random, kept / footprint))
    assert share * footprint <= kept * (1 + 1e-12)


def test_stream_kept_limits_what_the_next_level_is_spared(chip_file):
    gemv = ops.Gemm(1, 8192, 8192, dtype="bf16")  # 128 MiB of weights > 64 MiB SRAM
    weights = 8192 * 8192 * 2
    stream = weights + 2 * 8192 * 2
    random = load_chip(chip_file(), {"sram_stream_capacity": "100 MiB"})
    both = load_chip(chip_file(), {"sram_stream_capacity": "100 MiB", "sram_stream_kept": "16 MiB"})
    kept = load_chip(chip_file(), {"sram_stream_kept": "16 MiB"})
    random_share = roofline.retained_share(stream, 100 * 2**20)
    assert random_share * stream > 16 * 2**20  # random replacement would keep more
    for chip in (both, kept):
        hbm = roofline.time(gemv, chip).levels[1]
        assert hbm.bytes == pytest.approx(weights * (1 - 16 * 2**20 / stream))
    assert roofline.time(gemv, random).levels[1].bytes == pytest.approx(
        weights * (1 - random_share))


def test_top_k_comparisons_run_at_the_chips_selection_rate(chip_file):
    topk = ops.TopK(rows=4, cols=65536, k=100)
    sampling = ops.Sampling(rows=8, vocab=32000, top_k=50)
    plain, slow = (load_chip(chip_file(), overrides)
                   for overrides in ({}, {"selection": "1 GFLOP/s"}))
    assert plain.selection_per_s is None  # the vector rate
    for op in (topk, sampling):
        comparisons = op.comparisons()
        assert 0 < comparisons <= op.flops()
        rate = plain.vector_flops_per_s * plain.compute_efficiency  # as any flop by default
        assert roofline.time(op, slow).compute_s - roofline.time(op, plain).compute_s == \
            pytest.approx(comparisons / (1e9 * plain.compute_efficiency) - comparisons / rate)
    assert ops.Norm(8, 64).comparisons() == 0


def test_reciprocals_cost_the_chips_reciprocal_rate_or_its_transcendental_rate(chip_file):
    silu = ops.Elementwise(elements=10**9, function="silu", dtype="fp32")
    chip = load_chip(chip_file())
    assert chip.reciprocal_per_s == chip.transcendental_per_s  # the default
    cheap = load_chip(chip_file(), {"reciprocal": "5 TFLOP/s"})
    saved_s = 1e9 / (chip.transcendental_per_s * chip.compute_efficiency) - 1e9 / (5e12 * chip.compute_efficiency)
    assert roofline.time(silu, cheap).compute_s == pytest.approx(roofline.time(silu, chip).compute_s - saved_s)


def assert_hides(timing: roofline.OpTiming, overlap: float, overhead_s: float) -> None:
    """The op's time is the longer of compute and memory plus the share of the shorter
    that ``overlap`` leaves unhidden (the shorter large enough for that to show)."""
    longer, shorter = max(timing.compute_s, timing.memory_s), min(timing.compute_s, timing.memory_s)
    assert shorter > 0.1 * longer
    assert timing.total_s == pytest.approx(longer + (1 - overlap) * shorter + overhead_s)


@pytest.mark.parametrize("overlap", [0.0, 0.25, 1.0])
def test_a_matrix_op_hides_the_chips_matrix_overlap_of_its_shorter_side(chip_file, overlap):
    gemv = ops.Gemm(64, 8192, 8192, dtype="bf16")  # weights from HBM, compute not negligible
    chip = load_chip(chip_file(), {"matrix_overlap": str(overlap)})
    timing = roofline.time(gemv, chip)
    assert_hides(timing, overlap, chip.op_overhead_s)
    assert timing.bound == ("compute" if timing.compute_s >= timing.memory_s else "memory")
    gelu = ops.Elementwise(elements=10**8, function="gelu", dtype="fp32")  # a vector op
    plain = load_chip(chip_file())
    assert roofline.time(gelu, chip).total_s == pytest.approx(roofline.time(gelu, plain).total_s)


@pytest.mark.parametrize("overlap", [0.0, 0.25, 1.0])
def test_a_matrix_vector_product_hides_the_chips_matvec_overlap(chip_file, overlap):
    gemv = ops.Gemm(1, 8192, 8192, dtype="fp32")  # each weight used once
    gemm = ops.Gemm(2, 8192, 8192, dtype="fp32")
    assert gemv.matrix_vector and not gemm.matrix_vector
    assert not ops.Gemm(1, 64, 64, b_is_weight=False).matrix_vector  # two activations
    slow = {"fp32": "0.5 TFLOP/s", "matrix_overlap": "0.5"}  # compute near the memory time
    chip = load_chip(chip_file(), {**slow, "matvec_overlap": str(overlap)})
    assert_hides(roofline.time(gemv, chip), overlap, chip.op_overhead_s)
    assert_hides(roofline.time(gemm, chip), 0.5, chip.op_overhead_s)  # the matrix overlap still
    assert load_chip(chip_file(), slow).matvec_overlap == 0.5  # the matrix overlap unless given


@pytest.mark.parametrize("overlap", [0.0, 0.25, 1.0])
def test_decode_attention_hides_the_chips_attention_overlap(chip_file, overlap):
    attention = ops.AttentionDecode(8, 4096, 16, 8, 128, dtype="fp32")
    slow = {"fp32": "2 TFLOP/s", "matrix_overlap": "0.5"}  # compute near the memory time
    chip = load_chip(chip_file(), {**slow, "attention_overlap": str(overlap)})
    assert_hides(roofline.time(attention, chip), overlap, chip.op_overhead_s)
    default = load_chip(chip_file(), slow)  # the matrix overlap
    assert_hides(roofline.time(attention, default), 0.5, default.op_overhead_s)


@pytest.mark.parametrize("overlap", [0.0, 0.5, 1.0])
def test_a_row_wise_op_hides_the_chips_row_overlap_of_its_shorter_side(chip_file, overlap):
    chip = load_chip(chip_file(), {"row_overlap": str(overlap)})
    plain = load_chip(chip_file())
    for op in (ops.Softmax(4096, 32000, "fp32"), ops.Norm(4096, 8192, "layer", "fp32")):
        timing = roofline.time(op, chip)
        shorter = min(timing.compute_s, timing.memory_s)
        assert shorter > 0
        assert timing.total_s == pytest.approx(roofline.time(op, plain).total_s
                                               + (1 - overlap) * shorter)
    relu = ops.Elementwise(elements=10**8, function="relu", dtype="fp32")  # not row-wise
    assert roofline.time(relu, chip).total_s == pytest.approx(roofline.time(relu, plain).total_s)


@pytest.mark.parametrize("overlap", [0.0, 0.4, 1.0])
def test_exp_and_reciprocal_times_overlap_by_the_chips_share(chip_file, overlap):
    chip = load_chip(chip_file(), {"transcendental": "1 GFLOP/s", "reciprocal": "4 GFLOP/s",
                                   "reciprocal_overlap": str(overlap)})
    silu = ops.Elementwise(elements=10**6, function="silu", dtype="fp32")  # 1 exp, 1 divide
    flops_s = silu.flops() / (chip.vector_flops_per_s * chip.compute_efficiency)
    exp_s, reciprocal_s = 1e6 / (1e9 * 0.5), 1e6 / (4e9 * 0.5)  # efficiency 0.5
    assert roofline.time(silu, chip).compute_s == pytest.approx(
        flops_s + exp_s + (1 - overlap) * reciprocal_s)
    relu = ops.Elementwise(elements=10**6, function="relu", dtype="fp32")  # neither
    assert roofline.time(relu, chip).compute_s == pytest.approx(
        relu.flops() / (chip.vector_flops_per_s * chip.compute_efficiency))


COLD = {"overhead": "10 us", "cold_overhead": "90 us", "cold_overhead_traffic": "50 MB"}


def test_a_call_after_traffic_pays_the_evicted_share_of_the_cold_overhead(chip_file):
    chip = load_chip(chip_file(), COLD)
    gemv = ops.Gemm(1, 5000, 5000, dtype="fp32")  # 100 MB of weights, 40 kB of activations
    assert roofline.touched_bytes(gemv) == pytest.approx(100e6, rel=1e-3)
    alone = roofline.time(gemv, chip)  # run on its own: its own bytes between two calls
    assert alone.overhead_s == pytest.approx(10e-6 + 80e-6 * (1 - math.exp(-4)), rel=1e-3)
    after_nothing = roofline.time(gemv, chip, roofline.Residency(traffic_between_calls_bytes=0))
    assert after_nothing.overhead_s == pytest.approx(10e-6)
    plain = load_chip(chip_file(), {"overhead": "10 us"})  # no cold overhead: never more
    assert roofline.time(gemv, plain).overhead_s == pytest.approx(10e-6)


def test_a_graph_node_pays_for_the_traffic_of_one_pass_of_its_count(chip_file):
    chip = load_chip(chip_file(), COLD)
    big, small = ops.Gemm(1, 5000, 5000, dtype="fp32"), ops.Norm(8, 64, "rms", "fp32")
    nodes = [ops.Node(small, 4), ops.Node(big, 4), ops.Node(small, 1)]
    total = 4 * roofline.touched_bytes(big) + 5 * roofline.touched_bytes(small)
    residency = roofline.graph_residency(nodes)
    assert residency[0].traffic_between_calls_bytes == pytest.approx(total / 4)
    assert residency[2].traffic_between_calls_bytes == pytest.approx(total)
    timing = roofline.time_graph(nodes, chip)
    per_layer, once = timing.nodes[0].timing.overhead_s, timing.nodes[2].timing.overhead_s
    assert 10e-6 < per_layer < once < 90e-6  # a node run once a pass waits longest


@pytest.mark.parametrize("overrides, message", [
    ({"cold_overhead": "90 us"}, "go together"),
    ({"cold_overhead": "1 us", "cold_overhead_traffic": "50 MB"}, "less than compute.overhead"),
    ({"cold_overhead": "90 us", "cold_overhead_traffic": "0 MB"}, "must be positive"),
])
def test_cold_overhead_needs_its_traffic_and_no_less_than_the_warm_cost(chip_file, overrides,
                                                                        message):
    with pytest.raises(SeedchipError, match=message):
        load_chip(chip_file(), {"overhead": "10 us", **overrides})


def test_matrix_overlap_must_be_a_share(chip_file):
    with pytest.raises(SeedchipError, match=r"matrix_overlap must be in \[0, 1\]"):
        load_chip(chip_file(), {"matrix_overlap": "1.5"})


def test_gathered_rows_fill_only_the_shared_capacity_of_a_level(chip_file):
    bag = ops.EmbeddingBag(rows=10**6, dim=64, bags=1000, pooling=10, dtype="fp32")  # 256 MB
    whole = roofline.time(bag, load_chip(chip_file()))
    per_core = roofline.time(bag, load_chip(chip_file(), {"sram_gather_capacity": "16 MiB"}))
    rows = 1000 * 10
    assert whole.levels[1].bytes == pytest.approx(rows * (1 - 64 * 2**20 / 256e6) * 256)
    assert per_core.levels[1].bytes == pytest.approx(rows * (1 - 16 * 2**20 / 256e6) * 256)


def test_operands_that_fit_only_one_at_a_time_go_off_chip(toy):
    both_fit = ops.Softmax(rows=1024, cols=10 * 1024, dtype="bf16")  # 20 + 20 MiB <= 64 MiB SRAM
    timing = roofline.time(both_fit, toy)
    assert timing.levels[1].bytes == 0
    doubled = ops.Softmax(rows=1024, cols=20 * 1024, dtype="bf16")  # 40 MiB each fits, 80 does not
    timing = roofline.time(doubled, toy)
    assert timing.levels[1].bytes == doubled.bytes()


def test_operands_that_fit_on_chip_are_served_from_sram(toy):
    gemv = ops.Gemm(1, 4096, 4096, dtype="bf16")  # 32 MiB of weights fit 64 MiB SRAM
    timing = roofline.time(gemv, toy)
    assert timing.levels[1].bytes == 0
    assert timing.memory_s == pytest.approx(gemv.bytes() / 10e12)
    in_graph = roofline.time(gemv, toy, roofline.Residency(persistent_footprint_bytes=1e9))
    assert in_graph.levels[1].bytes == 4096 * 4096 * 2
    assert in_graph.memory_s > timing.memory_s


def test_in_a_graph_kv_caches_compete_with_weights_for_on_chip_space(toy):
    attention = ops.AttentionDecode(8, 1024, 32, 8, 128, dtype="bf16")  # 32 MiB of cache
    alone = roofline.time(attention, toy)
    assert alone.levels[1].bytes == 0  # fits the 64 MiB SRAM on its own
    weights = ops.Gemm(8, 4096, 4096, dtype="bf16")  # 32 MiB: with the cache, over 64 MiB
    graph = roofline.time_graph([ops.Node(attention), ops.Node(weights)], toy)
    cache_bytes = next(o.bytes for o in attention.operands() if o.name == "kv_cache")
    assert graph.nodes[0].timing.levels[1].bytes >= cache_bytes
    assert graph.nodes[1].timing.levels[1].bytes >= 4096 * 4096 * 2


def test_small_op_is_overhead_bound(toy):
    timing = roofline.time(ops.Norm(1, 64), toy)
    assert timing.bound == "overhead"
    assert timing.total_s == pytest.approx(1e-6, rel=1e-3)


def test_gather_pays_whole_transactions(toy):
    # 36 B rows (9 x fp32): two 32 B SRAM sectors, one 64 B HBM burst per row read.
    bag = ops.EmbeddingBag(rows=100_000_000, dim=9, bags=1000, pooling=10, dtype="fp32")
    timing = roofline.time(bag, toy)
    lookups = 1000 * 10
    miss = 1 - math.floor(64 * 2**20 / 36) / 100_000_000  # uniform access
    indices_offsets_out = bag.bytes() - lookups * 36  # small streams, served from SRAM
    assert timing.levels[1].bytes == pytest.approx(lookups * miss * 64, rel=1e-12)
    assert timing.levels[0].bytes == pytest.approx(lookups * 64 + indices_offsets_out, rel=1e-12)


def test_hot_set_in_sram_speeds_up_embedding_bag(toy):
    bag = ops.EmbeddingBag(rows=10_000_000, dim=64, bags=4096, pooling=40, zipf_s=1.1)
    small = dataclasses.replace(toy, memory=(dataclasses.replace(toy.memory[0], capacity_bytes=1e6),
                                             toy.memory[1]))
    assert roofline.time(bag, toy).memory_s < roofline.time(bag, small).memory_s


def test_harmonic_matches_direct_sum():
    for n in (1, 10, 2048, 5000, 123_457):
        for s in (0.0, 0.5, 1.0, 1.05, 1.5):
            exact = float(np.sum(np.arange(1, n + 1, dtype=np.float64) ** -s))
            assert harmonic(n, s) == pytest.approx(exact, rel=1e-7)


def test_zipf_hit_rate():
    assert zipf_hit_rate(10, 100, 0.0) == 0.1
    assert zipf_hit_rate(100, 100, 1.2) == 1.0
    assert zipf_hit_rate(0.5, 100, 1.2) == 0.0
    assert zipf_hit_rate(10, 100, 1.0) == pytest.approx(
        sum(1 / i for i in range(1, 11)) / sum(1 / i for i in range(1, 101)))
    assert 0 < zipf_hit_rate(1e6, 1e12, 1.05) < 1  # 1e12-row tables stay cheap and finite


def _che_hit_rate(cached: int, rows: int, s: float) -> float:
    """Che's approximation summed over every rank (no grid), for checking."""
    p = np.arange(1, rows + 1, dtype=np.float64) ** -s
    p /= p.sum()
    low, high = np.log(cached), np.log(cached) + 60
    for _ in range(100):
        middle = (low + high) / 2
        if np.sum(-np.expm1(-p * np.exp(middle))) > cached:
            high = middle
        else:
            low = middle
    return float(np.sum(p * -np.expm1(-p * np.exp(low))))


@pytest.mark.parametrize("cached, rows, s", [(50, 1000, 1.1), (4096, 1_000_000, 1.05),
                                              (20_000, 300_000, 1.2), (10, 5000, 0.6)])
def test_lru_hit_rate_is_ches_approximation(cached, rows, s):
    # the grid of 2048 exact ranks and 256 geometric nodes stays within 0.2% of the sum
    assert lru_hit_rate(cached, rows, s) == pytest.approx(_che_hit_rate(cached, rows, s), rel=2e-3)


def test_lru_hit_rate_matches_a_simulated_lru_cache():
    rng = np.random.default_rng(0)
    rows, cached, s = 2000, 100, 1.0
    p = np.arange(1, rows + 1, dtype=np.float64) ** -s
    cache: OrderedDict[int, None] = OrderedDict()
    hits = 0
    lookups = rng.choice(rows, size=120_000, p=p / p.sum())
    for step, row in enumerate(lookups.tolist()):
        if row in cache:
            cache.move_to_end(row)
            hits += step >= 20_000  # count after the cache has filled
        else:
            cache[row] = None
            if len(cache) > cached:
                cache.popitem(last=False)
    assert hits / 100_000 == pytest.approx(lru_hit_rate(cached, rows, s), abs=0.01)


@pytest.mark.parametrize("rows,lookups,s", [(50_000, 61_440, 1.05), (2000, 500, 0.0),
                                           (10**6, 40_960, 1.2), (3000, 9000, 0.8)])
def test_repeat_share_counts_the_rows_a_batch_reads_again(rows, lookups, s):
    p = np.arange(1, rows + 1, dtype=np.float64) ** -s
    p /= p.sum()
    distinct = np.sum(-np.expm1(lookups * np.log1p(-p)))  # exact for independent draws
    assert repeat_share(lookups, rows, s) == pytest.approx(1 - distinct / lookups, abs=2e-3)
    drawn = np.random.default_rng(1).choice(rows, size=lookups, p=p)
    assert repeat_share(lookups, rows, s) == pytest.approx(1 - len(set(drawn.tolist())) / lookups,
                                                           abs=0.01)


def test_a_table_of_a_graph_hits_a_cache_with_its_own_repeats():
    chip = load_chip("host-cpu")
    bag = ops.EmbeddingBag(rows=50_000, dim=64, bags=512, pooling=120, dtype="fp32", zipf_s=1.05)
    [table] = [o for o in bag.operands() if o.is_gather]
    alone = roofline._lookups_reaching(table, chip.memory, 1.0)
    among_32 = roofline._lookups_reaching(table, chip.memory, 1 / 32)
    repeats = repeat_share(512 * 120, 50_000, 1.05)
    rows_of = [level.shared_capacity_bytes / 256 for level in chip.memory[:-1]]
    for reach, cached in zip(alone[1:], rows_of):  # alone: its rows stay between calls
        assert reach == pytest.approx(1 - lru_hit_rate(cached, 50_000, 1.05))
    for reach, cached in zip(among_32[1:], rows_of):  # the calls' own repeats, at best
        own = min(lru_hit_rate(cached, 50_000, 1.05), repeats)
        assert reach == pytest.approx(1 - max(own, lru_hit_rate(cached / 32, 50_000, 1.05)))
        assert reach < 1 - lru_hit_rate(cached / 32, 50_000, 1.05)


@given(cached=st.floats(0.0, 2e6), rows=st.integers(1, 10**9), s=st.floats(0.0, 2.0))
@settings(max_examples=60, deadline=None)
def test_lru_hit_rate_is_a_share_below_the_ideal_cache(cached, rows, s):
    rate = lru_hit_rate(cached, rows, s)
    assert 0.0 <= rate <= 1.0
    assert rate <= zipf_hit_rate(cached, rows, s) + 1e-9
    assert lru_hit_rate(cached * 2, rows, s) >= rate - 1e-9


def test_a_hardware_cache_serves_fewer_lookups_than_pinned_sram(chip_file):
    bag = ops.EmbeddingBag(rows=10**6, dim=64, bags=1000, pooling=10, dtype="fp32",
                           zipf_s=1.05)
    pinned = roofline.time(bag, load_chip(chip_file()))
    cache = roofline.time(bag, load_chip(chip_file(('kind = "sram"', 'kind = "cache"'))))
    assert cache.levels[1].bytes > pinned.levels[1].bytes  # more lookups reach HBM
    assert cache.memory_s > pinned.memory_s


LINK = Link(bandwidth_bytes_per_s=100e9, latency_s=1e-6, max_chips=8)


def test_collectives_match_hand_derived_values():
    size = 800e6
    assert collective_time_s("all_reduce", size, 8, LINK) == pytest.approx(
        2 * 7 / 8 * size / 100e9 + 2 * 7 * 1e-6)
    assert collective_time_s("all_gather", size, 4, LINK) == pytest.approx(
        3 / 4 * size / 100e9 + 3e-6)
    assert collective_time_s("all_to_all", size, 2, LINK) == pytest.approx(size / 2 / 100e9 + 1e-6)
    assert collective_time_s("send_recv", size, 2, LINK) == pytest.approx(size / 100e9 + 1e-6)
    assert collective_time_s("all_reduce", size, 1, LINK) == 0.0


def test_collective_op_is_network_bound(toy):
    timing = roofline.time(ops.Collective("all_reduce", 1e9, 8), toy)
    assert timing.bound == "network"
    assert timing.network_s == pytest.approx(collective_time_s("all_reduce", 1e9, 8, toy.link))


def test_graph_weights_stay_on_chip_only_when_all_fit(toy):
    layer = ops.Gemm(1, 2048, 2048, dtype="bf16")  # 8 MiB each
    few = roofline.time_graph([ops.Node(layer, 4)], toy)
    many = roofline.time_graph([ops.Node(layer, 32)], toy)
    assert few.nodes[0].timing.levels[1].bytes == 0
    assert many.nodes[0].timing.levels[1].bytes > 0
    assert many.total_s > 8 * few.total_s


def test_graph_breakdown_adds_up(toy):
    nodes = [ops.Node(ops.Gemm(64, 1024, 1024), 3), ops.Node(ops.Norm(64, 1024), 6),
             ops.Node(ops.Gemm(64, 256, 1024), 1)]
    graph = roofline.time_graph(nodes, toy)
    kinds = graph.by_kind()
    assert [k.kind for k in kinds] == sorted([k.kind for k in kinds],
                                             key=lambda kind: -next(
                                                 x.total_s for x in kinds if x.kind == kind))
    assert sum(k.total_s for k in kinds) == pytest.approx(graph.total_s)
    assert sum(k.share for k in kinds) == pytest.approx(1.0)
    assert graph.flops == pytest.approx(ops.total_cost(nodes).flops)


# ---------------------------------------------------------------- invariants

dims = st.integers(min_value=1, max_value=1 << 14)
dtypes = st.sampled_from(["bf16", "fp32"])


@st.composite
def any_op(draw):
    kind = draw(st.sampled_from(["gemm", "bag", "decode", "prefill", "norm"]))
    if kind == "gemm":
        return ops.Gemm(draw(dims), draw(dims), draw(dims), dtype=draw(dtypes))
    if kind == "bag":
        return ops.EmbeddingBag(rows=draw(st.integers(1, 10**9)), dim=draw(st.integers(1, 512)),
                                bags=draw(st.integers(1, 4096)), pooling=draw(st.integers(1, 100)),
                                zipf_s=draw(st.floats(0, 2)))
    heads = draw(st.sampled_from([(8, 8), (32, 8), (64, 8)]))
    if kind == "decode":
        return ops.AttentionDecode(draw(st.integers(1, 256)), draw(st.integers(0, 1 << 16)),
                                   *heads, head_dim=draw(st.sampled_from([64, 128])))
    if kind == "prefill":
        return ops.AttentionPrefill(draw(st.integers(1, 16)), draw(st.integers(1, 1 << 14)),
                                    *heads, head_dim=128)
    return ops.Norm(draw(dims), draw(dims))


def _grow(op):
    """The same op with more work: its first size field doubled."""
    name = {"Gemm": "m", "EmbeddingBag": "bags", "AttentionDecode": "context",
            "AttentionPrefill": "seq", "Norm": "rows"}[type(op).__name__]
    return dataclasses.replace(op, **{name: max(1, getattr(op, name)) * 2})


def _scaled(chip, flops=1.0, bandwidth=1.0, capacity=1.0):
    levels = tuple(dataclasses.replace(level, bandwidth_bytes_per_s=level.bandwidth_bytes_per_s
                                       * bandwidth, capacity_bytes=level.capacity_bytes * capacity)
                   for level in chip.memory)
    peaks = {dtype: peak * flops for dtype, peak in chip.matrix_flops_per_s.items()}
    return dataclasses.replace(chip, matrix_flops_per_s=peaks, memory=levels,
                               vector_flops_per_s=chip.vector_flops_per_s * flops)


H100 = load_chip("h100-sxm")


@settings(max_examples=150, deadline=None)
@given(op=any_op())
def test_time_never_drops_when_work_grows(op):
    assert roofline.time(_grow(op), H100).total_s >= roofline.time(op, H100).total_s


@settings(max_examples=150, deadline=None)
@given(op=any_op(), factor=st.floats(1.0, 100.0))
def test_time_never_drops_when_bandwidth_or_flops_shrink(op, factor):
    base = roofline.time(op, H100).total_s
    assert roofline.time(op, _scaled(H100, bandwidth=1 / factor)).total_s >= base
    assert roofline.time(op, _scaled(H100, flops=1 / factor)).total_s >= base


@settings(max_examples=150, deadline=None)
@given(op=any_op())
def test_time_is_at_least_both_roofline_bounds(op):
    timing = roofline.time(op, H100)
    peak_flops = (H100.peak_flops_per_s(op.compute_dtype) if op.engine == "matrix"
                  else H100.vector_flops_per_s)
    fastest_bandwidth = max(level.bandwidth_bytes_per_s for level in H100.memory)
    assert timing.total_s >= timing.compute_s and timing.total_s >= timing.memory_s
    assert timing.total_s >= op.flops() / peak_flops
    assert timing.total_s >= op.bytes() / fastest_bandwidth * (1 - 1e-12)
    assert math.isfinite(timing.total_s) and timing.total_s > 0


@settings(max_examples=150, deadline=None)
@given(op=any_op(), factor=st.floats(1.0, 1e4))
def test_more_sram_never_makes_an_op_slower(op, factor):
    bigger_sram = dataclasses.replace(H100, memory=(
        dataclasses.replace(H100.memory[0], capacity_bytes=H100.memory[0].capacity_bytes * factor),
        dataclasses.replace(H100.memory[1], capacity_bytes=H100.memory[1].capacity_bytes * factor)))
    assert roofline.time(op, bigger_sram).total_s <= roofline.time(op, H100).total_s * (1 + 1e-12)


def test_array_valued_chip_gives_the_scalar_result_per_point():
    """A chip whose fields are arrays (as a sweep builds) times every configuration at once."""
    rec = load_chip("seedchip-rec")
    bandwidth = np.array([0.2e12, 0.5e12, 1e12, 2e12])
    sram = np.array([16e6, 64e6, 256e6, 1e9])

    def with_memory(capacity, bw):
        return dataclasses.replace(rec, memory=(
            dataclasses.replace(rec.memory[0], capacity_bytes=capacity),
            dataclasses.replace(rec.memory[1], bandwidth_bytes_per_s=bw)))

    grid = with_memory(sram, bandwidth)
    for op in (ops.EmbeddingBag(10**7, 128, 2048, 30, zipf_s=1.05), ops.Gemm(2048, 1024, 4096),
               ops.Norm(4, 8)):
        timing = roofline.time(op, grid)
        for index in range(4):
            point = roofline.time(op, with_memory(sram[index], bandwidth[index]))
            assert timing.total_s[index] == pytest.approx(point.total_s, rel=1e-12)
            assert timing.bound[index] == point.bound


def test_a_random_row_pays_one_random_access_then_streams(toy):
    """256 B rows over 64 B HBM transactions: one access at gather bandwidth, three streamed."""
    bag = ops.EmbeddingBag(rows=10**9, dim=64, bags=100, pooling=10, dtype="fp32")
    hbm = toy.main_memory
    timing = roofline.time(bag, toy)
    rows = 1000 * (1 - math.floor(64 * 2**20 / 256) / 10**9)
    assert timing.levels[1].seconds == pytest.approx(
        rows * 64 / hbm.gather_bytes_per_s + rows * 192 / hbm.achievable_bytes_per_s, rel=1e-9)


def test_exp_and_tanh_cost_time_at_the_transcendental_rate(toy):
    """toy: vector 10 TFLOP/s, no transcendental rate given -> 10/8 T/s; efficiency 0.5."""
    assert toy.transcendental_per_s == pytest.approx(10e12 / 8)
    softmax = ops.Softmax(rows=4096, cols=4096)
    elements = 4096 * 4096
    assert roofline.time(softmax, toy).compute_s == pytest.approx(
        4 * elements / (10e12 * 0.5) + elements / (10e12 / 8 * 0.5))


def test_latency_bound_gathers_add_up_each_lookup_at_the_level_that_serves_it(chip_file):
    bag = ops.EmbeddingBag(rows=10**6, dim=64, bags=1000, pooling=10, dtype="fp32")  # 256 MB
    text = ('source = "hypothetical: test fixture"', 'source = "hypothetical: test fixture"\n'
                                                     'gathers = "latency"')
    parallel = roofline.time(bag, load_chip(chip_file()))
    serial = roofline.time(bag, load_chip(chip_file(text)))
    sram, hbm = load_chip(chip_file()).memory
    rows, hit = 1000 * 10, 64 * 2**20 / 256e6
    sram_row_s = 32 / sram.gather_bytes_per_s + 7 * 32 / sram.gather_tail_bytes_per_s
    hbm_row_s = 64 / hbm.gather_bytes_per_s + 3 * 64 / hbm.gather_tail_bytes_per_s
    served_s = rows * (hit * sram_row_s + (1 - hit) * hbm_row_s)
    assert serial.memory_s == pytest.approx(max(parallel.memory_s, served_s))
    assert serial.memory_s > parallel.memory_s


def test_gather_mode_must_be_known(chip_file):
    from perfmodel.errors import SeedchipError
    with pytest.raises(SeedchipError, match="gathers must be one of bandwidth, latency"):
        load_chip(chip_file(('source = "hypothetical: test fixture"',
                             'source = "hypothetical: test fixture"\ngathers = "fast"')))
    assert not load_chip(chip_file()).gathers_latency_bound
