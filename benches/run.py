"""Measure a runnable workload on the host: medians over repeats after warm-up.

One *request* is what ``seedchip estimate`` calls latency: a scoring batch for
recommendation, the prefill plus every decode step for generation. Inputs are drawn once
from the seed, so every repeat runs the same data and the results are reproducible.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from benches.timing import settle
from perfmodel.errors import SeedchipError
from workloads.config import WorkloadConfig, check_batch
from workloads.runnable import Backend, DecoderModel, DlrmModel, Model, Sampler, build
from workloads.runnable.inputs import prompts

SHOWN_SCORES = 8


@dataclass(frozen=True)
class RunSettings:
    batch: int
    seed: int = 0
    prompt: int = 1024
    output: int = 256
    repeats: int = 5
    warmup: int = 1
    table_dtype: str = "fp32"
    sampler: Sampler = Sampler()
    end_token: int | None = None


@dataclass(frozen=True)
class RunResult:
    workload: str
    family: str
    backend: str
    batch: int
    repeats: int
    latency_s: float          # median seconds per request
    latency_min_s: float
    latency_max_s: float
    throughput_per_s: float
    throughput_unit: str      # samples or tokens
    ttft_s: float | None = None
    tpot_s: float | None = None
    prompt: int | None = None
    output: int | None = None
    tokens: list[list[int]] | None = None
    scores: list[float] | None = None


@dataclass(frozen=True)
class Prepared:
    """A built model and the inputs every repeat runs (checked before anything is timed)."""

    model: Model
    inputs: object
    settings: RunSettings


def prepare(config: WorkloadConfig, settings: RunSettings) -> Prepared:
    """Build ``config`` from the seed and draw its inputs; bad settings raise here."""
    s = settings
    if s.repeats < 1 or s.warmup < 0:
        raise SeedchipError(f"repeats must be >= 1 and warm-up >= 0, got {s.repeats}/{s.warmup}")
    model = build(config, s.seed, s.table_dtype)
    rng = np.random.default_rng([s.seed, 1])
    if isinstance(model, DecoderModel):
        check_batch(s.batch)
        inputs = prompts(rng, s.batch, s.prompt, config.vocab)
        model.prompts_fit(inputs, s.output)
    else:
        inputs = model.inputs(s.batch, rng)
    return Prepared(model, inputs, s)


def measure(prepared: Prepared, ops: Backend,
            on_round: Callable[[], None] = lambda: None) -> RunResult:
    """Time ``settings.repeats`` requests with ``ops`` after the warm-up; ``on_round`` is
    called after each round (a progress bar)."""
    if isinstance(prepared.model, DecoderModel):
        return _generation(prepared, ops, on_round)
    return _scoring(prepared, ops, on_round)


def _scoring(prepared: Prepared, ops: Backend, on_round: Callable[[], None]) -> RunResult:
    model, inputs, s = prepared.model, prepared.inputs, prepared.settings
    samples = s.batch if isinstance(model, DlrmModel) else inputs.batch * inputs.scored
    settle()
    times, result = [], None
    for round_ in range(s.warmup + s.repeats):
        start = time.perf_counter()
        result = model.forward(ops, inputs)
        if round_ >= s.warmup:
            times.append(time.perf_counter() - start)
        on_round()
    scores = result if isinstance(model, DlrmModel) else result.scores[0]
    return _result(model.config, ops, s, times, samples, "samples",
                   scores=[float(x) for x in scores[:SHOWN_SCORES]])


def _generation(prepared: Prepared, ops: Backend, on_round: Callable[[], None]) -> RunResult:
    model, prompts, s = prepared.model, prepared.inputs, prepared.settings
    settle()
    runs = []
    for round_ in range(s.warmup + s.repeats):
        generation = model.generate(ops, prompts, s.output, s.sampler, s.end_token)
        if round_ >= s.warmup:
            runs.append(generation)
        on_round()
    times = [g.ttft_s + sum(g.step_s) for g in runs]
    steps = [statistics.median(g.step_s) for g in runs if g.step_s]
    tokens = runs[0].tokens
    return _result(model.config, ops, s, times, tokens.size, "tokens",
                   ttft_s=statistics.median(g.ttft_s for g in runs),
                   tpot_s=statistics.median(steps) if steps else None,
                   prompt=s.prompt, output=s.output, tokens=tokens.tolist())


def _result(config: WorkloadConfig, ops: Backend, s: RunSettings, times: list[float],
            units_of_work: int, unit: str, **fields) -> RunResult:
    latency_s = statistics.median(times)
    return RunResult(config.name, config.family, ops.name, s.batch, s.repeats, latency_s,
                     min(times), max(times), units_of_work / latency_s, unit, **fields)
