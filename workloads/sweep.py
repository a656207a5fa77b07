"""Workloads as the sweep engine times them (`perfmodel.sweep.Workload`): the passes,
requests and footprint that `workloads.estimate` uses, on one chip."""

from __future__ import annotations

import math

from perfmodel.chip import Chip
from perfmodel.errors import SeedchipError
from perfmodel.sweep import Run, Workload
from workloads.config import LlmConfig, WorkloadConfig
from workloads.estimate import decode_slices, memory
from workloads.graphs import graph


def sweep_workload(config: WorkloadConfig, chip: Chip, batch: int, dtype: str = "bf16",
                   prompt: int | None = None, output: int | None = None,
                   weight: float = 1.0) -> Workload:
    """One pass: a batch of ``batch`` samples (recommendation; a request's latency takes
    ceil(candidates / batch) passes), or the prefill and decode of ``batch`` requests
    (generation). ``chip`` only checks the footprint's inputs (its capacity is swept)."""
    if isinstance(config, LlmConfig):
        footprint = memory(config, chip, batch, dtype, prompt, output).total_bytes
        runs = [Run(tuple(graph(config, batch, dtype, prompt=prompt)))]
        runs += [Run(tuple(graph(config, batch, dtype, context=context)), steps)
                 for context, steps in decode_slices(prompt, output - 1)]
        return Workload(config.name, tuple(runs), batch, 1, footprint, weight)
    if prompt is not None or output is not None:
        raise SeedchipError(f"{config.name} is a recommendation model: --prompt and --output "
                            "apply to generation workloads only")
    footprint = memory(config, chip, batch, dtype).total_bytes
    return Workload(config.name, (Run(tuple(graph(config, batch, dtype))),),
                    batch / config.candidates, math.ceil(config.candidates / batch),
                    footprint, weight)
