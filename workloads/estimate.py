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

Multi-chip: with a `Layout` of more than one chip, times are those of one replica (the
graphs are its critical path, see `workloads.llm` and `workloads.recsys`), throughput is
the replica's, and memory is per chip (each chip's share of the weights, of the KV
cache, and its own activations). `fit_layout` picks the smallest layout that fits.

Cost (`perfmodel.cost`, at full utilisation: the chips are busy running this batch):
$ and J per request, and per output token for generation, for all the replica's chips.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

from perfmodel.chip import Chip
from perfmodel.cost import CostAssumptions, chip_cost, cost_per_unit
from perfmodel.errors import SeedchipError
from perfmodel.ops import Node
from perfmodel.parallel import (SINGLE, Layout, first_layout, generation_layouts,
                                recommendation_layouts)
from perfmodel.roofline import GraphTiming, NodeTiming, time_graph
from perfmodel.serving import (Fleet, GenerationServing, GenerationSlo, RankingServing,
                               RankingSlo, plan_fleet, serve_generation, serve_ranking)
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
    layout: Layout = SINGLE
    usd_per_request: float | None = None
    joules_per_request: float | None = None
    usd_per_mtok: float | None = None
    joules_per_token: float | None = None

    @property
    def fits_in_memory(self) -> bool:
        return self.memory.fits

    @property
    def chips(self) -> int:
        return self.layout.chips


def estimate(config: WorkloadConfig, chip: Chip, batch: int, dtype: str = "bf16",
             prompt: int | None = None, output: int | None = None,
             layout: Layout = SINGLE,
             assumptions: CostAssumptions = CostAssumptions()) -> Estimate:
    """Estimate one workload on one replica of ``layout`` (one chip by default);
    generation needs ``prompt`` and ``output``."""
    _check_positive("batch", batch)
    if isinstance(config, LlmConfig):
        result = _generation(config, chip, batch, dtype, *_tokens(config, prompt, output),
                             layout)
    elif prompt is not None or output is not None:
        raise SeedchipError(f"{config.name} is a recommendation model: --prompt and --output "
                            "apply to generation workloads only")
    else:
        result = _recommendation(config, chip, batch, dtype, layout)
    return _priced(result, chip, assumptions)


def _priced(result: Estimate, chip: Chip, assumptions: CostAssumptions) -> Estimate:
    """The estimate with $ and J per request (and per token) for all its chips."""
    cost = chip_cost(chip, assumptions)
    request = cost_per_unit(cost, result.requests_per_s, result.chips)
    fields = {"usd_per_request": request.usd, "joules_per_request": request.joules}
    if result.family == "generation":
        token = cost_per_unit(cost, result.throughput_per_s, result.chips)
        fields.update(usd_per_mtok=token.usd * 1e6, joules_per_token=token.joules)
    return replace(result, **fields)


def memory(config: WorkloadConfig, chip: Chip, batch: int, dtype: str = "bf16",
           prompt: int | None = None, output: int | None = None,
           layout: Layout = SINGLE) -> Memory:
    """Footprint on one chip of ``layout`` of serving ``batch`` at once, and its capacity.

    Generation: a chip holds the KV cache of its layers for the sequences of its expert
    (data-parallel) shard, ceil(batch / ep) of them.
    """
    if isinstance(config, LlmConfig):
        prompt, output = _tokens(config, prompt, output)
        nodes = graph(config, batch, dtype, prompt=prompt, layout=layout)
        sequences = math.ceil(batch / layout.ep)
        kv = sequences * (prompt + output) * kv_bytes_per_token(config, dtype, layout)
    else:
        nodes, kv = graph(config, batch, dtype, layout=layout), 0.0
    return Memory(weight_bytes(config, dtype, layout), kv, peak_activation_bytes(nodes),
                  chip.main_memory.capacity_bytes)


def fit_layout(config: WorkloadConfig, chip: Chip, dtype: str = "bf16",
               prompt: int | None = None, output: int | None = None,
               batch: int = 1) -> Layout:
    """The smallest layout (`perfmodel.parallel` search order) whose chips hold ``batch``.

    Raises SeedchipError, with the batch-1 footprint on one chip, when none does.
    """
    def fits(layout: Layout) -> bool:
        return memory(config, chip, batch, dtype, prompt, output, layout).fits

    if isinstance(config, LlmConfig):
        candidates = generation_layouts(chip.link.max_chips, config.is_moe)
    else:
        candidates = recommendation_layouts()
    need = memory(config, chip, batch, dtype, prompt, output).total_bytes
    return first_layout(candidates, fits,
                        f"{config.name} ({dtype}, batch {batch}) needs {need / 1e9:.1f} GB on "
                        f"one chip; on {chip.name} ({chip.main_memory.capacity_bytes / 1e9:.0f} "
                        "GB per chip)")


