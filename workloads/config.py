"""Workload configs: frozen dataclasses loaded and validated from TOML presets or files.

Three kinds of model, each a ``kind`` in its file:

- ``dlrm``: DLRM-style ranking (bottom MLP, embedding bags, dot / concat / DCNv2 cross
  interaction, top MLP), `RecConfig`.
- ``two-tower``: retrieval: a user tower scored by dot products against precomputed item
  embeddings, `TwoTowerConfig`.
- ``decoder``: decoder-only transformer (GQA, optional MoE with shared experts), `LlmConfig`.

A preset lives in ``workloads/presets/<name>.toml``; a path to a user's own file is
accepted wherever a preset name is. Unknown keys and out-of-range values are errors that
name the file and the field. Every config carries a ``source``.

Units: a *sample* is one scored user-item pair (as in MLPerf); a *request* scores
``candidates`` items for one user. Generation counts *tokens*.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Union

from perfmodel import tomlfile
from perfmodel.errors import SeedchipError

PRESET_DIR = Path(__file__).parent / "presets"

KINDS = ("dlrm", "two-tower", "decoder")
INTERACTIONS = ("dot", "cat", "dcn")
ACTIVATIONS = ("swiglu", "gelu")
NORMS = ("rms", "layer")
DTYPE_CHOICES = ("bf16", "fp16", "fp8", "int8", "fp32")

# Zipf exponent used when a file gives none: a common choice for synthetic DLRM traces
# (e.g. the RecNMP / DeepRecSys line of work reports power-law row popularity, s ~ 1).
DEFAULT_ZIPF_S = 1.05


@dataclass(frozen=True)
class Table:
    """``count`` embedding tables of ``rows`` rows, each read with ``pooling`` rows per sample."""

    rows: int
    pooling: int
    count: int = 1


@dataclass(frozen=True)
class RecConfig:
    """A DLRM-style ranking model. MLP widths exclude the input width (derived)."""

    name: str
    description: str
    source: str
    tables: tuple[Table, ...]
    embedding_dim: int
    dense_features: int
    bottom_mlp: tuple[int, ...]
    top_mlp: tuple[int, ...]
    interaction: str
    cross_layers: int
    cross_rank: int
    zipf_s: float
    candidates: int
    kind: str = "dlrm"

    family = "recommendation"

    @property
    def table_count(self) -> int:
        return sum(table.count for table in self.tables)

    @property
    def embedding_rows(self) -> int:
        return sum(table.rows * table.count for table in self.tables)

    @property
    def features(self) -> int:
        """Vectors that meet in the interaction: the bottom-MLP output and one per table."""
        return self.table_count + 1

    @property
    def top_input(self) -> int:
        """Width entering the top MLP."""
        concat = self.features * self.embedding_dim
        if self.interaction == "dot":
            return self.embedding_dim + self.features * (self.features - 1) // 2
        return concat


@dataclass(frozen=True)
class TwoTowerConfig:
    """Retrieval: user tower (feature tables + MLP) against precomputed item embeddings.

    The item tower (``item_tables`` + the same MLP shape) runs offline over the ``items``
    corpus; serving reads its output, an [items, tower_mlp[-1]] matrix.
    """

    name: str
    description: str
    source: str
    user_tables: tuple[Table, ...]
    item_tables: tuple[Table, ...]
    embedding_dim: int
    tower_mlp: tuple[int, ...]
    items: int
    candidates: int
    top_k: int
    zipf_s: float
    kind: str = "two-tower"

    family = "recommendation"

    @property
    def output_dim(self) -> int:
        return self.tower_mlp[-1]

    @property
    def embedding_rows(self) -> int:
        return sum(t.rows * t.count for t in (*self.user_tables, *self.item_tables))


@dataclass(frozen=True)
class LlmConfig:
    """A decoder-only transformer. MoE when ``n_experts`` > 0 (layers after the first
    ``first_dense_layers`` replace the dense FFN by a router, ``n_experts`` routed experts
    of which ``top_k`` are used per token, and ``n_shared_experts`` always-on experts)."""

    name: str
    description: str
    source: str
    layers: int
    d_model: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    ffn_dim: int
    vocab: int
    max_context: int
    activation: str
    norm: str
    tied_embeddings: bool
    parallel_block: bool
    bias: bool
    n_experts: int = 0
    top_k: int = 0
    n_shared_experts: int = 0
    expert_ffn_dim: int = 0
    first_dense_layers: int = 0
    kind: str = "decoder"

    family = "generation"

    @property
    def is_moe(self) -> bool:
        return self.n_experts > 0

    @property
    def moe_layers(self) -> int:
        return self.layers - self.first_dense_layers if self.is_moe else 0

    @property
    def dense_layers(self) -> int:
        return self.layers - self.moe_layers

    def attention_params(self) -> int:
        """Q, K, V and output projections of one layer."""
        qkv = self.d_model * (self.n_heads + 2 * self.n_kv_heads) * self.head_dim
        return qkv + self.n_heads * self.head_dim * self.d_model

    def ffn_params(self, ffn_dim: int) -> int:
        """One dense FFN of width ``ffn_dim`` (SwiGLU: gate, up, down; GELU: up, down)."""
        matrices = 3 if self.activation == "swiglu" else 2
        return matrices * self.d_model * ffn_dim + (ffn_dim + self.d_model if self.bias else 0)

    def norm_params(self) -> int:
        return self.d_model * (1 if self.norm == "rms" else 2)

    def embedding_params(self) -> int:
        return self.vocab * self.d_model

    def lm_head_params(self) -> int:
        """Zero when tied to the input embedding (the same matrix)."""
        if self.tied_embeddings:
            return 0
        return self.vocab * self.d_model + (self.vocab if self.bias else 0)

    def param_count(self, active: bool = False) -> int:
        """Parameters; ``active``: those one token uses (top_k of the routed experts)."""
        norms_per_layer = 1 if self.parallel_block else 2
        per_layer = self.attention_params() + norms_per_layer * self.norm_params()
        total = (self.layers * per_layer + self.dense_layers * self.ffn_params(self.ffn_dim)
                 + self.norm_params() + self.embedding_params() + self.lm_head_params())
        if self.is_moe:
            routed = self.top_k if active else self.n_experts
            expert = self.ffn_params(self.expert_ffn_dim)
            router = self.d_model * self.n_experts
            total += self.moe_layers * (router + (routed + self.n_shared_experts) * expert)
        return total

    def kv_bytes_per_token(self, kv_bytes_per_value: float) -> float:
        """KV-cache bytes one token occupies across all layers."""
        return 2.0 * self.layers * self.n_kv_heads * self.head_dim * kv_bytes_per_value


WorkloadConfig = Union[RecConfig, TwoTowerConfig, LlmConfig]


# ---------------------------------------------------------------- loading


def check_batch(batch: int) -> None:
    """An integer batch of at least one (a bool is not a batch)."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise SeedchipError(f"batch must be an integer >= 1, got {batch!r}")


