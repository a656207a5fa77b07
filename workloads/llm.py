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
"""

from __future__ import annotations

import math

from perfmodel.ops import (AttentionDecode, AttentionPrefill, Elementwise, EmbeddingBag, Gemm,
                          Node, Norm, Op, Sampling, TopK)
from perfmodel.errors import SeedchipError
from workloads.config import LlmConfig
from workloads.precision import Precision


def expected_experts_hit(n_experts: int, top_k: int, tokens: int) -> float:
    """Expected distinct experts chosen by ``tokens`` tokens under uniform top-k routing."""
    return n_experts * (1.0 - (1.0 - top_k / n_experts) ** tokens)


def prefill_graph(config: LlmConfig, batch: int, prompt: int, p: Precision) -> list[Node]:
    """Ops of the prefill of ``batch`` prompts of ``prompt`` tokens (to the first token)."""
    _check_shape(config, batch, prompt)
    attention = AttentionPrefill(batch, prompt, config.n_heads, config.n_kv_heads,
                                 config.head_dim, dtype=p.compute)
    return _graph(config, batch, batch * prompt, attention, p)


def decode_graph(config: LlmConfig, batch: int, context: int, p: Precision) -> list[Node]:
    """Ops of one decode step: ``batch`` sequences with ``context`` tokens already cached."""
    _check_shape(config, batch, context + 1)
    attention = AttentionDecode(batch, context, config.n_heads, config.n_kv_heads,
                                config.head_dim, dtype=p.compute, kv_dtype=p.kv)
    return _graph(config, batch, batch, attention, p)


def _check_shape(config: LlmConfig, batch: int, tokens: int) -> None:
    if batch < 1:
        raise SeedchipError(f"batch must be >= 1, got {batch}")
    if not 1 <= tokens <= config.max_context:
        raise SeedchipError(f"{config.name}: {tokens} tokens do not fit its context of "
                            f"{config.max_context}")


def _graph(c: LlmConfig, batch: int, tokens: int, attention: Op, p: Precision) -> list[Node]:
    """The whole forward pass over ``tokens`` new tokens of ``batch`` sequences."""
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
        nodes += _moe(c, tokens, gemm, p)
    lm_head = gemm(batch, c.vocab, d, bias=c.bias)
    nodes += [Node(Norm(batch, d, c.norm, p.activation), 1, "final_norm"),
              Node(lm_head, 1, "lm_head"),
              Node(Sampling(batch, c.vocab), 1, "sampling")]
    return [node for node in nodes if node.count > 0]


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


def _moe(c: LlmConfig, tokens: int, gemm, p: Precision) -> list[Node]:
    """Router, shared experts and routed experts of every MoE layer."""
    layers = c.moe_layers
    nodes = [Node(Gemm(tokens, c.n_experts, c.d_model, dtype=p.activation), layers, "router"),
             Node(TopK(tokens, c.n_experts, c.top_k), layers, "router_topk"),
             Node(Elementwise(tokens * c.top_k * c.d_model, "mul", p.activation), layers,
                  "expert_combine")]
    if c.n_shared_experts:
        nodes += _ffn(c, tokens, c.n_shared_experts * c.expert_ffn_dim, layers, "shared", gemm,
                      p)
    routed = tokens * c.top_k
    hit = max(1, round(expected_experts_hit(c.n_experts, c.top_k, tokens)))
    per_expert = math.ceil(routed / hit)
    f = c.expert_ffn_dim
    nodes += [Node(gemm(per_expert, 2 * f, c.d_model, batch=hit), layers, "experts_gate_up"),
              Node(gemm(per_expert, c.d_model, f, batch=hit), layers, "experts_down")]
    nodes.append(Node(Elementwise(routed * c.expert_ffn_dim, "swiglu", p.activation), layers,
                      "experts_swiglu"))
    return nodes
