"""Validate the model on the host: run kernels at shapes calibration never saw, predict each
with the same op IR and the calibrated host chip, and report predicted vs measured.

Disjointness rule: calibration runs the public kernels only at the shapes listed in
`calibrate.CALIBRATION_SHAPES` (square GEMMs of `GEMM_SIZES`, the first of them with the
short inner dimensions `SHORT_KS`, the decode GEMMs of `STREAM_GEMM_ROWS` and
`STREAM_GEMV_ROWS` rows x `STREAM_GEMM_K` (weights streamed, in L2, two and three times
the L3), embedding bags pooling `GATHER_POOLING` rows, softmax rows of `ROW_PROBE_COLS`, a
top-k of `SELECTION_SHAPE`, decode attention of `ATTENTION_HEADS` (batch and heads))
besides its memory microbenchmarks (`kernels.membench`); no
validation case has any of those shapes, row lengths or poolings (tests check). Nothing
measured here is written back anywhere: the chip file is read, never changed. Cases with
embedding lookups cycle through several sets of indices (`benches.timing.input_sets`), so
that a call's rows are not in cache from the calls before it, as a new batch's would not be.
"""

from __future__ import annotations

import functools
import statistics
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from benches.timing import (HOST_TOLERANCE, MIN_KEPT_ROUNDS, REWARM_CALLS, REWARM_S, cycling,
                            input_sets, kept_rounds, measure_interleaved)
from perfmodel import ops
from perfmodel.chip import Chip
from perfmodel.roofline import time_graph
from workloads.config import load_workload
from workloads.graphs import graph
from workloads.runnable.inputs import prompts, zipf_indices

Runner = Callable[[], object]


@dataclass(frozen=True)
class Case:
    """One validation case: ``prepare()`` allocates inputs and returns what to run and the
    op graph that predicts it. ``key`` identifies the shape for the disjointness check."""

    group: str  # "kernel" or "workload"
    kind: str   # op kind (kernel cases) or workload name
    name: str
    key: tuple
    prepare: Callable[[], tuple[Runner, Sequence[ops.Node]]]


@dataclass(frozen=True)
class CaseResult:
    group: str
    kind: str
    name: str
    predicted_s: float
    measured_s: float
    spread: float
    bound: str
    rounds: int = 0  # rounds the measured median is over

    @property
    def ratio(self) -> float:
        """Predicted over measured."""
        return self.predicted_s / self.measured_s

    @property
    def error(self) -> float:
        """Signed relative error of the prediction: + means predicted slower than measured."""
        return self.ratio - 1.0


@dataclass(frozen=True)
class Summary:
    group: str
    kind: str
    cases: int
    median_abs_error: float
    max_abs_error: float
    within_10: float
    within_20: float
    within_50: float


def _rng(*seed: int) -> np.random.Generator:
    return np.random.default_rng(list(seed))


def _floats(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape, dtype=np.float32)


def _gemm(m: int, n: int, k: int) -> Case:
    def prepare():
        import kernels
        rng = _rng(m, n, k)
        x, w = _floats(rng, m, k), _floats(rng, n, k)
        return (lambda: kernels.linear(x, w)), [ops.Node(ops.Gemm(m, n, k, dtype="fp32"))]
    return Case("kernel", "gemm", f"linear {m}x{k} @ [{n},{k}]", ("gemm", m, n, k), prepare)


def _gathered_bytes(nodes: Sequence[ops.Node]) -> float:
    """Bytes of random row reads (embedding lookups) in one run of a graph."""
    return sum(operand.bytes * node.count for node in nodes
               for operand in node.op.operands() if operand.is_gather)


def _embedding_bag(rows: int, dim: int, bags: int, pooling: int, zipf_s: float) -> Case:
    def prepare():
        import kernels
        rng = _rng(rows, dim, bags, pooling)
        table = _floats(rng, rows, dim)
        offsets = np.arange(bags, dtype=np.int64) * pooling
        nodes = [ops.Node(ops.EmbeddingBag(rows, dim, bags, pooling, dtype="fp32",
                                           zipf_s=zipf_s))]
        runs = [functools.partial(kernels.embedding_bag, table,
                                  zipf_indices(rng, rows, bags * pooling, zipf_s), offsets)
                for _ in range(input_sets(_gathered_bytes(nodes)))]
        return cycling(runs), nodes
    name = f"{rows:,} x {dim} table, {bags} bags x {pooling}, zipf {zipf_s:g}"
    return Case("kernel", "embedding_bag", name, ("bag", rows, dim, bags, pooling, zipf_s),
                prepare)