def max_batch(config: WorkloadConfig, chip: Chip, dtype: str = "bf16",
              prompt: int | None = None, output: int | None = None,
              layout: Layout = SINGLE) -> int:
    """The largest batch whose per-chip footprint fits the chips' main memory (up to 2^30)."""
    def fits(batch: int) -> bool:
        return memory(config, chip, batch, dtype, prompt, output, layout).fits

    if not fits(1):
        need = memory(config, chip, 1, dtype, prompt, output, layout)
        where = f"{chip.name}'s" if layout.is_single else f"each {chip.name}'s ({layout.describe()})"
        raise SeedchipError(
            f"--batch max: {config.name} ({dtype}) needs {need.total_bytes / 1e9:.1f} GB per "
            f"chip at batch 1, more than {where} {need.capacity_bytes / 1e9:.1f} GB; no batch fits")
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


def _recommendation(config: WorkloadConfig, chip: Chip, batch: int, dtype: str,
                    layout: Layout) -> Estimate:
    timing = time_graph(graph(config, batch, dtype, layout=layout), chip)
    batch_s = timing.total_s
    samples_per_s = batch / batch_s
    return Estimate(
        chip=chip.name, workload=config.name, family=config.family, dtype=dtype, batch=batch,
        latency_s=batch_s * math.ceil(config.candidates / batch),
        throughput_per_s=samples_per_s, throughput_unit="samples",
        requests_per_s=samples_per_s / config.candidates, bound=timing.bound,
        memory=memory(config, chip, batch, dtype, layout=layout),
        breakdown=_breakdown([("batch", timing)], batch_s),
        candidates=config.candidates, batch_latency_s=batch_s, layout=layout)


def _generation(config: LlmConfig, chip: Chip, batch: int, dtype: str, prompt: int,
                output: int, layout: Layout) -> Estimate:
    prefill = time_graph(graph(config, batch, dtype, prompt=prompt, layout=layout), chip)
    steps = output - 1
    decode = _decode_steps(config, chip, batch, dtype, prompt, steps, layout)
    ttft_s = prefill.total_s
    tpot_s = decode.total_s / steps if steps else _decode_steps(
        config, chip, batch, dtype, prompt, 1, layout).total_s
    latency_s = ttft_s + decode.total_s
    phases = [("prefill", prefill)] + ([("decode", decode)] if steps else [])
    return Estimate(
        chip=chip.name, workload=config.name, family=config.family, dtype=dtype, batch=batch,
        latency_s=latency_s, throughput_per_s=batch * output / latency_s,
        throughput_unit="tokens", requests_per_s=batch / latency_s,
        bound=GraphTiming(prefill.nodes + decode.nodes).bound,
        memory=memory(config, chip, batch, dtype, prompt, output, layout),
        breakdown=_breakdown(phases, latency_s),
        prompt=prompt, output=output, ttft_s=ttft_s, tpot_s=tpot_s,
        decode_tokens_per_s=batch / tpot_s, layout=layout)


