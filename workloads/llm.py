"""Op graphs of a decoder-only transformer: prefill of a prompt and one decode step.

Per layer: norm, fused QKV projection, RoPE (an elementwise multiply over Q and K),
attention (prefill: fused causal attention that also writes the new K/V to the cache;
decode: one query per sequence over the cached context), output projection, residual
add, norm, FFN (SwiGLU: fused gate+up GEMM, swiglu, down; GELU: up with GELU, down;
MoE: router GEMM, top-k, shared experts as one fused FFN, routed experts, weighted
combine), residual add. GPT-J style parallel blocks share one norm. Around the layers:
the token-embedding gather, the final norm and LM head (prefill: last token of each
sequence only, which is all the first output token needs), and sampling.

MoE routing: under uniform routing each token picks ``top_k`` of ``n_experts`` experts,
so an expert is missed by all T tokens with probability (1 - top_k/n_experts)^T and the
expected number of distinct experts hit is n_experts * (1 - (1 - top_k/n_experts)^T).
Each hit expert's weights are read once; the T * top_k routed tokens are split evenly
over the hit experts (rounded to whole experts; each expert's rows are padded to the
largest share, as grouped-GEMM MoE kernels pad their tiles). The routed experts run as
one grouped GEMM per projection, so a layer pays two launches, not one per expert.

Multi-chip (`perfmodel.parallel.Layout`): the graph is one replica's critical path, with
each op at the shape one chip runs: heads, KV heads, FFN widths and vocabulary divided by
tp; the batch divided by pp (microbatches) and ep (data-parallel attention); every
layer's ops run in sequence (all pp stages), with two all-reduces per layer (one for
parallel blocks) over tp chips, pp - 1 sends between stages, an all-to-all dispatch and
combine per MoE layer over ep chips (each chip holding n_experts / ep experts and
receiving, under uniform routing, as many routed tokens as it sends), and an all-gather
of each chip's sampling candidates over tp. `shard_config` is what one chip holds (the
largest stage).
"""

from __future__ import annotations

import math
from dataclasses import replace

from perfmodel.ops import (DTYPE_BYTES, AttentionDecode, AttentionPrefill, Collective,
                           Elementwise, EmbeddingBag, Gemm, Node, Norm, Op, Sampling, TopK)
from perfmodel.errors import SeedchipError
from perfmodel.parallel import SINGLE, Layout
from workloads.config import LlmConfig
from workloads.precision import Precision


def expected_experts_hit(n_experts: int, top_k: int, tokens: int) -> float:
    """Expected distinct experts chosen by ``tokens`` tokens under uniform top-k routing."""
    return n_experts * (1.0 - (1.0 - top_k / n_experts) ** tokens)


def prefill_graph(config: LlmConfig, batch: int, prompt: int, p: Precision,
                  layout: Layout = SINGLE) -> list[Node]:
    """Ops of the prefill of ``batch`` prompts of ``prompt`` tokens (to the first token)."""
    _check_shape(config, batch, prompt)
    local, rows = shard_config(config, layout), local_batch(batch, layout)
    attention = AttentionPrefill(rows, prompt, local.n_heads, local.n_kv_heads,
                                 local.head_dim, dtype=p.compute)
    return _graph(config, layout, rows, rows * prompt, attention, p)


def decode_graph(config: LlmConfig, batch: int, context: int, p: Precision,
                 layout: Layout = SINGLE) -> list[Node]:
    """Ops of one decode step: ``batch`` sequences with ``context`` tokens already cached."""
    _check_shape(config, batch, context + 1)
    local, rows = shard_config(config, layout), local_batch(batch, layout)
    attention = AttentionDecode(rows, context, local.n_heads, local.n_kv_heads,
                                local.head_dim, dtype=p.compute, kv_dtype=p.kv)
    return _graph(config, layout, rows, rows, attention, p)


def local_batch(batch: int, layout: Layout) -> int:
    """Sequences one chip runs at a time: a microbatch of one data-parallel (ep) share."""
    return math.ceil(batch / (layout.pp * layout.ep))