def _attention_decode(batch: int, context: int, heads: int, kv_heads: int, head_dim: int) -> Case:
    def prepare():
        import kernels
        rng = _rng(batch, context, heads, kv_heads, head_dim)
        q = _floats(rng, batch, heads, head_dim)
        k_cache = _floats(rng, batch, context, kv_heads, head_dim)
        v_cache = _floats(rng, batch, context, kv_heads, head_dim)
        lengths = np.full(batch, context, dtype=np.int64)
        op = ops.AttentionDecode(batch, context, heads, kv_heads, head_dim, dtype="fp32")
        return (lambda: kernels.attention_decode(q, k_cache, v_cache, lengths)), [ops.Node(op)]
    return Case("kernel", "attention_decode",
                f"b{batch} ctx{context} h{heads}/kv{kv_heads} d{head_dim}",
                ("decode", batch, context, heads, kv_heads, head_dim), prepare)


def _attention_prefill(batch: int, seq: int, heads: int, kv_heads: int, head_dim: int) -> Case:
    def prepare():
        import kernels
        rng = _rng(batch, seq, heads, kv_heads, head_dim)
        q = _floats(rng, batch, seq, heads, head_dim)
        k = _floats(rng, batch, seq, kv_heads, head_dim)
        v = _floats(rng, batch, seq, kv_heads, head_dim)
        op = ops.AttentionPrefill(batch, seq, heads, kv_heads, head_dim, dtype="fp32")
        return (lambda: kernels.attention_prefill(q, k, v)), [ops.Node(op)]
    return Case("kernel", "attention_prefill", f"b{batch} seq{seq} h{heads}/kv{kv_heads} d{head_dim}",
                ("prefill", batch, seq, heads, kv_heads, head_dim), prepare)


def _norm(kind: str, rows: int, dim: int) -> Case:
    def prepare():
        import kernels
        rng = _rng(rows, dim)
        x, weight, bias = _floats(rng, rows, dim), _floats(rng, dim), _floats(rng, dim)
        out = np.empty_like(x)
        run = ((lambda: kernels.rms_norm(x, weight, out=out)) if kind == "rms"
               else (lambda: kernels.layer_norm(x, weight, bias, out=out)))
        return run, [ops.Node(ops.Norm(rows, dim, norm=kind, dtype="fp32"))]
    return Case("kernel", "norm", f"{kind}_norm {rows} x {dim}", ("norm", kind, rows, dim),
                prepare)


def _activation(function: str, elements: int) -> Case:
    def prepare():
        import kernels
        x = _floats(_rng(elements), elements)
        out = np.empty_like(x)
        kernel = getattr(kernels, function)
        return ((lambda: kernel(x, out=out)),
                [ops.Node(ops.Elementwise(elements, function, dtype="fp32"))])
    return Case("kernel", "elementwise", f"{function} {elements:,}", ("act", function, elements),
                prepare)


def _softmax(rows: int, cols: int) -> Case:
    def prepare():
        import kernels
        x = _floats(_rng(rows, cols), rows, cols)
        out = np.empty_like(x)
        return (lambda: kernels.softmax(x, out=out)), [ops.Node(ops.Softmax(rows, cols))]
    return Case("kernel", "softmax", f"softmax {rows} x {cols}", ("softmax", rows, cols), prepare)


def _dot_interaction(batch: int, features: int, dim: int) -> Case:
    def prepare():
        import kernels
        rng = _rng(batch, features, dim)
        dense, sparse = _floats(rng, batch, dim), _floats(rng, batch, features - 1, dim)
        op = ops.DotInteraction(batch, features, dim, dtype="fp32")
        return (lambda: kernels.dot_interaction(dense, sparse)), [ops.Node(op)]
    return Case("kernel", "interaction", f"dot b{batch} f{features} d{dim}",
                ("dot", batch, features, dim), prepare)


def _dcn_cross(batch: int, dim: int, rank: int) -> Case:
    def prepare():
        import kernels
        rng = _rng(batch, dim, rank)
        x0, x = _floats(rng, batch, dim), _floats(rng, batch, dim)
        u, v, bias = _floats(rng, dim, rank), _floats(rng, rank, dim), _floats(rng, dim)
        op = ops.CrossLayer(batch, dim, rank, dtype="fp32")
        return (lambda: kernels.dcn_cross(x0, x, u, v, bias)), [ops.Node(op)]
    return Case("kernel", "interaction", f"dcn b{batch} d{dim} r{rank}",
                ("dcn", batch, dim, rank), prepare)


