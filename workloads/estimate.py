"""Latency, throughput and memory fit of one workload on one chip (pure; no click).

Recommendation (``batch`` samples = user-item pairs, scored in one pass):
    batch_latency_s = time of the batch graph
    latency_s       = batch_latency_s x ceil(candidates / batch)   (a request's candidates
                      may need several batches when batch < candidates)
    throughput      = batch / batch_latency_s samples/s;  requests/s = that / candidates

Generation (a static batch of ``batch`` requests, each ``prompt`` tokens in and
``output`` tokens out): the prefill produces the first token, then output - 1 decode
steps produce the rest; the step that produces token j + 1 attends to prompt + j - 1
cached tokens.
    ttft_s     = time of the prefill graph
    tpot_s     = mean decode-step time over the output - 1 steps, evaluated at the middle
                 context of (up to) DECODE_SAMPLES equal slices of the steps, weighted by
                 slice length (exact where step time is linear in context)
    latency_s  = ttft_s + (output - 1) x tpot_s
    throughput = batch x output / latency_s  output tokens/s of the whole batch, prefill
                 included; decode_tokens_per_s = batch / tpot_s is the decode-only rate
    requests/s = batch / latency_s

Memory: weights (tables, item matrix) + KV cache (batch x (prompt + output) tokens) + the
largest live activation set of any one op, against the chip's main-memory capacity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from perfmodel.chip import Chip
from perfmodel.errors import SeedchipError
from perfmodel.ops import Node
from perfmodel.roofline import GraphTiming, NodeTiming, time_graph
from workloads.config import LlmConfig, WorkloadConfig
from workloads.graphs import graph, kv_bytes_per_token, peak_activation_bytes, weight_bytes

DECODE_SAMPLES = 4
MAX_BATCH_LIMIT = 2**30


@dataclass(frozen=True)
class Memory:
    weight_bytes: float
    kv_cache_bytes: float
    activation_bytes: float
    capacity_bytes: float

    @property
    def total_bytes(self) -> float:
        return self.weight_bytes + self.kv_cache_bytes + self.activation_bytes

    @property
    def fits(self) -> bool:
        return self.total_bytes <= self.capacity_bytes


@dataclass(frozen=True)
class BreakdownRow:
    """Time, work and traffic of one op kind in one phase, over one whole request."""

    phase: str
    kind: str
    time_s: float
    share: float
    flops: float
    bytes: float
    bound: str


@dataclass(frozen=True)
class Estimate:
    chip: str
    workload: str
    family: str
    dtype: str
    batch: int
    latency_s: float
    throughput_per_s: float
    throughput_unit: str
    requests_per_s: float
    bound: str
    memory: Memory
    breakdown: tuple[BreakdownRow, ...]
    candidates: int | None = None
    batch_latency_s: float | None = None
    prompt: int | None = None
    output: int | None = None
    ttft_s: float | None = None
    tpot_s: float | None = None
    decode_tokens_per_s: float | None = None

    @property
    def fits_in_memory(self) -> bool:
        return self.memory.fits


def estimate(config: WorkloadConfig, chip: Chip, batch: int, dtype: str = "bf16",
             prompt: int | None = None, output: int | None = None) -> Estimate:
    """Estimate one workload on one chip; generation needs ``prompt`` and ``output``."""
    _check_positive("batch", batch)
    if isinstance(config, LlmConfig):
        return _generation(config, chip, batch, dtype, *_tokens(config, prompt, output))
    if prompt is not None or output is not None:
        raise SeedchipError(f"{config.name} is a recommendation model: --prompt and --output "
                            "apply to generation workloads only")
    return _recommendation(config, chip, batch, dtype)


def memory(config: WorkloadConfig, chip: Chip, batch: int, dtype: str = "bf16",
           prompt: int | None = None, output: int | None = None) -> Memory:
    """Footprint of serving ``batch`` at once, and the chip's capacity."""
    if isinstance(config, LlmConfig):
        prompt, output = _tokens(config, prompt, output)
        nodes = graph(config, batch, dtype, prompt=prompt)
        kv = batch * (prompt + output) * kv_bytes_per_token(config, dtype)
    else:
        nodes, kv = graph(config, batch, dtype), 0.0
    return Memory(weight_bytes(config, dtype), kv, peak_activation_bytes(nodes),
                  chip.main_memory.capacity_bytes)


