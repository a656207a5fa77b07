"""Calibrate the host: microbenchmarks only, written as a chip file perfmodel loads like any preset.

Each figure is the median of >= 5 timed rounds after warm-up on pre-touched memory, the
rounds of all microbenchmarks interleaved (`benches.timing.measure_interleaved`), over
the rounds that ran in one host state (`benches.timing.host_states`, told by each round's
DRAM read): one set of figures per state with enough rounds, the commonest first.

- matrix peak and cost per output: the project's own GEMM kernel (`kernels.linear`,
  fp32) on square problems of `GEMM_SIZES` and on the first size with inner dimensions
  `SHORT_KS`; a line through the three of one output shape gives the peak and the fixed
  cost of each output dot product (its sum across SIMD lanes and store), which dominates
  short-k products;
- vector peak: independent FMAs on register-resident values per thread (no load or
  store per FMA: the units' peak, as the GEMM's is the matrix peak);
- transcendental and reciprocal rates: vectorised exp (the kernels' own `exp_f32`) and
  1 / (1 + x), out of place over an L1-resident row per thread, and both in one loop
  (1 / (1 + exp(x))), which gives how much of the shorter runs under the longer;
- streaming read bandwidth of each level: repeated reads of a buffer sized to fit the
  per-core L2, the shared L3, or far larger than L3 (DRAM); triad is reported too;
- streaming write bandwidth of each level: a copy between two buffers of that total size,
  its time less the reads' (at the read bandwidth) being the writes';
- cost per loaded element: the same GEMM kernel on one row of x against weights that stay
  in L2, against the model's multiply-adds and outputs: what each weight costs beyond
  its multiply-add (its way through the core's loads), which few-row products pay once
  whatever their rows;
- matrix overlap: the same GEMM kernel on a decode shape (`STREAM_GEMM_ROWS` rows of x,
  inner dimension `STREAM_GEMM_K`) whose weights stream from DRAM, against the model's
  compute (the cost per loaded element included) and memory times for it: how much of
  the shorter the kernel hides under the longer; the matrix-vector overlap likewise,
  from one row of x against the same weights (a decode step at batch 1); the attention
  overlap likewise, from the project's decode attention kernel over keys and values
  `ATTENTION_L3_MULTIPLE` times the L3 (`ATTENTION_HEADS`);
- row overlap: the project's softmax kernel over rows of `ROW_PROBE_COLS` floats (input
  and output a quarter of L3 each), against the model's compute and memory times for it:
  how much of the shorter a row-wise op (each row reduced before it is written) hides
  under the longer;
- random-row gather bandwidth of each level for `GATHER_ROW_BYTES`-byte rows (one cache
  line per row, so the gather efficiency is the pure cost of a random access) and for
  `WIDE_GATHER_ROW_BYTES`-byte rows (the cost of the rest of a row after its first line),
  pooled by the project's embedding-bag kernel in bags of `GATHER_POOLING` rows;
  from DRAM, each call reads rows no recent call read (`benches.timing.input_sets`), as a
  new batch's lookups would;
- the share of a stream larger than L3 that L3 keeps between passes: the one-row GEMV
  again, its weights `STREAM_L3_MULTIPLES` times the L3, against the model and the DRAM
  read: the bytes kept of the smaller as the most L3 keeps of any stream, the share of
  the larger as the capacity of a cache that replaces at random
  (`perfmodel.roofline.retained_share`);
- the share of L3 that random reads can use: fresh random rows of a table as large as L3,
  against the L3-resident and DRAM gathers;
- selection rate: the project's top-k kernel on `SELECTION_SHAPE` scores, its comparisons
  (as the model counts them) over its time less the call overhead;
- fixed per-op overhead: the mean cost of a call of each public kernel kind on a tiny
  input, one after the other as in a graph (wrapper checks, dispatch, a parallel region);
- cold overhead: the same calls, each right after an untimed stream of
  `COLD_FLUSH_L3_MULTIPLES` times the L3 (the interpreter's and the kernels' dispatch code
  and data evicted), from which follow the cost of a wholly cold call and the traffic
  over which the dispatch state is evicted (a squared exponential through the three).

Validation (`benches.validate`) must use other shapes; `CALIBRATION_SHAPES` lists what is
measured here so a test can check the two sets are disjoint.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import math
import statistics
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from benches.system import SystemInfo, system_info
from benches.timing import (REWARM_CALLS, REWARM_S, Timing, cycling, host_states, input_sets,
                            kept_rounds, measure_interleaved)
from perfmodel import ops, units
from perfmodel.roofline import overlapped

GEMM_SIZES = (1024, 1536)
SHORT_KS = (48, 256)  # inner dimensions of the shorter GEMMs that isolate the cost per output
STREAM_GEMM_ROWS = 6  # a decode batch: the GEMM that streams its weights from DRAM
STREAM_GEMV_ROWS = 1  # a decode step at batch 1: the same weights, one row of x
STREAM_GEMM_K = 640
GATHER_ROW_BYTES = 64
WIDE_GATHER_ROW_BYTES = 1024
GATHER_POOLING = 16  # rows per bag of the gather probes: no validation bag pools 16
OVERHEAD_ROUNDS = 50
COLD_FLUSH_L3_MULTIPLES = (0.5, 2, 4)  # streams before the cold calls, in L3s
STREAM_L3_MULTIPLES = (2, 3)  # the stream-retention GEMVs' weights, in L3s
ATTENTION_HEADS = (8, 16, 8, 128)  # batch, heads, kv heads, head dim of the streamed decode
ATTENTION_L3_MULTIPLE = 4  # ... attention probe, whose keys and values are 4 L3s
SELECTION_SHAPE = (4, 50_000, 64)  # rows, columns, k of the top-k probe (no case's shape)
ROW_PROBE_COLS = 1536  # row length of the row-overlap probe: no validation norm or softmax has it
CALIBRATION_SHAPES = {("gemm", size, size, size) for size in GEMM_SIZES} | {
    ("gemm", GEMM_SIZES[0], GEMM_SIZES[0], k) for k in SHORT_KS} | {
    ("gather_row_bytes", GATHER_ROW_BYTES), ("gather_row_bytes", WIDE_GATHER_ROW_BYTES),
    ("bag_pooling", GATHER_POOLING),
    *(("gemm_rows_k", rows, STREAM_GEMM_K) for rows in (STREAM_GEMM_ROWS, STREAM_GEMV_ROWS)),
    ("row_cols", ROW_PROBE_COLS), ("topk", *SELECTION_SHAPE),
    ("decode_heads", *ATTENTION_HEADS)}


@dataclass(frozen=True)
class Scale:
    """How big the microbenchmarks are: the real run, or tiny ones for tests."""

    gemm_sizes: tuple[int, ...] = GEMM_SIZES
    dram_buffer_bytes: int = 512 * 2**20
    gather_rows: int = 1 << 18
    rounds: int = 101  # interleaved: each figure's samples span the whole calibration
    drift_rounds: int = 7
    l3_multiple: int = 4  # the DRAM buffer is at least this many times the L3


TINY = Scale(gemm_sizes=(64, 96), dram_buffer_bytes=4 * 2**20, gather_rows=1 << 10, rounds=5,
             drift_rounds=5, l3_multiple=0)


@dataclass(frozen=True)
class Measurement:
    """One calibrated figure in base units, with the spread of its rounds."""

    name: str
    value: float
    dimension: str
    spread: float
    detail: str


@dataclass(frozen=True)
class Calibration:
    """The measured figures of one host state (``state`` of ``states``, the commonest
    first: ``timing.host_states``), and over how many of the rounds (``rounds_kept`` of
    ``rounds``: those in that state)."""

    system: SystemInfo
    threads: int
    date: str
    measurements: tuple[Measurement, ...]
    rounds: int
    rounds_kept: int
    state: int = 1
    states: int = 1

    def value(self, name: str) -> float:
        return next(m.value for m in self.measurements if m.name == name)


@dataclass(frozen=True)
class Probe:
    """A microbenchmark ready to time: ``run`` is one call, ``result`` turns its timing
    into the calibrated figure."""

    run: Callable[[], object]
    result: Callable[[Timing], Measurement]


def _rate_probe(name: str, run: Callable[[], object], amount: float, dimension: str,
                detail: str) -> Probe:
    """``amount`` (flops or bytes) per call of ``run`` over its median time."""
    return Probe(run, lambda timing: Measurement(name, amount / timing.median_s, dimension,
                                                 timing.spread, detail))


def _floats(count: int) -> np.ndarray:
    """A pre-touched float32 buffer (fresh pages are slow on first touch)."""
    return np.ones(max(count, 1), dtype=np.float32)


def _gemm(name: str, size: int, k: int) -> Probe:
    import kernels

    rng = np.random.default_rng(size + k)
    x = rng.standard_normal((size, k), dtype=np.float32)
    w = rng.standard_normal((size, k), dtype=np.float32)
    return _rate_probe(name, lambda: kernels.linear(x, w), 2.0 * size * size * k,
                       units.FLOP_PER_S, f"kernels.linear fp32 {size}x{size}x{k}")


def _weight_rows(weight_bytes: int) -> int:
    """Rows of a decode-shaped GEMM's weight matrix for ``weight_bytes`` of weights."""
    return max(1, weight_bytes // (4 * STREAM_GEMM_K))


def _decode_gemm(name: str, rows: int, weights: np.ndarray, where: str) -> Probe:
    """A decode-shaped GEMM of ``rows`` rows of x against ``weights`` (``where`` they
    live: beyond the caches, streamed from DRAM on every call, or in one)."""
    import kernels

    n = weights.shape[0]
    x = np.random.default_rng(rows).standard_normal((rows, STREAM_GEMM_K), dtype=np.float32)
    return _rate_probe(name, lambda: kernels.linear(x, weights),
                       2.0 * rows * n * STREAM_GEMM_K, units.FLOP_PER_S,
                       f"kernels.linear fp32 {rows}x{STREAM_GEMM_K} @ "
                       f"[{n}, {STREAM_GEMM_K}], weights {where}")


def _element_overhead(gemv: Measurement, n: int, peak: Measurement, per_output: Measurement,
                      overhead: Measurement) -> Measurement:
    """What each weight of a matrix op costs beyond its multiply-add: the L2-resident GEMV
    (``n`` weight rows) less its call overhead, multiply-adds at the peak and outputs, over
    its weights (clamped at 0). Its weights come from L2 at about the rate its FMAs
    consume them, and the two add up rather than overlap, so the figure is close to a
    weight's 4 bytes at the L2 read bandwidth."""
    flops = 2.0 * n * STREAM_GEMM_K
    measured_s = flops / gemv.value
    fma_s, outputs_s = flops / peak.value, n * per_output.value
    elements = n * STREAM_GEMM_K
    per_element = max(0.0, (measured_s - overhead.value - fma_s - outputs_s) / elements)
    return Measurement(
        "element_overhead", per_element, units.SECONDS, max(gemv.spread, overhead.spread),
        f"gemv_l2 against the model: measured {measured_s * 1e6:.1f} us, less overhead "
        f"{overhead.value * 1e6:.1f}, multiply-adds {fma_s * 1e6:.1f} and outputs "
        f"{outputs_s * 1e6:.1f} us, over its {elements} weights")


def _decode_gemm_compute_s(rows: int, n: int, peak: Measurement, per_output: Measurement,
                           per_element: Measurement) -> float:
    """The model's compute time of a decode-shaped GEMM (``rows`` rows of x, ``n`` weight
    rows): its multiply-adds at the peak, a cost per output and per loaded weight."""
    return (2.0 * rows * n * STREAM_GEMM_K / peak.value + rows * n * per_output.value
            + n * STREAM_GEMM_K * per_element.value)


def _hidden_share(first_s: float, second_s: float, together_s: float) -> float:
    """The share of the shorter of two times that ran under the longer, given the time both
    took together: (first + second - together) / shorter, clamped to [0, 1] (the model's
    overlap read backwards)."""
    hidden = (first_s + second_s - together_s) / min(first_s, second_s)
    return float(np.clip(hidden, 0.0, 1.0))


def _matrix_overlap(name: str, probe: str, stream: Timing, dram: Timing, dram_bytes: float,
                    rows: int, n: int, peak: Measurement, per_output: Measurement,
                    per_element: Measurement) -> Measurement:
    """The share of the shorter of compute and memory time that a streamed GEMM (``rows``
    rows of x, ``n`` weight rows; its timing ``stream``) hides under the longer:
    (compute + memory - measured) / shorter, clamped to [0, 1], with compute and memory as
    the model times them (peak, cost per output and per loaded weight; the weights at the
    DRAM read bandwidth). Read round by round, the weights at that round's DRAM read
    (``dram``, of ``dram_bytes``), and the median taken of the rounds' shares: the host's
    DRAM speed moves between rounds by more than a one-row GEMV's compute (a sixth of its
    memory time), so the shares of medians taken apart mostly measured that move."""
    return _streamed_overlap(name, probe, stream, dram, dram_bytes,
                             _decode_gemm_compute_s(rows, n, peak, per_output, per_element),
                             4.0 * n * STREAM_GEMM_K)


def _streamed_overlap(name: str, probe: str, stream: Timing, dram: Timing, dram_bytes: float,
                      compute_s: float, streamed_bytes: float,
                      overhead_s: float = 0.0) -> Measurement:
    """The share of the shorter of compute (``compute_s``, as the model times it) and memory
    that a probe streaming ``streamed_bytes`` from DRAM (its timing ``stream``, less
    ``overhead_s`` a call) hides under the longer, round by round: each round's memory
    time at that round's DRAM read (``dram``, of ``dram_bytes``), the median of the
    rounds' hidden shares (`_hidden_share`)."""
    memory_s = [streamed_bytes * dram_s / dram_bytes for dram_s in dram.samples]
    hidden = statistics.median(_hidden_share(compute_s, memory, measured - overhead_s)
                               for memory, measured in zip(memory_s, stream.samples))
    return Measurement(
        name, hidden, units.RATIO, max(stream.spread, dram.spread),
        f"{probe} against the model, round by round: compute {compute_s * 1e3:.2f} ms, "
        f"memory {statistics.median(memory_s) * 1e3:.2f} ms, measured "
        f"{stream.median_s * 1e3:.2f} ms (medians)")


def _attention_op(l3_bytes: int) -> ops.AttentionDecode:
    """The streamed decode attention probe's op: `ATTENTION_HEADS`, its context long enough
    for keys and values of `ATTENTION_L3_MULTIPLE` times the L3."""
    batch, heads, kv_heads, head_dim = ATTENTION_HEADS
    context = ATTENTION_L3_MULTIPLE * l3_bytes // (2 * batch * kv_heads * head_dim * 4)
    return ops.AttentionDecode(batch, context, heads, kv_heads, head_dim, dtype="fp32")


def _attention_stream(op: ops.AttentionDecode) -> Probe:
    """The decode attention kernel over ``op``'s keys and values, streamed from DRAM."""
    import kernels

    rng = np.random.default_rng(op.context)
    q = rng.standard_normal((op.batch, op.n_heads, op.head_dim), dtype=np.float32)
    k_cache, v_cache = (rng.standard_normal((op.batch, op.context, op.n_kv_heads, op.head_dim),
                                            dtype=np.float32) for _ in range(2))
    lengths = np.full(op.batch, op.context, dtype=np.int64)
    return _rate_probe("attention_stream",
                       lambda: kernels.attention_decode(q, k_cache, v_cache, lengths),
                       k_cache.nbytes + v_cache.nbytes, units.BYTES_PER_S,
                       f"kernels.attention_decode fp32 b{op.batch} ctx{op.context} "
                       f"h{op.n_heads}/kv{op.n_kv_heads} d{op.head_dim}, keys and values "
                       "streamed from DRAM")


def _attention_overlap(op: ops.AttentionDecode, stream: Timing, dram: Timing,
                       dram_bytes: float, by_name: dict[str, Measurement]) -> Measurement:
    """The share of the shorter of compute and memory time that decode attention (``op``,
    its timing ``stream``) hides under the longer, read as the streamed GEMMs' overlaps
    are (`_streamed_overlap`): the model's compute (multiply-adds at the peak, exps, a cost
    per output and per loaded element) against its key and value cache at each round's
    DRAM read, the call overhead taken off the measured time."""
    compute_s = (op.flops() / by_name["matrix_peak"].value
                 + op.transcendentals() / by_name["transcendental"].value
                 + op.dot_products() * by_name["dot_overhead"].value
                 + op.loaded_elements() * by_name["element_overhead"].value)
    cache_bytes = next(o.bytes for o in op.operands() if o.name == "kv_cache")
    return _streamed_overlap("attention_overlap", "attention_stream", stream, dram, dram_bytes,
                             compute_s, cache_bytes, by_name["overhead"].value)


def write_bandwidth(copy_bytes_per_s: float, read_bytes_per_s: float) -> float:
    """Streaming write bandwidth from a copy (read + write counted) and the read bandwidth:
    the copy's seconds per byte copied less the read's. When nothing is left for the
    writes (a copy at twice the read rate or more), the copy's own rate stands in rather
    than an infinite bandwidth."""
    write_s = 2.0 / copy_bytes_per_s - 1.0 / read_bytes_per_s
    return 1.0 / write_s if write_s > 0 else copy_bytes_per_s


def _row_softmax(rows: int) -> Probe:
    """The softmax kernel over ``rows`` rows of ``ROW_PROBE_COLS`` floats, in and out."""
    import kernels

    x = np.random.default_rng(rows).standard_normal((rows, ROW_PROBE_COLS), dtype=np.float32)
    out = np.empty_like(x)
    return _rate_probe("row_softmax", lambda: kernels.softmax(x, out=out), 2.0 * x.nbytes,
                       units.BYTES_PER_S, f"kernels.softmax fp32 {rows} x {ROW_PROBE_COLS} "
                       "(L3-resident), counted as read + write")


def _row_overlap(probe: Measurement, rows: int, by_name: dict[str, Measurement]) -> Measurement:
    """The share of the shorter of compute and memory time that the softmax probe hides
    under the longer: (compute + memory + overhead - measured) / shorter, clamped to
    [0, 1], with compute and memory as the model times a softmax of that shape (its flops,
    exps and reciprocals at the calibrated rates, the shorter of the last two partly under
    the longer by the reciprocal overlap; its input read and output written at the
    L3's)."""
    op = ops.Softmax(rows, ROW_PROBE_COLS, dtype="fp32")
    data_bytes = 4.0 * rows * ROW_PROBE_COLS
    value = {name: m.value for name, m in by_name.items()}
    measured_s = 2.0 * data_bytes / probe.value
    compute_s = op.flops() / value["vector"] + overlapped(
        op.transcendentals() / value["transcendental"], op.reciprocals() / value["reciprocal"],
        value["reciprocal_overlap"])
    memory_s = (data_bytes / value["l3_read"]
                + data_bytes / write_bandwidth(value["l3_copy"], value["l3_read"]))
    hidden = _hidden_share(compute_s, memory_s, measured_s - value["overhead"])
    return Measurement(
        "row_overlap", hidden, units.RATIO,
        max(probe.spread, by_name["l3_read"].spread),
        f"row_softmax against the model: compute {compute_s * 1e6:.0f} us, memory "
        f"{memory_s * 1e6:.0f} us, overhead {value['overhead'] * 1e6:.1f} us, measured "
        f"{measured_s * 1e6:.0f} us")


def _matrix_fit(gemms: Sequence[tuple[int, Measurement]]) -> tuple[Measurement, ...]:
    """Matrix peak and cost per output from GEMMs of one output shape and the given inner
    dimensions k: the line seconds / outputs = 2 k / peak + dot_overhead with the least
    squared relative errors (predictions are judged by relative error, and an absolute fit
    would serve the longest k alone: here it missed 1024 x 1024 x 48 by -18%). Falls back
    to the fastest GEMM's rate and no per-output cost when noise makes the line
    meaningless (a negative slope or intercept)."""
    flops_per_output = np.array([2.0 * k for k, _ in gemms])
    seconds_per_output = flops_per_output / np.array([m.value for _, m in gemms])
    per_flop_s, dot_s = np.polyfit(flops_per_output, seconds_per_output, 1,
                                   w=1.0 / seconds_per_output)
    if per_flop_s <= 0 or dot_s < 0:
        per_flop_s, dot_s = 1.0 / max(m.value for _, m in gemms), 0.0
    spread = max(m.spread for _, m in gemms)
    detail = (f"line through {', '.join(m.name for _, m in gemms)} (least relative squares): "
              "seconds = 2 m n k / peak + m n x dot_overhead")
    return (Measurement("matrix_peak", 1.0 / per_flop_s, units.FLOP_PER_S, spread, detail),
            Measurement("dot_overhead", float(dot_s), units.SECONDS, spread, detail))


def _gather_capacity(l3_bytes: int, resident: Measurement, span: Measurement,
                     dram: Measurement) -> Measurement:
    """How much of L3 random reads can use: the L3-sized table's share of lookups served
    like the L3-resident one's rather than like DRAM's (from the time per row of each),
    times its size. On this VM fresh random rows of a table miss more and more past
    ~12 MB, long before its 32 MB L3 is full (translation reach, or a cache shared with
    other guests), while streamed data uses all of it: fresh 256 B rows of 4, 16, 32 and
    256 MB tables cost 7.3, 11.6, 16.9 and 23.2 ns."""
    row_s = [GATHER_ROW_BYTES / m.value for m in (resident, span, dram)]
    served = float(np.clip((row_s[2] - row_s[1]) / (row_s[2] - row_s[0]), 0.0, 1.0)
                   if row_s[2] > row_s[0] else 1.0)
    return Measurement(
        "l3_gather_capacity", served * l3_bytes, units.BYTES,
        max(m.spread for m in (resident, span, dram)),
        f"l3_span_gather between l3_gather and dram_gather: {served:.0%} of its lookups "
        f"served by L3, times the {units.format_quantity(l3_bytes, units.BYTES, binary=True)} "
        "table")


def _vector(threads: int) -> Probe:
    from kernels.membench import FMA_LANES, fma_throughput

    x = _floats(threads * FMA_LANES).reshape(threads, FMA_LANES)
    iterations = 200_000
    return _rate_probe("vector", lambda: fma_throughput(x, iterations, np.float32(0.999),
                                                        np.float32(0.001)),
                       2.0 * iterations * x.size, units.FLOP_PER_S,
                       f"register-resident fma, {threads} x {FMA_LANES} lanes")


SPECIAL_PROBES = {"transcendental": ("exp", "exp(x)"),
                  "reciprocal": ("reciprocal", "1 / (1 + x)"),
                  "sigmoid": ("sigmoid", "1 / (1 + exp(x)), both in one loop")}


def _special(name: str, threads: int) -> Probe:
    """Evaluations per second of ``SPECIAL_PROBES[name]``, out of place (as the activation
    kernels work) over an L1-resident row of moderate values per thread."""
    from kernels.membench import SPECIAL_MODES, special_throughput

    mode, what = SPECIAL_PROBES[name]
    x = (np.random.default_rng(threads).standard_normal((threads, 2048)) * 0.5).astype(np.float32)
    out = np.empty_like(x)
    iterations = 500
    index = SPECIAL_MODES.index(mode)
    return _rate_probe(name, lambda: special_throughput(x, out, iterations, index),
                       float(iterations * x.size), units.FLOP_PER_S,
                       f"vectorised {what}, out of place over {threads} x 8 KiB (per s)")


def _topk() -> Probe:
    """The top-k kernel on ``SELECTION_SHAPE`` scores: the model's comparisons per second
    of the whole call (its overhead included; see `_selection`)."""
    import kernels

    rows, cols, k = SELECTION_SHAPE
    x = np.random.default_rng(cols).standard_normal((rows, cols), dtype=np.float32)
    return _rate_probe("topk", lambda: kernels.topk(x, k), ops.TopK(rows, cols, k).comparisons(),
                       units.FLOP_PER_S, f"kernels.topk of {rows} x {cols} scores, k {k} "
                       "(comparisons: columns x log2(k + 1) per row)")


def _selection(topk: Measurement, overhead: Measurement) -> Measurement:
    """Comparisons per second of a top-k: the probe's comparisons over its call less the
    call overhead (clamped to a tenth of the call). A top-k's threshold search branches on
    every score, far from the SIMD peak the model used before: two-tower's top 100 of
    4 x 65,536 scores took ~100 us against 7 us at the vector rate."""
    comparisons = ops.TopK(*SELECTION_SHAPE).comparisons()
    call_s = comparisons / topk.value
    selecting_s = max(call_s - overhead.value, 0.1 * call_s)
    return Measurement("selection", comparisons / selecting_s, units.FLOP_PER_S,
                       max(topk.spread, overhead.spread),
                       f"topk less overhead: {selecting_s * 1e6:.1f} of {call_s * 1e6:.1f} us "
                       f"for {comparisons:.3g} comparisons (per s)")


def _reciprocal_overlap(by_name: dict[str, Measurement]) -> Measurement:
    """The share of the shorter of an element's exp and reciprocal times that runs under the
    longer when one loop does both (a CPU divides beside its FMA pipes; a GPU's
    special-function unit does one after the other): (exp + reciprocal - both) / shorter,
    from the seconds per element of the three special probes, clamped to [0, 1]."""
    exp_s, reciprocal_s, both_s = (1.0 / by_name[name].value
                                   for name in ("transcendental", "reciprocal", "sigmoid"))
    hidden = _hidden_share(exp_s, reciprocal_s, both_s)
    return Measurement(
        "reciprocal_overlap", hidden, units.RATIO,
        max(by_name[name].spread for name in SPECIAL_PROBES),
        f"per element: exp {exp_s * 1e12:.0f} ps, reciprocal {reciprocal_s * 1e12:.0f} ps, "
        f"both in one loop {both_s * 1e12:.0f} ps")


def _read(name: str, buffer_bytes: int, threads: int, detail: str) -> Probe:
    from kernels.membench import stream_read_repeat

    a = _floats(buffer_bytes // 4)
    repeats = max(1, (256 * 2**20) // a.nbytes)
    return _rate_probe(name, lambda: stream_read_repeat(a, repeats, threads),
                       float(repeats * a.nbytes), units.BYTES_PER_S,
                       f"{detail}: {units.format_quantity(a.nbytes, units.BYTES, binary=True)} "
                       f"read {repeats}x")


def _memory_time(work_s: float, compute_s: float, overlap: float) -> float:
    """The memory time for which the model's work time (`roofline.overlapped` of compute
    and memory with ``overlap``) is ``work_s``; 0 when compute alone accounts for it."""
    if work_s >= (2.0 - overlap) * compute_s:  # memory the longer
        return work_s - (1.0 - overlap) * compute_s
    return max(0.0, (work_s - compute_s) / (1.0 - overlap)) if overlap < 1.0 else 0.0


def _stream_retention(probes: Sequence[Timing], rows: Sequence[int], dram: Timing,
                      dram_bytes: float, by_name: dict[str, Measurement]
                      ) -> tuple[Measurement, Measurement]:
    """What L3 keeps of a stream too large for it between passes
    (`perfmodel.roofline.retained_share`), from the one-row GEMVs of ``rows`` weight rows
    `STREAM_L3_MULTIPLES` times the L3 (``probes``): the bytes kept of the smaller as the
    most it keeps of any stream (l3_stream_kept), and the share kept of the larger as a
    randomly replacing cache's capacity (C = F (1 - h) / -ln h: l3_stream_capacity). Each
    round's share h: the model read backwards, its memory time (`_memory_time`, from the
    call less its overhead, the model's compute and the matrix-vector overlap) over the
    weights' time at that round's DRAM read, taken from 1; the median of the rounds',
    within [0.001, 0.999]. The kernel itself rather than a plain read: on this host 48 MiB
    read over and over kept 70% between passes, the 50 MB GEMV of validation half that."""
    overlap, overhead_s = by_name["matvec_overlap"].value, by_name["overhead"].value

    def kept(probe: Timing, n: int) -> tuple[float, float]:
        compute_s = _decode_gemm_compute_s(STREAM_GEMV_ROWS, n, *(
            by_name[name] for name in ("matrix_peak", "dot_overhead", "element_overhead")))
        stream_bytes = 4.0 * (n * STREAM_GEMM_K + STREAM_GEMM_K + n)  # weights, x and y
        shares = [1.0 - _memory_time(measured_s - overhead_s, compute_s, overlap)
                  / (stream_bytes * dram_s / dram_bytes)
                  for measured_s, dram_s in zip(probe.samples, dram.samples)]
        return float(np.clip(statistics.median(shares), 1e-3, 0.999)), stream_bytes

    (near, near_bytes), (far, far_bytes) = (kept(p, n) for p, n in zip(probes, rows))
    spread = max(dram.spread, *(probe.spread for probe in probes))
    described = [f"{share:.0%} of its {units.format_quantity(size, units.BYTES, binary=True)}"
                 for share, size in ((near, near_bytes), (far, far_bytes))]
    return (Measurement("l3_stream_kept", near * near_bytes, units.BYTES, spread,
                        f"gemv_l3_stream against the model and dram_read, round by round: "
                        f"{described[0]} kept in L3 between calls (median)"),
            Measurement("l3_stream_capacity", far_bytes * (1.0 - far) / -math.log(far),
                        units.BYTES, spread,
                        f"gemv_l3_far against the model and dram_read, round by round: "
                        f"{described[1]} kept in L3 between calls (median), as a randomly "
                        "replacing cache of this capacity keeps"))


def _copy(name: str, pair_bytes: int, threads: int, detail: str) -> Probe:
    """Copy one buffer into another, the two together ``pair_bytes``."""
    from kernels.membench import stream_copy_repeat

    src, dst = _floats(pair_bytes // 8), _floats(pair_bytes // 8)
    repeats = max(1, (256 * 2**20) // (2 * src.nbytes))
    return _rate_probe(name, lambda: stream_copy_repeat(src, dst, repeats, threads),
                       2.0 * repeats * src.nbytes, units.BYTES_PER_S,
                       f"{detail}: 2 x {units.format_quantity(src.nbytes, units.BYTES, binary=True)}"
                       f" copied {repeats}x, counted as read + write")


def _triad(buffer_bytes: int) -> Probe:
    from kernels.membench import triad

    arrays = [_floats(buffer_bytes // 4 // 4) for _ in range(3)]
    return _rate_probe("dram_triad", lambda: triad(arrays[0], arrays[1], arrays[2],
                                                   np.float32(3.0)),
                       3.0 * arrays[0].nbytes, units.BYTES_PER_S,
                       f"a = b + s*c, 3 x {units.format_quantity(arrays[0].nbytes, units.BYTES, binary=True)}"
                       ", counted as STREAM does (no write-allocate)")


def _gather(name: str, table_bytes: int, gather_rows: int, detail: str,
            row_bytes: int = GATHER_ROW_BYTES, fresh: bool = False) -> Probe:
    """Random rows of ``row_bytes`` from a table of ``table_bytes``, pooled by the project's
    embedding-bag kernel in bags of ``GATHER_POOLING``; as many bytes per call as
    ``gather_rows`` rows of GATHER_ROW_BYTES. ``fresh``: each call reads other rows
    (``input_sets`` of them in turn), so that none is still cached from an earlier call.

    The bag kernel, not a bare gather loop, because the model charges what the kernel pays
    per row (index checks, a pooled row per bag written): over L2-resident 64 B and 256 B
    rows the kernel took 1.4-1.5x what a bare gather did."""
    import kernels

    dim = row_bytes // 4
    count = max(GATHER_POOLING, gather_rows * GATHER_ROW_BYTES // row_bytes)
    table = _floats(table_bytes // 4).reshape(-1, dim)
    rng = np.random.default_rng(7)
    sets = input_sets(count * row_bytes) if fresh else 1
    offsets = np.arange(0, count, GATHER_POOLING, dtype=np.int64)
    runs = [functools.partial(kernels.embedding_bag, table,
                              rng.integers(0, table.shape[0], count, dtype=np.int64), offsets)
            for _ in range(sets)]
    cycled = f", {sets} sets of rows in turn" if sets > 1 else ""
    return _rate_probe(name, cycling(runs), float(count * row_bytes), units.BYTES_PER_S,
                       f"{detail}: {count} random {row_bytes} B rows of a "
                       f"{units.format_quantity(table.nbytes, units.BYTES, binary=True)} "
                       f"table in bags of {GATHER_POOLING}{cycled}")


def _tiny_calls() -> list[Callable[[], object]]:
    """One call of each kernel kind the model times, on the smallest useful input: a
    graph is a sequence of different kernels, each with its own wrapper checks and
    parallel region, so the fixed cost per op is their mean, not one kernel's."""
    import kernels

    row = _floats(16).reshape(1, 16)
    vector = _floats(16)
    table = _floats(16 * 16).reshape(16, 16)
    first = np.zeros(1, dtype=np.int64)
    cache = _floats(16).reshape(1, 1, 1, 16)
    return [lambda: kernels.linear(row, table),
            lambda: kernels.embedding_bag(table, first, first),
            lambda: kernels.attention_decode(row.reshape(1, 1, 16), cache, cache, first + 1),
            lambda: kernels.rms_norm(row, vector),
            lambda: kernels.layer_norm(row, vector, vector),
            lambda: kernels.softmax(row),
            lambda: kernels.gelu(row),
            lambda: kernels.dot_interaction(row, table.reshape(1, 16, 16)),
            lambda: kernels.topk(row, 4)]


def _overhead() -> Probe:
    calls = _tiny_calls()

    def rounds() -> None:
        for _ in range(OVERHEAD_ROUNDS):
            for call in calls:
                call()

    count = OVERHEAD_ROUNDS * len(calls)
    return Probe(rounds, lambda timing: Measurement(
        "overhead", timing.median_s / count, units.SECONDS, timing.spread,
        f"mean of one call each of {len(calls)} kernels (linear, embedding_bag, attention, "
        "norms, softmax, gelu, interaction, top-k) on tiny inputs: wrapper checks, dispatch "
        "and a parallel region"))


def _flushed_overhead(name: str, flush: np.ndarray) -> Probe:
    """A tiny call of each kernel in turn (one per run), each right after reading ``flush``
    (untimed): the fixed cost of a call whose dispatch code and data that traffic evicted.
    The runs time themselves, leaving the stream out; the figure is the mean over the
    kernels of each one's median (its spread the median of theirs)."""
    from kernels.membench import stream_read_sum

    calls = _tiny_calls()
    for call in calls:  # compiled before any sample is taken
        call()
    samples: list[list[float]] = [[] for _ in calls]
    turn = itertools.count()

    def run() -> None:
        index = next(turn) % len(calls)
        stream_read_sum(flush)
        start = time.perf_counter()
        calls[index]()
        samples[index].append(time.perf_counter() - start)

    def result(timing: Timing) -> Measurement:
        medians = [statistics.median(times) for times in samples]
        spreads = [(max(times) - min(times)) / median for times, median in zip(samples, medians)]
        return Measurement(name, statistics.fmean(medians), units.SECONDS,
                           statistics.median(spreads),
                           f"mean of {len(calls)} kernels' tiny calls, each right after "
                           f"reading {flush.nbytes / 2**20:.0f} MiB")
    return Probe(run, result)


def _cold_overhead(hot: Measurement,
                   flushed: Sequence[tuple[float, Measurement]]) -> tuple[Measurement, ...]:
    """The cost of a wholly cold call and the traffic over which the dispatch state is
    evicted, from the warm cost and the costs after each traffic of ``flushed`` (bytes,
    cost): the curve extra(t) = A (1 - exp(-(t / decay)^2)) with the least squared
    error, A from each candidate decay in closed form. Squared, not plain, exponential:
    the dispatch state stays in L3 until the traffic nears its size (on this host the
    extra cost after 2, 4, 8, 16, 32, 64 and 128 MiB: 1.3, 1.4, 2.5, 11, 40, 60 and
    85 us), which an exponential through the two larger ones put at 20 us after 16 MiB.
    No measured extra: a cold call costs what a warm one does."""
    traffic = np.array([t for t, _ in flushed])
    extra = np.array([m.value - hot.value for _, m in flushed])
    decays = np.geomspace(traffic.min() / 4, traffic.max() * 4, 400)
    shares = -np.expm1(-(traffic[None, :] / decays[:, None]) ** 2)
    scales = np.maximum((shares * extra).sum(axis=1) / (shares ** 2).sum(axis=1), 0.0)
    best = int(np.argmin(((scales[:, None] * shares - extra) ** 2).sum(axis=1)))
    spread = max(m.spread for m in (hot, *(m for _, m in flushed)))
    detail = (f"{hot.name} {hot.value * 1e6:.1f} us, "
              + ", ".join(f"{m.name} {m.value * 1e6:.1f} us" for _, m in flushed)
              + ": A (1 - exp(-(traffic / decay)^2)) through the extra costs (least squares)")
    return (Measurement("cold_overhead", hot.value + float(scales[best]), units.SECONDS,
                        spread, detail),
            Measurement("cold_overhead_traffic", float(decays[best]), units.BYTES, spread,
                        detail))


def _l3_bytes(system: SystemInfo) -> int:
    l3 = system.cache(3)
    return l3.size_bytes if l3 else 8 * 2**20


def _dram_buffer_bytes(scale: Scale, l3_bytes: int) -> int:
    """A buffer far larger than the last-level cache, so reads come from DRAM."""
    return max(scale.dram_buffer_bytes, scale.l3_multiple * l3_bytes)


def _dram_read(scale: Scale, threads: int) -> Probe:
    """Calibration's DRAM read microbenchmark, as drift and validation re-measure it."""
    return _read("dram_read", _dram_buffer_bytes(scale, _l3_bytes(system_info())), threads,
                 "beyond L3")


@dataclass(frozen=True)
class Drift:
    """How fast the host runs now against its chip file: current / calibrated, per ceiling."""

    gemm: float
    vector: float
    transcendental: float
    dram_read: float
    overhead: float


def drift(chips: Sequence, scale: Scale = Scale()) -> list[Drift]:
    """Re-measure five calibration microbenchmarks (GEMM, FMA, exp, DRAM read, the warm cost
    of a tiny kernel call) once and compare them with the figures in each of ``chips``
    (calibrated host files, one per host state), as speeds: for the GEMM its predicted time
    from peak and per-output cost over the measured one, for the call its calibrated cost
    over the measured one. A shared machine's speed wanders by tens of percent within
    minutes; validation reports this beside its errors, and never uses it to adjust a
    prediction."""
    import numba

    threads = numba.get_num_threads()
    size = scale.gemm_sizes[0]
    gemm, vector, exp, dram, overhead = _measure(
        [_gemm("gemm_0", size, size), _vector(threads), _special("transcendental", threads),
         _dram_read(scale, threads), _overhead()], scale.drift_rounds)
    flops = 2.0 * size**3

    def against(chip) -> Drift:
        predicted_s = flops / chip.peak_flops_per_s("fp32") + size * size * chip.dot_overhead_s
        return Drift(predicted_s / (flops / gemm.value),
                     vector.value / chip.vector_flops_per_s,
                     exp.value / chip.transcendental_per_s,
                     dram.value / chip.main_memory.bandwidth_bytes_per_s,
                     chip.op_overhead_s / overhead.value)
    return [against(chip) for chip in chips]


def dram_speed(chip, scale: Scale = Scale()) -> Callable[[], float]:
    """A function that reads the DRAM microbenchmark's buffer once and returns the rate over
    ``chip``'s DRAM bandwidth (``drift``'s dram_read from one read): validation calls it
    between its rounds to tell those that ran on the host as calibrated."""
    import numba

    probe = _dram_read(scale, numba.get_num_threads())
    probe.run()  # pages touched, code compiled

    def speed() -> float:
        start = time.perf_counter()
        probe.run()
        seconds = time.perf_counter() - start
        rate = probe.result(Timing.of([seconds])).value
        return rate / chip.main_memory.bandwidth_bytes_per_s
    return speed


def _timings(probes: list[Probe], rounds: int,
             on_round: Callable[[int], None] = lambda index: None) -> list[Timing]:
    """Time the probes together, rounds interleaved (see ``benches.timing``)."""
    return measure_interleaved([probe.run for probe in probes], rounds, on_round=on_round,
                               rewarm=REWARM_CALLS, rewarm_s=REWARM_S)


def _measure(probes: list[Probe], rounds: int) -> list[Measurement]:
    """The probes' figures over all ``rounds`` interleaved rounds."""
    return [probe.result(timing) for probe, timing in zip(probes, _timings(probes, rounds))]


@dataclass(frozen=True)
class _Plan:
    """What calibration measures on this host: its microbenchmarks in order (each set up
    only when its step runs) and the sizes the derived figures need."""

    system: SystemInfo
    threads: int
    gemm_size: int  # the GEMMs whose line gives the peak and cost per output
    l3_bytes: int
    stream_rows: int
    cached_rows: int  # weight rows of the L2-resident GEMV
    retained_rows: tuple[int, ...]  # weight rows of the GEMVs STREAM_L3_MULTIPLES x L3
    row_probe_rows: int
    cold_flush_floats: int
    attention: ops.AttentionDecode  # the streamed decode attention probe's op
    steps: tuple[tuple[str, Callable[[], Probe]], ...]


def _plan(scale: Scale) -> _Plan:
    import numba

    system = system_info()
    threads = numba.get_num_threads()
    l2 = system.cache(2)
    l2_bytes = (l2.size_bytes if l2 else 256 * 2**10) * threads
    l3_bytes = _l3_bytes(system)
    dram = _dram_buffer_bytes(scale, l3_bytes)
    stream_rows = _weight_rows(dram // 4)
    cached_rows = _weight_rows(l2_bytes // 2)
    retained_rows = tuple(_weight_rows(multiple * l3_bytes) for multiple in STREAM_L3_MULTIPLES)
    attention = _attention_op(l3_bytes)
    l3_resident = l3_bytes // 8  # a table random reads keep in L3 (see l3_span_gather)
    row_probe_rows = max(8, min(l3_bytes, scale.dram_buffer_bytes) // (16 * ROW_PROBE_COLS))
    cold_flush_floats = int(min(l3_bytes, dram // max(COLD_FLUSH_L3_MULTIPLES)) // 4)
    flush = functools.cache(
        lambda: _floats(int(cold_flush_floats * max(COLD_FLUSH_L3_MULTIPLES))))
    stream_weights, cached_weights, *retained_weights = (
        functools.cache(lambda rows=rows: _floats(rows * STREAM_GEMM_K).reshape(rows, -1))
        for rows in (stream_rows, cached_rows, *retained_rows))
    steps = (
        *((f"gemm {size}", lambda i=i, size=size: _gemm(f"gemm_{i}", size, size))
          for i, size in enumerate(scale.gemm_sizes)),
        *((f"gemm k{k}", lambda k=k: _gemm(f"gemm_k{k}", scale.gemm_sizes[0], k))
          for k in SHORT_KS),
        *((f"{name.replace('_', ' ')}", lambda name=name, rows=rows, weights=weights, where=where:
           _decode_gemm(name, rows, weights(), where))
          for name, rows, weights, where in (
              ("gemm_stream", STREAM_GEMM_ROWS, stream_weights, "streamed from DRAM"),
              ("gemv_stream", STREAM_GEMV_ROWS, stream_weights, "streamed from DRAM"),
              ("gemv_l2", STREAM_GEMV_ROWS, cached_weights, "in L2 (half of it per thread)"),
              *((name, STREAM_GEMV_ROWS, weights,
                 f"{multiple} x L3, a share kept in L3 between calls")
                for name, weights, multiple in zip(("gemv_l3_stream", "gemv_l3_far"),
                                                   retained_weights, STREAM_L3_MULTIPLES)))),
        ("attention stream", lambda: _attention_stream(attention)),
        ("row softmax", lambda: _row_softmax(row_probe_rows)),
        ("vector", lambda: _vector(threads)),
        ("transcendental", lambda: _special("transcendental", threads)),
        ("reciprocal", lambda: _special("reciprocal", threads)),
        ("sigmoid", lambda: _special("sigmoid", threads)),
        ("L2 read", lambda: _read("l2_read", l2_bytes // 2, threads, "half of L2 per thread")),
        ("L3 read", lambda: _read("l3_read", l3_bytes // 2, threads, "half of L3")),
        ("DRAM read", lambda: _dram_read(scale, threads)),
        ("DRAM triad", lambda: _triad(dram)),
        ("L2 copy", lambda: _copy("l2_copy", l2_bytes // 2, threads, "half of L2 per thread")),
        ("L3 copy", lambda: _copy("l3_copy", l3_bytes // 2, threads, "half of L3")),
        ("DRAM copy", lambda: _copy("dram_copy", dram, threads, "beyond L3")),
        ("L2 gather", lambda: _gather("l2_gather", l2_bytes // 2, scale.gather_rows,
                                      "L2-resident")),
        ("L3 gather", lambda: _gather("l3_gather", l3_resident, scale.gather_rows,
                                      "L3-resident")),
        ("L3-sized gather", lambda: _gather("l3_span_gather", l3_bytes, scale.gather_rows,
                                            "as large as L3", fresh=True)),
        ("DRAM gather", lambda: _gather("dram_gather", 2 * dram, scale.gather_rows, "DRAM",
                                        fresh=True)),
        *((f"{level} wide gather",
           lambda level=level, table=table: _gather(
               f"{level.lower()}_gather_wide", table, scale.gather_rows,
               f"{level}-resident" if level != "DRAM" else "DRAM", WIDE_GATHER_ROW_BYTES,
               fresh=level == "DRAM"))
          for level, table in (("L2", l2_bytes // 2), ("L3", l3_resident), ("DRAM", 2 * dram))),
        ("top-k", _topk),
        ("overhead", _overhead),
        *((f"overhead after {multiple} x L3",
           lambda multiple=multiple: _flushed_overhead(
               f"overhead_flushed_{multiple:g}x", flush()[:int(cold_flush_floats * multiple)]))
          for multiple in COLD_FLUSH_L3_MULTIPLES),
    )
    return _Plan(system, threads, scale.gemm_sizes[0], l3_bytes, stream_rows, cached_rows,
                 retained_rows, row_probe_rows, cold_flush_floats, attention, steps)


def calibration_steps(scale: Scale = Scale()) -> int:
    """How many times ``calibrate`` calls ``on_step``: once per microbenchmark set up, once
    per round."""
    return len(_plan(scale).steps) + scale.rounds


def calibrate(on_step: Callable[[str], None] = lambda name: None,
              scale: Scale = Scale()) -> list[Calibration]:
    """Set up every microbenchmark, then time them all with interleaved rounds, so that each
    figure is the median over the whole run; ``on_step`` is told the name of each
    microbenchmark as it is set up, then "round i" after each round
    (``calibration_steps(scale)`` calls).

    The GEMM measurements are named gemm_0, gemm_1, ... in the order of ``scale.gemm_sizes``,
    then gemm_k<k> for SHORT_KS; matrix_peak and dot_overhead, fitted from gemm_0 and those,
    element_overhead, from gemv_l2 against them and the overhead, matrix_overlap and
    matvec_overlap, from gemm_stream and gemv_stream against all three and dram_read,
    attention_overlap, from attention_stream against them, dram_read and the overhead,
    l3_stream_kept and l3_stream_capacity, from gemv_l3_stream and gemv_l3_far against
    them and dram_read, row_overlap, from
    row_softmax, reciprocal_overlap, from the special probes, selection, from topk and the
    overhead, l3_gather_capacity, from the gathers, and cold_overhead and
    cold_overhead_traffic, from the overheads, come last (derived, not probes).

    One calibration per host state the rounds ran in (``benches.timing.host_states``, told
    by each round's DRAM read; the commonest first, any other only with at least
    MIN_KEPT_ROUNDS rounds), every figure the median over that state's rounds, so that each
    describes one host; validation compares each case with the state its rounds ran in.
    The exceptions are the flushed overheads (and so the cold overhead): they time
    their own calls, the untimed re-warming ones included, and span all rounds.
    """
    plan = _plan(scale)
    probes = []
    for name, step in plan.steps:
        on_step(name)
        probes.append(step())
    timings = _timings(probes, scale.rounds, on_round=lambda index: on_step(f"round {index + 1}"))
    dram = timings[[name for name, _ in plan.steps].index("DRAM read")]
    states = host_states([1.0 / seconds for seconds in dram.samples])
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    calibrations = []
    for number, keep in enumerate(states, start=1):
        kept = [kept_rounds(timing, keep) for timing in timings]
        calibrations.append(Calibration(plan.system, plan.threads, date,
                                        _figures(plan, probes, kept), scale.rounds,
                                        kept[0].rounds, number, len(states)))
    return calibrations


def _figures(plan: _Plan, probes: list[Probe], timings: list[Timing]) -> tuple[Measurement, ...]:
    """Every probe's figure from its timing, then the figures derived from them."""
    measurements = [probe.result(timing) for probe, timing in zip(probes, timings)]
    by_name = {m.name: m for m in measurements}
    timing = {m.name: t for m, t in zip(measurements, timings)}
    size = plan.gemm_size
    peak, per_output = _matrix_fit([(size, by_name["gemm_0"]),
                                    *((k, by_name[f"gemm_k{k}"]) for k in SHORT_KS)])
    dram_bytes = by_name["dram_read"].value * timing["dram_read"].median_s  # read per call
    per_element = _element_overhead(by_name["gemv_l2"], plan.cached_rows, peak, per_output,
                                    by_name["overhead"])
    overlaps = tuple(
        _matrix_overlap(name, probe, timing[probe], timing["dram_read"], dram_bytes, rows,
                        plan.stream_rows, peak, per_output, per_element)
        for name, probe, rows in (("matrix_overlap", "gemm_stream", STREAM_GEMM_ROWS),
                                  ("matvec_overlap", "gemv_stream", STREAM_GEMV_ROWS)))
    model = {m.name: m for m in (peak, per_output, per_element, *overlaps, by_name["overhead"])}
    attention = _attention_overlap(plan.attention, timing["attention_stream"],
                                   timing["dram_read"], dram_bytes, {**by_name, **model})
    reciprocal = by_name["reciprocal_overlap"] = _reciprocal_overlap(by_name)
    measurements += (peak, per_output, per_element, *overlaps, attention,
                     *_stream_retention([timing["gemv_l3_stream"], timing["gemv_l3_far"]],
                                        plan.retained_rows, timing["dram_read"], dram_bytes,
                                        model),
                     _row_overlap(by_name["row_softmax"], plan.row_probe_rows, by_name),
                     reciprocal, _selection(by_name["topk"], by_name["overhead"]),
                     _gather_capacity(plan.l3_bytes, *(by_name[f"{level}_gather"]
                                                       for level in ("l3", "l3_span", "dram"))),
                     *_cold_overhead(by_name["overhead"], [
                         (4.0 * int(plan.cold_flush_floats * multiple),
                          by_name[f"overhead_flushed_{multiple:g}x"])
                         for multiple in COLD_FLUSH_L3_MULTIPLES]))
    return tuple(measurements)