def preset_names() -> list[str]:
    """Names of the built-in workload presets, sorted."""
    return tomlfile.preset_names(PRESET_DIR)


def load_workload(name_or_path: str) -> WorkloadConfig:
    """Load and validate a workload preset or file."""
    path = tomlfile.resolve_preset(name_or_path, PRESET_DIR, "workload")
    return workload_from_dict(tomlfile.read_toml(path), where=str(path))


class _Fields:
    """Reads one TOML table, checking that every key is known and every value in range."""

    def __init__(self, raw: Any, where: str, label: str, allowed: tuple[str, ...]):
        if not isinstance(raw, Mapping):
            raise SeedchipError(f"{where}: {label or 'the file'} must be a table")
        unknown = sorted(set(raw) - set(allowed))
        if unknown:
            raise SeedchipError(f"{where}: unknown key '{label}{unknown[0]}' "
                                f"(allowed: {', '.join(allowed)})")
        self.raw, self.where, self.label = raw, where, label

    def _name(self, key: str) -> str:
        return f"{self.where}: {self.label}{key}"

    def integer(self, key: str, default: int | None = None, minimum: int = 1) -> int:
        if key not in self.raw and default is not None:
            return default
        value = self.raw.get(key)
        if value is None:
            raise SeedchipError(f"{self._name(key)} is missing")
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise SeedchipError(f"{self._name(key)} must be an integer >= {minimum}, got {value!r}")
        return value

    def number(self, key: str, default: float) -> float:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 10:
            raise SeedchipError(f"{self._name(key)} must be a number in [0, 10), got {value!r}")
        return float(value)

    def text(self, key: str, choices: tuple[str, ...] | None = None,
             default: str | None = None) -> str:
        value = self.raw.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise SeedchipError(f"{self._name(key)} must be a non-empty string")
        if choices and value not in choices:
            raise SeedchipError(f"{self._name(key)} must be one of {', '.join(choices)}, "
                                f"got {value!r}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            raise SeedchipError(f"{self._name(key)} must be true or false, got {value!r}")
        return value

    def widths(self, key: str) -> tuple[int, ...]:
        value = self.raw.get(key)
        if (not isinstance(value, list) or not value
                or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value)):
            raise SeedchipError(f"{self._name(key)} must be a non-empty list of positive "
                                f"integers, got {value!r}")
        return tuple(value)

    def tables(self, key: str) -> tuple[Table, ...]:
        value = self.raw.get(key)
        if not isinstance(value, list) or not value:
            raise SeedchipError(f"{self._name(key)} must be a non-empty list of tables "
                                "like {rows = 1000000, pooling = 20}")
        result = []
        for index, item in enumerate(value):
            fields = _Fields(item, self.where, f"{self.label}{key}[{index}].",
                             ("rows", "pooling", "count"))
            result.append(Table(rows=fields.integer("rows"), pooling=fields.integer("pooling"),
                                count=fields.integer("count", default=1)))
        return tuple(result)