def max_batch(config: WorkloadConfig, chip: Chip, dtype: str = "bf16",
              prompt: int | None = None, output: int | None = None) -> int:
    """The largest batch whose footprint fits the chip's main memory (up to 2^30)."""
    def fits(batch: int) -> bool:
        return memory(config, chip, batch, dtype, prompt, output).fits

    if not fits(1):
        need = memory(config, chip, 1, dtype, prompt, output)
        raise SeedchipError(
            f"--batch max: {config.name} ({dtype}) needs {need.total_bytes / 1e9:.1f} GB at "
            f"batch 1, more than {chip.name}'s {need.capacity_bytes / 1e9:.1f} GB; no batch fits")
    low, high = 1, 2
    while high <= MAX_BATCH_LIMIT and fits(high):
        low, high = high, high * 2
    if high > MAX_BATCH_LIMIT:
        return low
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return low


def _check_positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SeedchipError(f"{name} must be an integer >= 1, got {value!r}")


def _tokens(config: LlmConfig, prompt: int | None, output: int | None) -> tuple[int, int]:
    """Validated prompt and output lengths."""
    if prompt is None or output is None:
        raise SeedchipError(f"{config.name} is a generation model: give --prompt and --output")
    _check_positive("prompt", prompt)
    _check_positive("output", output)
    if prompt + output > config.max_context:
        raise SeedchipError(f"prompt + output = {prompt + output} tokens exceeds {config.name}'s "
                            f"context of {config.max_context}")
    return prompt, output


def _recommendation(config: WorkloadConfig, chip: Chip, batch: int, dtype: str) -> Estimate:
    timing = time_graph(graph(config, batch, dtype), chip)
    batch_s = timing.total_s
    samples_per_s = batch / batch_s
    return Estimate(
        chip=chip.name, workload=config.name, family=config.family, dtype=dtype, batch=batch,
        latency_s=batch_s * math.ceil(config.candidates / batch),
        throughput_per_s=samples_per_s, throughput_unit="samples",
        requests_per_s=samples_per_s / config.candidates, bound=timing.bound,
        memory=memory(config, chip, batch, dtype),
        breakdown=_breakdown([("batch", timing)], batch_s),
        candidates=config.candidates, batch_latency_s=batch_s)


def _generation(config: LlmConfig, chip: Chip, batch: int, dtype: str, prompt: int,
                output: int) -> Estimate:
    prefill = time_graph(graph(config, batch, dtype, prompt=prompt), chip)
    steps = output - 1
    decode = _decode_steps(config, chip, batch, dtype, prompt, steps)
    ttft_s = prefill.total_s
    tpot_s = decode.total_s / steps if steps else _decode_steps(
        config, chip, batch, dtype, prompt, 1).total_s
    latency_s = ttft_s + decode.total_s
    phases = [("prefill", prefill)] + ([("decode", decode)] if steps else [])
    return Estimate(
        chip=chip.name, workload=config.name, family=config.family, dtype=dtype, batch=batch,
        latency_s=latency_s, throughput_per_s=batch * output / latency_s,
        throughput_unit="tokens", requests_per_s=batch / latency_s,
        bound=GraphTiming(prefill.nodes + decode.nodes).bound,
        memory=memory(config, chip, batch, dtype, prompt, output),
        breakdown=_breakdown(phases, latency_s),
        prompt=prompt, output=output, ttft_s=ttft_s, tpot_s=tpot_s,
        decode_tokens_per_s=batch / tpot_s)


def _decode_steps(config: LlmConfig, chip: Chip, batch: int, dtype: str, prompt: int,
                  steps: int) -> GraphTiming:
    """All ``steps`` decode steps as one timing: each of up to DECODE_SAMPLES equal slices of
    the steps is timed at its middle context and repeated over the slice's length."""
    slices = min(DECODE_SAMPLES, steps)
    edges = [round(i * steps / slices) for i in range(slices + 1)] if steps else []
    nodes: list[NodeTiming] = []
    for start, stop in zip(edges, edges[1:]):
        context = prompt + (start + stop - 1) // 2
        step = time_graph(graph(config, batch, dtype, context=context), chip)
        nodes += [NodeTiming(Node(n.node.op, n.node.count * (stop - start), n.node.name),
                             n.timing) for n in step.nodes]
    return GraphTiming(tuple(nodes))


def _breakdown(phases: list[tuple[str, GraphTiming]], total_s: float) -> tuple[BreakdownRow, ...]:
    """Per-kind rows of every phase; shares are of ``total_s`` (one request)."""
    return tuple(BreakdownRow(phase, row.kind.value, row.total_s, row.total_s / total_s,
                              row.flops, row.bytes, row.bound)
                 for phase, timing in phases for row in timing.by_kind())