def decode_slices(prompt: int, steps: int) -> list[tuple[int, int]]:
    """``steps`` decode steps as up to DECODE_SAMPLES equal slices: (the context at the
    slice's middle step, the slice's length in steps)."""
    slices = min(DECODE_SAMPLES, steps)
    edges = [round(i * steps / slices) for i in range(slices + 1)] if steps else []
    return [(prompt + (start + stop - 1) // 2, stop - start)
            for start, stop in zip(edges, edges[1:])]


def _decode_steps(config: LlmConfig, chip: Chip, batch: int, dtype: str, prompt: int,
                  steps: int, layout: Layout = SINGLE) -> GraphTiming:
    """All ``steps`` decode steps as one timing: each slice of `decode_slices` is timed at
    its middle context and repeated over the slice's length."""
    nodes: list[NodeTiming] = []
    for context, length in decode_slices(prompt, steps):
        step = time_graph(graph(config, batch, dtype, context=context, layout=layout), chip)
        nodes += [NodeTiming(Node(n.node.op, n.node.count * length, n.node.name), n.timing)
                  for n in step.nodes]
    return GraphTiming(tuple(nodes))


def _breakdown(phases: list[tuple[str, GraphTiming]], total_s: float) -> tuple[BreakdownRow, ...]:
    """Per-kind rows of every phase; shares are of ``total_s`` (one request)."""
    return tuple(BreakdownRow(phase, row.kind.value, row.total_s, row.total_s / total_s,
                              row.flops, row.bytes, row.bound)
                 for phase, timing in phases for row in timing.by_kind())


# ---------------------------------------------------------------- serving


@dataclass(frozen=True)
class Served:
    """One replica of a workload on a chip, serving within an SLO, and what a unit costs.

    Units: requests for recommendation, output tokens for generation.
    """

    layout: Layout
    serving: GenerationServing | RankingServing
    bound: str
    unit: str
    units_per_s: float
    capacity_units_per_s: float
    fleet: Fleet

    @property
    def chips(self) -> int:
        return self.layout.chips


def serve(config: WorkloadConfig, chip: Chip, dtype: str = "bf16", prompt: int | None = None,
          output: int | None = None, slo: GenerationSlo | RankingSlo | None = None,
          layout: Layout | None = None,
          assumptions: CostAssumptions = CostAssumptions()) -> Served:
    """Serve with ``layout``, or choose one: the smallest that fits memory at batch 1 and,
    for generation, the same with tp doubled up to the scale-up domain; the layout with
    the lowest $ per unit within the SLO wins (more tensor parallelism frees memory for
    larger batches and shortens prefill)."""
    if layout is not None:
        return _serve_layout(config, chip, dtype, prompt, output, slo, layout, assumptions)
    smallest = fit_layout(config, chip, dtype, prompt, output)
    options, last_error = [], None
    for candidate in _wider(config, chip, smallest):
        try:
            options.append(_serve_layout(config, chip, dtype, prompt, output, slo, candidate,
                                         assumptions))
        except SeedchipError as error:
            last_error = SeedchipError(f"{error} (on {chip.name} {candidate.describe()}, the "
                                       "widest layout tried)")
    if not options:
        raise last_error
    return min(options, key=lambda served: served.fleet.usd_per_unit)


def _wider(config: WorkloadConfig, chip: Chip, layout: Layout) -> list[Layout]:
    """``layout`` and, for generation, its tp doublings within the scale-up domain."""
    result = [layout]
    if isinstance(config, LlmConfig):
        tp = layout.tp * 2
        while tp * layout.ep <= chip.link.max_chips and config.n_heads % tp == 0:
            result.append(replace(layout, tp=tp))
            tp *= 2
    return result


def _serve_layout(config: WorkloadConfig, chip: Chip, dtype: str, prompt: int | None,
                  output: int | None, slo: GenerationSlo | RankingSlo | None, layout: Layout,
                  assumptions: CostAssumptions) -> Served:
    if isinstance(config, LlmConfig):
        prompt, output = _tokens(config, prompt, output)
        memory_batch = max_batch(config, chip, dtype, prompt, output, layout)

        @functools.lru_cache(maxsize=None)
        def prefill_s(batch: int) -> float:
            return time_graph(graph(config, batch, dtype, prompt=prompt, layout=layout),
                              chip).total_s

        @functools.lru_cache(maxsize=None)
        def decode_s(batch: int) -> float:
            """Decode step at the mean context: continuous batching keeps sequences at
            every point of their output, and step time is close to linear in context."""
            return time_graph(graph(config, batch, dtype, context=prompt + (output - 1) // 2,
                                    layout=layout), chip).total_s

        serving = serve_generation(prefill_s, decode_s, memory_batch, output,
                                   slo or GenerationSlo())
        bound = time_graph(graph(config, serving.batch, dtype,
                                 context=prompt + (output - 1) // 2, layout=layout), chip).bound
        unit, rate, capacity = "tokens", serving.tokens_per_s, serving.capacity_per_s * output
    else:
        if prompt is not None or output is not None:
            raise SeedchipError(f"{config.name} is a recommendation model: --prompt and "
                                "--output apply to generation workloads only")
        memory_batch = max_batch(config, chip, dtype, layout=layout) // config.candidates

        @functools.lru_cache(maxsize=None)
        def batch_s(requests: int) -> float:
            return time_graph(graph(config, requests * config.candidates, dtype,
                                    layout=layout), chip).total_s

        serving = serve_ranking(batch_s, memory_batch, slo or RankingSlo())
        bound = time_graph(graph(config, serving.batch * config.candidates, dtype,
                                 layout=layout), chip).bound
        unit, rate, capacity = "requests", serving.request_rate_per_s, serving.capacity_per_s
    fleet = plan_fleet(rate, rate, capacity, chip, layout.chips, assumptions)
    return Served(layout=layout, serving=serving, bound=bound, unit=unit, units_per_s=rate,
                  capacity_units_per_s=capacity, fleet=fleet)


def plan(served: Served, chip: Chip, target_units_per_s: float,
         assumptions: CostAssumptions = CostAssumptions()) -> Fleet:
    """The fleet of ``served`` replicas that carries ``target_units_per_s``."""
    return plan_fleet(target_units_per_s, served.units_per_s, served.capacity_units_per_s,
                      chip, served.chips, assumptions)
