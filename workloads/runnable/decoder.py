"""A runnable decoder-only transformer: prefill a batch of prompts, decode with a KV cache.

The blocks are the ones ``workloads.llm`` times: token embedding (a gather), per layer a
norm, fused QKV projection, RoPE on Q and K, causal GQA attention (prefill writes K/V to
the cache; decode attends one new query per sequence over it), output projection and
residual, then a norm and the FFN (SwiGLU, GELU, or MoE: router, top-k experts with
Mixtral-style softmax over the chosen logits, plus shared experts) and residual; GPT-J
style parallel blocks feed one norm to both. Then the final norm and the LM head over the
last token of each sequence, and sampling.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from perfmodel.errors import SeedchipError
from workloads.config import LlmConfig, check_batch
from workloads.runnable.backend import Backend
from workloads.runnable.layers import Dense, dense, normal

NORM_EPS = 1e-5
ROPE_THETA = 10000.0


@dataclass(frozen=True)
class Norm:
    weight: np.ndarray
    bias: np.ndarray | None  # layer norm only

    def __call__(self, ops: Backend, x: np.ndarray) -> np.ndarray:
        if self.bias is None:
            return ops.rms_norm(x, self.weight, NORM_EPS)
        return ops.layer_norm(x, self.weight, self.bias, NORM_EPS)


@dataclass(frozen=True)
class SwigluFfn:
    w_gate: np.ndarray  # [ffn, d]
    w_up: np.ndarray    # [ffn, d]
    w_down: np.ndarray  # [d, ffn]

    def __call__(self, ops: Backend, x: np.ndarray) -> np.ndarray:
        return ops.swiglu_ffn(x, self.w_gate, self.w_up, self.w_down)


@dataclass(frozen=True)
class GeluFfn:
    up: Dense
    down: Dense

    def __call__(self, ops: Backend, x: np.ndarray) -> np.ndarray:
        return self.down(ops, self.up(ops, x))


@dataclass(frozen=True)
class MoeFfn:
    """Routed SwiGLU experts ([experts, ...] stacked weights) plus optional shared experts."""

    router: np.ndarray  # [experts, d]
    experts: SwigluFfn
    top_k: int
    shared: SwigluFfn | None

    def __call__(self, ops: Backend, x: np.ndarray) -> np.ndarray:
        logits = ops.linear(x, self.router)
        e = self.experts
        out = ops.moe_ffn(x, logits, e.w_gate, e.w_up, e.w_down, self.top_k)
        return out if self.shared is None else out + self.shared(ops, x)


Ffn = SwigluFfn | GeluFfn | MoeFfn


@dataclass(frozen=True)
class Layer:
    attention_norm: Norm
    qkv: Dense
    out: Dense
    ffn_norm: Norm | None  # None for parallel blocks
    ffn: Ffn


@dataclass
class KvCache:
    """Per layer K and V, [batch, capacity, kv_heads, head_dim]; ``length`` tokens filled."""

    keys: list[np.ndarray]
    values: list[np.ndarray]
    length: int = 0

    @property
    def capacity(self) -> int:
        return self.keys[0].shape[1]


@dataclass(frozen=True)
class Sampler:
    """Greedy when ``top_k`` is 0, else top-k then top-p sampling seeded per step."""

    top_k: int = 0
    top_p: float = 1.0
    temperature: float = 1.0
    seed: int = 0

    def __call__(self, ops: Backend, logits: np.ndarray, step: int) -> np.ndarray:
        if self.top_k == 0:
            return ops.greedy(logits)
        step_seed = int(np.random.SeedSequence([self.seed, step]).generate_state(1)[0])
        return ops.sample_top_k_top_p(logits, self.top_k, self.top_p, self.temperature,
                                      step_seed)


@dataclass(frozen=True)
class Generation:
    tokens: np.ndarray            # int64 [batch, generated]
    ttft_s: float                 # prefill and the first token
    step_s: list[float] = field(default_factory=list)  # each later decode step


@dataclass(frozen=True)
class DecoderModel:
    config: LlmConfig
    embedding: np.ndarray  # [vocab, d]
    layers: list[Layer]
    final_norm: Norm
    lm_head: Dense

    def prompts_fit(self, prompts: np.ndarray, new_tokens: int) -> None:
        """Prompt ids in the vocabulary, a batch of at least one, within the context."""
        c = self.config
        if prompts.ndim != 2 or not np.issubdtype(prompts.dtype, np.integer):
            raise SeedchipError(f"prompts: expected an integer array [batch, length], got "
                                f"{prompts.dtype} {list(prompts.shape)}")
        check_batch(prompts.shape[0])
        if prompts.shape[1] < 1:
            raise SeedchipError("prompts: need at least one token")
        if prompts.shape[1] + new_tokens > c.max_context:
            raise SeedchipError(f"{c.name}: prompt {prompts.shape[1]} + {new_tokens} new tokens "
                                f"exceeds its context of {c.max_context}")
        if prompts.min() < 0 or prompts.max() >= c.vocab:
            raise SeedchipError(f"prompts: token ids must lie in [0, {c.vocab})")

    def prefill(self, ops: Backend, prompts: np.ndarray,
                capacity: int | None = None) -> tuple[np.ndarray, KvCache]:
        """Next-token logits [batch, vocab] after each prompt, and the filled KV cache with
        room for ``capacity`` tokens (default: the prompt)."""
        batch, length = prompts.shape
        capacity = length if capacity is None else capacity
        self.prompts_fit(prompts, capacity - length)
        c = self.config
        shape = (batch, capacity, c.n_kv_heads, c.head_dim)
        cache = KvCache([np.zeros(shape, np.float32) for _ in self.layers],
                        [np.zeros(shape, np.float32) for _ in self.layers])
        positions = np.tile(np.arange(length, dtype=np.int64), batch)
        x = self._run_layers(ops, prompts.reshape(-1), positions, cache, batch)
        cache.length = length
        return self._logits(ops, x.reshape(batch, length, -1)[:, -1]), cache

    def decode(self, ops: Backend, tokens: np.ndarray, cache: KvCache) -> np.ndarray:
        """Logits [batch, vocab] after appending one token per sequence to the cache."""
        if cache.length >= cache.capacity:
            raise SeedchipError(f"KV cache full at {cache.capacity} tokens")
        positions = np.full(tokens.shape[0], cache.length, dtype=np.int64)
        x = self._run_layers(ops, tokens, positions, cache, tokens.shape[0])
        cache.length += 1
        return self._logits(ops, x)

    def generate(self, ops: Backend, prompts: np.ndarray, max_new_tokens: int,
                 sampler: Sampler = Sampler(), end_token: int | None = None) -> Generation:
        """Up to ``max_new_tokens`` per sequence; a sequence that produced ``end_token``
        keeps emitting it, and generation stops once all have."""
        if max_new_tokens < 1:
            raise SeedchipError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
        start = time.perf_counter()
        logits, cache = self.prefill(ops, prompts, prompts.shape[1] + max_new_tokens)
        token = sampler(ops, logits, 0)
        ttft_s = time.perf_counter() - start
        tokens, step_s = [token], []
        finished = np.zeros(token.shape, bool)
        for step in range(1, max_new_tokens):
            if end_token is not None:
                finished |= token == end_token
                if finished.all():
                    break
            start = time.perf_counter()
            token = sampler(ops, self.decode(ops, token, cache), step)
            step_s.append(time.perf_counter() - start)
            if end_token is not None:
                token = np.where(finished, end_token, token)
            tokens.append(token)
        return Generation(np.stack(tokens, axis=1), ttft_s, step_s)

    def _run_layers(self, ops: Backend, tokens: np.ndarray, positions: np.ndarray,
                    cache: KvCache, batch: int) -> np.ndarray:
        offsets = np.arange(tokens.size, dtype=np.int64)
        x = ops.embedding_bag(self.embedding, tokens, offsets)
        for number, layer in enumerate(self.layers):
            h = layer.attention_norm(ops, x)
            x = x + self._attention(ops, layer, h, positions, cache, number, batch)
            if layer.ffn_norm is None:
                x = x + layer.ffn(ops, h)
            else:
                x = x + layer.ffn(ops, layer.ffn_norm(ops, x))
        return x

    def _attention(self, ops: Backend, layer: Layer, h: np.ndarray, positions: np.ndarray,
                   cache: KvCache, number: int, batch: int) -> np.ndarray:
        c = self.config
        tokens, q_width, kv_width = h.shape[0], c.n_heads * c.head_dim, c.n_kv_heads * c.head_dim
        qkv = layer.qkv(ops, h)
        q = ops.rope(qkv[:, :q_width].reshape(tokens, c.n_heads, c.head_dim), positions,
                     ROPE_THETA)
        k = ops.rope(qkv[:, q_width:q_width + kv_width].reshape(tokens, c.n_kv_heads, c.head_dim),
                     positions, ROPE_THETA)
        v = qkv[:, q_width + kv_width:].reshape(tokens, c.n_kv_heads, c.head_dim)
        new, start = tokens // batch, cache.length
        k = k.reshape(batch, new, c.n_kv_heads, c.head_dim)
        v = np.ascontiguousarray(v).reshape(batch, new, c.n_kv_heads, c.head_dim)
        cache.keys[number][:, start:start + new] = k
        cache.values[number][:, start:start + new] = v
        if start == 0:  # prefill: the prompt attends to itself, causally
            out = ops.attention_prefill(q.reshape(batch, new, c.n_heads, c.head_dim), k, v, True)
        else:
            lengths = np.full(batch, start + 1, dtype=np.int64)
            out = ops.attention_decode(q, cache.keys[number], cache.values[number], lengths)
        return layer.out(ops, out.reshape(tokens, q_width))

    def _logits(self, ops: Backend, last: np.ndarray) -> np.ndarray:
        return self.lm_head(ops, self.final_norm(ops, np.ascontiguousarray(last)))


def build_decoder(config: LlmConfig, rng: np.random.Generator) -> DecoderModel:
    c = config
    if c.is_moe and c.activation != "swiglu":
        raise SeedchipError(f"{c.name}: runnable MoE experts are SwiGLU, got {c.activation}")
    d = c.d_model
    embedding = normal(rng, (c.vocab, d), 1)

    def norm() -> Norm:
        return Norm(np.ones(d, np.float32), np.zeros(d, np.float32) if c.norm == "layer" else None)

    def swiglu(width: int, *experts: int) -> SwigluFfn:
        return SwigluFfn(normal(rng, (*experts, width, d), d), normal(rng, (*experts, width, d), d),
                         normal(rng, (*experts, d, width), width))

    def ffn(number: int) -> Ffn:
        if c.is_moe and number >= c.first_dense_layers:
            shared = swiglu(c.n_shared_experts * c.expert_ffn_dim) if c.n_shared_experts else None
            return MoeFfn(normal(rng, (c.n_experts, d), d),
                          swiglu(c.expert_ffn_dim, c.n_experts), c.top_k, shared)
        if c.activation == "swiglu":
            return swiglu(c.ffn_dim)
        return GeluFfn(dense(rng, d, c.ffn_dim, c.bias, "gelu"), dense(rng, c.ffn_dim, d, c.bias))

    q_width, kv_width = c.n_heads * c.head_dim, c.n_kv_heads * c.head_dim
    layers = [Layer(norm(), dense(rng, d, q_width + 2 * kv_width, c.bias),
                    dense(rng, q_width, d, c.bias), None if c.parallel_block else norm(),
                    ffn(number))
              for number in range(c.layers)]
    lm_weight = embedding if c.tied_embeddings else normal(rng, (c.vocab, d), d)
    lm_bias = normal(rng, (c.vocab,), d) if c.bias else None
    return DecoderModel(c, embedding, layers, norm(), Dense(lm_weight, lm_bias))
