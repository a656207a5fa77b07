"""One entry for every family: op graphs, parameter counts and memory footprints."""

from __future__ import annotations

from perfmodel.errors import SeedchipError
from perfmodel.ops import Node, total_cost
from perfmodel.parallel import SINGLE, Layout
from workloads.config import LlmConfig, RecConfig, TwoTowerConfig, WorkloadConfig
from workloads.llm import decode_graph, prefill_graph, shard_config
from workloads.precision import precision
from workloads.recsys import (dlrm_graph, dlrm_params, two_tower_graph, two_tower_params,
                              two_tower_served_bytes)


def graph(config: WorkloadConfig, batch: int, dtype: str = "bf16", *,
          prompt: int | None = None, context: int | None = None,
          layout: Layout = SINGLE) -> list[Node]:
    """The op graph of one step, as one chip of ``layout`` runs it.

    Recommendation: one batch of ``batch`` samples. Generation: the prefill of ``batch``
    prompts of ``prompt`` tokens, or (with ``context`` instead) one decode step of
    ``batch`` sequences with ``context`` tokens cached.
    """
    p = precision(dtype, config.family)
    if isinstance(config, RecConfig):
        return dlrm_graph(config, batch, p, _shards(config, layout))
    if isinstance(config, TwoTowerConfig):
        return two_tower_graph(config, batch, p, _shards(config, layout))
    if (prompt is None) == (context is None):
        raise ValueError("generation graphs need exactly one of prompt= or context=")
    if prompt is not None:
        return prefill_graph(config, batch, prompt, p, layout)
    return decode_graph(config, batch, context, p, layout)


def _shards(config: WorkloadConfig, layout: Layout) -> int:
    if (layout.tp, layout.pp, layout.ep) != (1, 1, 1):
        raise SeedchipError(f"{config.name} is a recommendation model: use --shards "
                            "(embedding sharding), not --tp/--pp/--ep")
    return layout.shards


def param_count(config: WorkloadConfig) -> int:
    """Trained parameters (embedding tables included; all experts of an MoE)."""
    if isinstance(config, RecConfig):
        return dlrm_params(config)
    if isinstance(config, TwoTowerConfig):
        return two_tower_params(config)
    return config.param_count()


def weight_bytes(config: WorkloadConfig, dtype: str = "bf16", layout: Layout = SINGLE) -> float:
    """Bytes of parameters one chip of ``layout`` holds to serve the model (tables,
    weights, item matrix); the whole model on one chip by default."""
    p = precision(dtype, config.family)
    if isinstance(config, RecConfig):
        nodes = dlrm_graph(config, 1, p, _shards(config, layout))
        return sum(node.op.weight_bytes() * node.count for node in nodes)
    if isinstance(config, TwoTowerConfig):
        return two_tower_served_bytes(config, p, _shards(config, layout))
    local = shard_config(config, layout)
    params = local.param_count()
    if layout.pp > 1:  # the embedding sits on the first stage, the LM head on the last
        params -= min(local.embedding_params(), local.lm_head_params())  # tied: both hold it
    return params * p.weight_bytes_per_param


def kv_bytes_per_token(config: LlmConfig, dtype: str = "bf16", layout: Layout = SINGLE) -> float:
    """KV-cache bytes per token of context that one chip of ``layout`` holds (its layers
    and KV heads)."""
    kv = precision(dtype, config.family).kv_bytes_per_value
    return shard_config(config, layout).kv_bytes_per_token(kv)


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