def kernel_cases(quick: bool = False) -> list[Case]:
    """Every op kind the kernels implement, at shapes calibration never used."""
    cases = [
        _gemm(384, 1024, 768), _gemm(2000, 512, 384), _gemm(1, 4096, 3072), _gemm(8, 2048, 6144),
        _embedding_bag(2_000_000, 32, 2048, 24, 0.0), _embedding_bag(1_000_000, 64, 1024, 40, 1.05),
        _attention_decode(8, 700, 32, 8, 128), _attention_decode(4, 1500, 16, 4, 64),
        _attention_prefill(1, 384, 8, 2, 64),
        _norm("rms", 6000, 3000), _norm("layer", 1000, 768),
        _activation("gelu", 12_000_000), _activation("silu", 3_000_000),
        _softmax(4096, 2000),
        _dot_interaction(2048, 27, 64), _dcn_cross(1024, 832, 128),
    ]
    if quick:
        return cases
    return cases + [
        _gemm(96, 2048, 1280), _gemm(700, 700, 1800), _gemm(4, 3072, 4096), _gemm(1, 1000, 1000),
        _embedding_bag(20_000, 64, 2048, 30, 0.0), _embedding_bag(4_000_000, 16, 4096, 12, 0.0),
        _embedding_bag(300_000, 128, 512, 20, 1.2),
        _attention_decode(2, 4000, 8, 8, 128), _attention_decode(16, 256, 8, 2, 64),
        _attention_prefill(2, 768, 12, 4, 64),
        _norm("rms", 64, 4096), _norm("layer", 20000, 1024),
        _activation("relu", 20_000_000), _activation("gelu", 500_000),
        _softmax(256, 32000),
        _dot_interaction(512, 9, 32), _dcn_cross(4096, 256, 64),
    ]


def matched_rounds(speeds: Sequence[float]) -> list[bool]:
    """Whether each round ran on the host as calibrated: the host speeds read before it and
    after it (``speeds[i]``, ``speeds[i + 1]``) both within HOST_TOLERANCE of 1."""
    near = [abs(speed - 1.0) <= HOST_TOLERANCE for speed in speeds]
    return [before and after for before, after in zip(near, near[1:])]


MAX_ROUNDS_FACTOR = 3
"""While fewer than MIN_KEPT_ROUNDS rounds ran on the host as calibrated, validation runs
more rounds, up to this many times those asked for."""


@dataclass(frozen=True)
class Validation:
    """The results, which of the chips given (one per calibrated host state) they were
    predicted with and compared against, and the host speeds read before the first round
    and after each (DRAM reads over the first chip's)."""

    chip_index: int
    results: list[CaseResult]
    speeds: list[float]


def speeds_against(speeds: Sequence[float], chips: Sequence[Chip], chip: Chip) -> list[float]:
    """DRAM reads over the first of ``chips``' DRAM bandwidth as reads over ``chip``'s."""
    scale = chips[0].main_memory.bandwidth_bytes_per_s / chip.main_memory.bandwidth_bytes_per_s
    return [speed * scale for speed in speeds]


def state_rounds(speeds: Sequence[float], chips: Sequence[Chip]) -> list[list[bool]]:
    """``matched_rounds`` for each chip, ``speeds`` being DRAM reads over the first chip's."""
    return [matched_rounds(speeds_against(speeds, chips, chip)) for chip in chips]


def run_cases(cases: Sequence[Case], chips: Sequence[Chip], rounds: int,
              on_progress: Callable[[str], None] = lambda label: None,
              host_speed: Callable[[], float] = lambda: 1.0) -> Validation:
    """Prepare every case, measure them all with interleaved rounds and predict each with
    the chip of the host state the rounds ran in. ``chips``: the calibrated host's chip
    files, one per state it was calibrated in (the commonest first). ``on_progress`` is
    told each prepared case's name, then each finished round.

    ``host_speed()`` (the host's DRAM read over the first chip file's; by default always 1)
    is read before the first round and after each: a host that changes speed in the
    middle (this one moves its two CPUs between one core complex and two, and DRAM reads
    between about 36 and 60 GB/s) is not the host a chip file describes. The chip used is
    the one whose state most rounds ran in (``matched_rounds``: began and ended within
    HOST_TOLERANCE of its DRAM read), and each measured time the median of those rounds;
    while fewer than MIN_KEPT_ROUNDS ran in any state, more rounds run, up to
    MAX_ROUNDS_FACTOR times ``rounds``, and if still too few did, the first chip is used
    and the median is of all rounds. Each result says how many rounds its median is over."""
    prepared = []
    for case in cases:
        prepared.append(case.prepare())
        on_progress(case.name)
    speeds = [host_speed()]

    def after_round(index: int) -> None:
        speeds.append(host_speed())
        on_progress(f"round {index + 1}")

    def most_matched() -> int:
        return max(sum(keep) for keep in state_rounds(speeds, chips))

    timings = measure_interleaved(
        [run for run, _ in prepared], rounds, on_round=after_round, rewarm=REWARM_CALLS,
        rewarm_s=REWARM_S, more=lambda: most_matched() < MIN_KEPT_ROUNDS,
        max_rounds=MAX_ROUNDS_FACTOR * rounds)
    matched = state_rounds(speeds, chips)
    index = max(range(len(chips)), key=lambda i: (sum(matched[i]), -i))
    if sum(matched[index]) < MIN_KEPT_ROUNDS:
        index = 0
    results = []
    for case, (_, nodes), timing in zip(cases, prepared, timings):
        kept = kept_rounds(timing, matched[index])
        graph = time_graph(nodes, chips[index])
        results.append(CaseResult(case.group, case.kind, case.name, float(graph.total_s),
                                  kept.median_s, kept.spread, graph.bound, kept.rounds))
    return Validation(index, results, speeds)


