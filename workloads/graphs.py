"""One entry for every family: op graphs, parameter counts and memory footprints."""

from __future__ import annotations

from perfmodel.ops import Node, total_cost
from workloads.config import LlmConfig, RecConfig, TwoTowerConfig, WorkloadConfig
from workloads.llm import decode_graph, prefill_graph
from workloads.precision import precision
from workloads.recsys import (dlrm_graph, dlrm_params, two_tower_graph, two_tower_params,
                              two_tower_served_bytes)


def graph(config: WorkloadConfig, batch: int, dtype: str = "bf16", *,
          prompt: int | None = None, context: int | None = None) -> list[Node]:
    """The op graph of one step.

    Recommendation: one batch of ``batch`` samples. Generation: the prefill of ``batch``
    prompts of ``prompt`` tokens, or (with ``context`` instead) one decode step of
    ``batch`` sequences with ``context`` tokens cached.
    """
    p = precision(dtype, config.family)
    if isinstance(config, RecConfig):
        return dlrm_graph(config, batch, p)
    if isinstance(config, TwoTowerConfig):
        return two_tower_graph(config, batch, p)
    if (prompt is None) == (context is None):
        raise ValueError("generation graphs need exactly one of prompt= or context=")
    if prompt is not None:
        return prefill_graph(config, batch, prompt, p)
    return decode_graph(config, batch, context, p)


def param_count(config: WorkloadConfig) -> int:
    """Trained parameters (embedding tables included; all experts of an MoE)."""
    if isinstance(config, RecConfig):
        return dlrm_params(config)
    if isinstance(config, TwoTowerConfig):
        return two_tower_params(config)
    return config.param_count()


def weight_bytes(config: WorkloadConfig, dtype: str = "bf16") -> float:
    """Bytes of parameters a chip holds to serve the model (tables, weights, item matrix)."""
    p = precision(dtype, config.family)
    if isinstance(config, RecConfig):
        return sum(node.op.weight_bytes() * node.count for node in dlrm_graph(config, 1, p))
    if isinstance(config, TwoTowerConfig):
        return two_tower_served_bytes(config, p)
    return config.param_count() * p.weight_bytes_per_param


def kv_bytes_per_token(config: LlmConfig, dtype: str = "bf16") -> float:
    """KV-cache bytes per token of context, all layers."""
    return config.kv_bytes_per_token(precision(dtype, config.family).kv_bytes_per_value)


def flops_per_unit(config: WorkloadConfig, dtype: str = "bf16") -> float:
    """Flops per sample (recommendation; one request's batch divided by its candidates)
    or per generated token (generation: one decode step at batch 1 and empty context)."""
    if isinstance(config, LlmConfig):
        return total_cost(graph(config, 1, dtype, context=0)).flops
    return total_cost(graph(config, config.candidates, dtype)).flops / config.candidates


def peak_activation_bytes(nodes: list[Node]) -> float:
    """Largest live activation set of any one op (inputs plus outputs), a lower bound on
    the workspace a framework that frees intermediates needs."""
    return max((sum(o.footprint_bytes for o in node.op.operands() if o.role == "activation")
                for node in nodes), default=0.0)