def shard_config(config: LlmConfig, layout: Layout) -> LlmConfig:
    """The part of the model one chip holds (the largest pipeline stage), as a config.

    Its ``param_count()`` is the chip's parameters and its ``kv_bytes_per_token`` the
    chip's KV cache per token of the sequences it serves.
    """
    if layout.shards > 1:
        raise SeedchipError(f"{config.name} is a generation model: use --tp/--pp/--ep, "
                            "not --shards")
    tp, pp, ep = layout.tp, layout.pp, layout.ep
    if config.n_heads % tp:
        raise SeedchipError(f"--tp {tp} must divide {config.name}'s {config.n_heads} heads")
    if config.n_kv_heads % tp and tp % config.n_kv_heads:
        raise SeedchipError(f"--tp {tp}: {config.name}'s {config.n_kv_heads} KV heads can "
                            "be neither split nor replicated evenly")
    if pp > config.layers:
        raise SeedchipError(f"--pp {pp} exceeds {config.name}'s {config.layers} layers")
    if ep > 1 and not config.is_moe:
        raise SeedchipError(f"--ep {ep}: {config.name} has no experts")
    if ep > max(config.n_experts, 1):
        raise SeedchipError(f"--ep {ep} exceeds {config.name}'s {config.n_experts} experts")
    layers = math.ceil(config.layers / pp)
    moe_layers = math.ceil(config.moe_layers / pp)
    experts = math.ceil(config.n_experts / ep) if config.is_moe else 0
    return replace(
        config, layers=layers, first_dense_layers=layers - moe_layers if config.is_moe else 0,
        n_heads=config.n_heads // tp, n_kv_heads=max(1, config.n_kv_heads // tp),
        ffn_dim=math.ceil(config.ffn_dim / tp), vocab=math.ceil(config.vocab / tp),
        expert_ffn_dim=math.ceil(config.expert_ffn_dim / tp), n_experts=experts,
        top_k=min(config.top_k, experts))


def _check_shape(config: LlmConfig, batch: int, tokens: int) -> None:
    if batch < 1:
        raise SeedchipError(f"batch must be >= 1, got {batch}")
    if not 1 <= tokens <= config.max_context:
        raise SeedchipError(f"{config.name}: {tokens} tokens do not fit its context of "
                            f"{config.max_context}")


def _graph(full: LlmConfig, layout: Layout, batch: int, tokens: int, attention: Op,
           p: Precision) -> list[Node]:
    """The whole forward pass over ``tokens`` new tokens of ``batch`` sequences, at the
    shapes one chip of ``layout`` runs."""
    c = replace(shard_config(full, layout), layers=full.layers,
                first_dense_layers=full.first_dense_layers)
    d, layers = c.d_model, c.layers
    q_width, kv_width = c.n_heads * c.head_dim, c.n_kv_heads * c.head_dim
    norms_per_layer = 1 if c.parallel_block else 2

    def gemm(m: int, n: int, k: int, **kwargs) -> Gemm:
        return Gemm(m, n, k, dtype=p.compute, weight_dtype=p.weight, **kwargs)

    nodes = [
        Node(EmbeddingBag(c.vocab, d, bags=tokens, pooling=1, dtype=p.weight), 1, "embed"),
        Node(Norm(tokens, d, c.norm, p.activation), layers * norms_per_layer, "norm"),
        Node(gemm(tokens, q_width + 2 * kv_width, d), layers, "qkv"),
        Node(Elementwise(tokens * (q_width + kv_width), "mul", p.activation), layers, "rope"),
        Node(attention, layers, "attention"),
        Node(gemm(tokens, d, q_width), layers, "o_proj"),
        Node(Elementwise(tokens * d, "add", p.activation), 2 * layers, "residual"),
    ]
    nodes += _ffn(c, tokens, c.ffn_dim, c.dense_layers, "ffn", gemm, p)
    if c.is_moe:
        nodes += _moe(c, full, layout.ep, tokens, gemm, p)
    lm_head = gemm(batch, c.vocab, d, bias=c.bias)
    nodes += [Node(Norm(batch, d, c.norm, p.activation), 1, "final_norm"),
              Node(lm_head, 1, "lm_head"),
              Node(Sampling(batch, c.vocab), 1, "sampling")]
    nodes += _communication(c, full.top_k, layout, batch, tokens, p)
    return [node for node in nodes if node.count > 0]