def summarize(results: Sequence[CaseResult]) -> list[Summary]:
    """Median and max |error| and the share within 10/20/50%, per group and kind."""
    groups: dict[tuple[str, str], list[float]] = {}
    for result in results:
        groups.setdefault((result.group, result.kind), []).append(abs(result.error))
    return [Summary(group, kind, len(errors), statistics.median(errors), max(errors),
                    *(sum(e <= limit for e in errors) / len(errors) for limit in (0.1, 0.2, 0.5)))
            for (group, kind), errors in groups.items()]


def _scoring(workload: str, batch: int) -> Case:
    """One scoring batch of a small recommendation preset, predicted by its fp32 graph; each
    call scores another batch of features (``input_sets``), as serving does."""
    def prepare():
        from workloads.runnable import backend, build
        config = load_workload(workload)
        model = build(config, seed=batch)
        nodes = graph(config, batch, "fp32")
        rng, ops_ = _rng(batch), backend("kernels")
        return cycling([functools.partial(model.forward, ops_, model.inputs(batch, rng))
                        for _ in range(input_sets(_gathered_bytes(nodes)))]), nodes
    return Case("workload", workload, f"{workload} batch {batch}", ("score", workload, batch),
                prepare)


def _decoder_and_prompts(workload: str, batch: int, length: int):
    """A small decoder preset built with the kernels, and ``batch`` random prompts."""
    from workloads.runnable import backend, build
    config = load_workload(workload)
    drawn = prompts(_rng(batch, length), batch, length, config.vocab)
    return config, build(config, seed=length), backend("kernels"), drawn


def _prefill(workload: str, batch: int, prompt: int) -> Case:
    """Prefill of ``batch`` prompts up to the first token (greedy)."""
    def prepare():
        config, model, ops_, prompts = _decoder_and_prompts(workload, batch, prompt)
        return ((lambda: ops_.greedy(model.prefill(ops_, prompts)[0])),
                graph(config, batch, "fp32", prompt=prompt))
    return Case("workload", f"{workload} prefill", f"{workload} prefill b{batch} x {prompt}",
                ("prefill", workload, batch, prompt), prepare)


def _decode(workload: str, batch: int, context: int) -> Case:
    """One decode step (and its greedy token) of ``batch`` sequences at ``context`` tokens."""
    def prepare():
        config, model, ops_, prompts = _decoder_and_prompts(workload, batch, context)
        _, cache = model.prefill(ops_, prompts, context + 1)
        tokens = prompts[:, -1].copy()

        def step():
            cache.length = context  # every repeat appends the same token at the same place
            return ops_.greedy(model.decode(ops_, tokens, cache))
        return step, graph(config, batch, "fp32", context=context)
    return Case("workload", f"{workload} decode", f"{workload} decode b{batch} ctx {context}",
                ("decode", workload, batch, context), prepare)


def workload_cases(quick: bool = False) -> list[Case]:
    """The runnable small presets end to end: scoring batches, prefill, decode steps."""
    cases = [_scoring("dlrm-dcnv2-small", 2048), _scoring("two-tower-small", 4 * 65536),
             _prefill("llama-tiny", 1, 512), _decode("llama-tiny", 8, 1000),
             _decode("mixtral-tiny", 4, 700)]
    if quick:
        return cases
    return cases + [_scoring("dlrm-rm2-small", 512), _scoring("dlrm-dcnv2-small", 256),
                    _prefill("llama-tiny", 4, 128), _prefill("mixtral-tiny", 2, 256),
                    _decode("llama-tiny", 1, 1800), _decode("mixtral-tiny", 16, 200)]


def all_cases(quick: bool = False) -> list[Case]:
    """Kernel cases, then whole-workload cases."""
    return kernel_cases(quick) + workload_cases(quick)