_COMMON = ("name", "kind", "description", "source")
_DLRM_KEYS = (*_COMMON, "tables", "embedding_dim", "dense_features", "bottom_mlp", "top_mlp",
              "interaction", "cross_layers", "cross_rank", "zipf_s", "candidates")
_TWO_TOWER_KEYS = (*_COMMON, "user_tables", "item_tables", "embedding_dim", "tower_mlp",
                   "items", "candidates", "top_k", "zipf_s")
_DECODER_KEYS = (*_COMMON, "layers", "d_model", "n_heads", "n_kv_heads", "head_dim", "ffn_dim",
                 "vocab", "max_context", "activation", "norm", "tied_embeddings",
                 "parallel_block", "bias", "moe")
_MOE_KEYS = ("n_experts", "top_k", "n_shared_experts", "expert_ffn_dim", "first_dense_layers")


def workload_from_dict(raw: Mapping[str, Any], where: str) -> WorkloadConfig:
    """Validate a raw workload dict (as parsed from TOML) into its config class."""
    if not isinstance(raw, Mapping):
        raise SeedchipError(f"{where}: must be a table")
    kind = _Fields({"kind": raw.get("kind")}, where, "", ("kind",)).text("kind", KINDS)
    builder = {"dlrm": _dlrm, "two-tower": _two_tower, "decoder": _decoder}[kind]
    return builder(raw, where)


def _common(fields: _Fields) -> dict[str, str]:
    return {"name": fields.text("name"), "description": fields.text("description"),
            "source": fields.text("source")}