SAMPLING_CANDIDATE_BYTES = 64  # per sequence: a chip's best few (token id, logit) pairs


def _communication(c: LlmConfig, top_k: int, layout: Layout, batch: int, tokens: int,
                   p: Precision) -> list[Node]:
    """Collectives of tensor, pipeline and expert parallelism (none on one chip)."""
    activation = float(tokens) * c.d_model * DTYPE_BYTES[p.activation]
    per_layer = 1 if c.parallel_block else 2
    nodes = []
    if layout.tp > 1:
        nodes += [Node(Collective("all_reduce", activation, layout.tp), per_layer * c.layers,
                       "tp_all_reduce"),
                  Node(Collective("all_gather", float(batch) * SAMPLING_CANDIDATE_BYTES
                                  * layout.tp, layout.tp), 1, "tp_sampling_gather")]
    if layout.pp > 1:
        nodes.append(Node(Collective("send_recv", activation, 2), layout.pp - 1, "pp_send"))
    if layout.ep > 1:
        routed = activation * top_k
        nodes.append(Node(Collective("all_to_all", routed, layout.ep), 2 * c.moe_layers,
                          "ep_all_to_all"))
    return nodes


def _ffn(c: LlmConfig, tokens: int, ffn_dim: int, count: int, name: str, gemm,
         p: Precision) -> list[Node]:
    """A dense FFN of width ``ffn_dim`` over ``tokens`` tokens, run ``count`` times."""
    if c.activation == "swiglu":
        return [Node(gemm(tokens, 2 * ffn_dim, c.d_model), count, f"{name}_gate_up"),
                Node(Elementwise(tokens * ffn_dim, "swiglu", p.activation), count,
                     f"{name}_swiglu"),
                Node(gemm(tokens, c.d_model, ffn_dim), count, f"{name}_down")]
    return [Node(gemm(tokens, ffn_dim, c.d_model, bias=c.bias, activation="gelu"), count,
                 f"{name}_up"),
            Node(gemm(tokens, c.d_model, ffn_dim, bias=c.bias), count, f"{name}_down")]


def _moe(c: LlmConfig, full: LlmConfig, ep: int, tokens: int, gemm, p: Precision) -> list[Node]:
    """Router, shared experts and routed experts of every MoE layer, on one chip of ``ep``
    expert shards (``c``: the chip's share, ``full``: the whole model's routing)."""
    layers = c.moe_layers
    top_k = full.top_k
    nodes = [Node(Gemm(tokens, full.n_experts, c.d_model, dtype=p.activation), layers,
                  "router"),
             Node(TopK(tokens, full.n_experts, top_k), layers, "router_topk"),
             Node(Elementwise(tokens * top_k * c.d_model, "mul", p.activation), layers,
                  "expert_combine")]
    if c.n_shared_experts:
        nodes += _ffn(c, tokens, c.n_shared_experts * c.expert_ffn_dim, layers, "shared", gemm,
                      p)
    routed = tokens * top_k
    hit_all = expected_experts_hit(full.n_experts, top_k, tokens * ep)
    hit = max(1, min(c.n_experts, round(hit_all / ep)))
    per_expert = math.ceil(routed / hit)
    f = c.expert_ffn_dim
    nodes += [Node(gemm(per_expert, 2 * f, c.d_model, batch=hit), layers, "experts_gate_up"),
              Node(gemm(per_expert, c.d_model, f, batch=hit), layers, "experts_down")]
    nodes.append(Node(Elementwise(routed * c.expert_ffn_dim, "swiglu", p.activation), layers,
                      "experts_swiglu"))
    return nodes