def _dlrm(raw: Mapping[str, Any], where: str) -> RecConfig:
    f = _Fields(raw, where, "", _DLRM_KEYS)
    interaction = f.text("interaction", INTERACTIONS)
    config = RecConfig(
        **_common(f), tables=f.tables("tables"), embedding_dim=f.integer("embedding_dim"),
        dense_features=f.integer("dense_features"), bottom_mlp=f.widths("bottom_mlp"),
        top_mlp=f.widths("top_mlp"), interaction=interaction,
        cross_layers=f.integer("cross_layers", default=0, minimum=0),
        cross_rank=f.integer("cross_rank", default=0, minimum=0),
        zipf_s=f.number("zipf_s", DEFAULT_ZIPF_S), candidates=f.integer("candidates"))
    if config.bottom_mlp[-1] != config.embedding_dim:
        raise SeedchipError(f"{where}: bottom_mlp must end at embedding_dim "
                            f"({config.embedding_dim}), got {config.bottom_mlp[-1]}")
    if (interaction == "dcn") != (config.cross_layers > 0):
        raise SeedchipError(f"{where}: cross_layers must be > 0 exactly when interaction = 'dcn'")
    return config


def _two_tower(raw: Mapping[str, Any], where: str) -> TwoTowerConfig:
    f = _Fields(raw, where, "", _TWO_TOWER_KEYS)
    config = TwoTowerConfig(
        **_common(f), user_tables=f.tables("user_tables"), item_tables=f.tables("item_tables"),
        embedding_dim=f.integer("embedding_dim"), tower_mlp=f.widths("tower_mlp"),
        items=f.integer("items"), candidates=f.integer("candidates"), top_k=f.integer("top_k"),
        zipf_s=f.number("zipf_s", DEFAULT_ZIPF_S))
    if config.candidates > config.items:
        raise SeedchipError(f"{where}: candidates ({config.candidates}) exceeds items "
                            f"({config.items})")
    return config


def _decoder(raw: Mapping[str, Any], where: str) -> LlmConfig:
    f = _Fields(raw, where, "", _DECODER_KEYS)
    moe = _Fields(raw.get("moe", {}), where, "moe.", _MOE_KEYS)
    n_experts = moe.integer("n_experts", default=0, minimum=0)
    config = LlmConfig(
        **_common(f), layers=f.integer("layers"), d_model=f.integer("d_model"),
        n_heads=f.integer("n_heads"), n_kv_heads=f.integer("n_kv_heads"),
        head_dim=f.integer("head_dim"), ffn_dim=f.integer("ffn_dim"), vocab=f.integer("vocab"),
        max_context=f.integer("max_context"), activation=f.text("activation", ACTIVATIONS),
        norm=f.text("norm", NORMS), tied_embeddings=f.flag("tied_embeddings", False),
        parallel_block=f.flag("parallel_block", False), bias=f.flag("bias", False),
        n_experts=n_experts,
        top_k=moe.integer("top_k", minimum=1) if n_experts else 0,
        n_shared_experts=moe.integer("n_shared_experts", default=0, minimum=0),
        expert_ffn_dim=moe.integer("expert_ffn_dim") if n_experts else 0,
        first_dense_layers=moe.integer("first_dense_layers", default=0, minimum=0))
    if config.n_heads % config.n_kv_heads:
        raise SeedchipError(f"{where}: n_kv_heads ({config.n_kv_heads}) must divide n_heads "
                            f"({config.n_heads})")
    if config.top_k > config.n_experts:
        raise SeedchipError(f"{where}: moe.top_k ({config.top_k}) exceeds moe.n_experts "
                            f"({config.n_experts})")
    if config.first_dense_layers >= config.layers and config.is_moe:
        raise SeedchipError(f"{where}: moe.first_dense_layers must be below layers")
    if config.is_moe and config.activation != "swiglu":
        raise SeedchipError(f"{where}: MoE experts are modelled as SwiGLU FFNs; "
                            "set activation = 'swiglu'")
    return config
