"""Operator IR: one frozen dataclass per op kind, built with its shape and then asked questions.

Each op answers ``flops()``, ``bytes()`` (compulsory traffic: every operand moved once
per pass) and ``operands()``: the pieces of data it touches, each with its size and how it
is accessed, so that the roofline can decide which memory level serves it. Ops know
nothing about chips.

Conventions: ``dtype`` is the compute and activation precision; weights may be stored
narrower (``weight_dtype``, e.g. int8 weight-only); int8 embedding rows are row-wise
quantised with an fp32 scale and bias per row (8 extra bytes); outputs of embedding
pooling are fp32.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, fields
from typing import ClassVar, Literal

from perfmodel.errors import SeedchipError

DTYPE_BYTES = {"fp32": 4, "tf32": 4, "bf16": 2, "fp16": 2, "fp8": 1, "int8": 1}
ROWWISE_QUANT_BYTES = 8  # fp32 scale + fp32 bias per int8 embedding row


class OpKind(str, enum.Enum):
    GEMM = "gemm"
    EMBEDDING_BAG = "embedding_bag"
    INTERACTION = "interaction"
    ATTENTION_PREFILL = "attention_prefill"
    ATTENTION_DECODE = "attention_decode"
    NORM = "norm"
    ELEMENTWISE = "elementwise"
    SOFTMAX = "softmax"
    TOPK = "topk"
    SAMPLING = "sampling"
    COLLECTIVE = "collective"


Role = Literal["weight", "activation", "kv", "table"]


@dataclass(frozen=True)
class Operand:
    """Data an op touches.

    ``bytes`` is the traffic per pass; ``footprint_bytes`` the size of the structure it
    comes from (decides which memory level can hold it). ``gather_rows`` > 0 marks random
    row reads: that many rows of ``row_bytes`` each, from a table of ``footprint_bytes``
    with Zipf exponent ``zipf_s`` (0 = uniform) over its rows. ``written`` marks data the
    op stores (outputs, new cache entries) rather than reads.
    """

    name: str
    role: Role
    bytes: float
    footprint_bytes: float
    gather_rows: float = 0.0
    row_bytes: float = 0.0
    zipf_s: float = 0.0
    written: bool = False

    @property
    def is_gather(self) -> bool:
        return self.gather_rows > 0


def stream(name: str, role: Role, nbytes: float) -> Operand:
    """An operand read once, whole: traffic equals its footprint."""
    return Operand(name, role, nbytes, nbytes)


def written(name: str, role: Role, nbytes: float) -> Operand:
    """An operand written once, whole (an output)."""
    return Operand(name, role, nbytes, nbytes, written=True)


@dataclass(frozen=True)
class Cost:
    """Work and traffic; costs add up and scale by repeat counts."""

    flops: float = 0.0
    bytes: float = 0.0

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.flops + other.flops, self.bytes + other.bytes)

    def __mul__(self, count: float) -> Cost:
        return Cost(self.flops * count, self.bytes * count)

    __rmul__ = __mul__

    @property
    def intensity_flops_per_byte(self) -> float:
        return self.flops / self.bytes if self.bytes else math.inf


class Op:
    """Base of every op: validation of fields and the questions derived from operands()."""

    kind: ClassVar[OpKind]
    engine: ClassVar[Literal["matrix", "vector", "network"]] = "vector"
    row_wise: ClassVar[bool] = False
    """Each row is reduced (max, sum of squares) before any of it is written, so a core
    working through one row at a time alternates reading, computing and writing instead
    of overlapping them (the chip's ``row_overlap``)."""

    @property
    def matrix_vector(self) -> bool:
        """A matrix op that uses each weight once (one row of activations: a decode step
        at batch 1): its multiply-adds consume the weight stream as it arrives, with no
        register tile to fill between loads (the chip's ``matvec_overlap``)."""
        return False

    def __post_init__(self) -> None:
        for spec in fields(self):  # type: ignore[arg-type]
            value = getattr(self, spec.name)
            if spec.name.endswith("dtype") and value is not None and value not in DTYPE_BYTES:
                raise SeedchipError(f"{type(self).__name__}.{spec.name}: unknown dtype {value!r} "
                                    f"(known: {', '.join(DTYPE_BYTES)})")
            if spec.type in ("int", int) and (isinstance(value, bool) or not isinstance(value, int)
                                              or value < _minimum(spec.name)):
                raise SeedchipError(f"{type(self).__name__}.{spec.name} must be an integer >= "
                                    f"{_minimum(spec.name)}, got {value!r}")

    def _require_choice(self, field_name: str, options) -> None:
        """Raise SeedchipError unless ``self.<field_name>`` is one of ``options``."""
        value = getattr(self, field_name)
        if value not in options:
            raise SeedchipError(f"{type(self).__name__}.{field_name}: unknown {value!r} "
                                f"(known: {', '.join(options)})")

    @property
    def compute_dtype(self) -> str:
        return getattr(self, "dtype", "fp32")

    def flops(self) -> float:
        raise NotImplementedError

    def transcendentals(self) -> float:
        """exp/tanh evaluations, counted apart from flops: they cost several flops on SIMD
        units and run on special-function units of their own on GPUs."""
        return 0.0

    def reciprocals(self) -> float:
        """1/x evaluations, counted apart from flops: the divider's work on a CPU, the
        special-function unit's on a GPU."""
        return 0.0

    def dot_products(self) -> float:
        """Outputs that are each a reduction over an inner dimension (matrix ops). Beyond
        its multiply-adds each costs a fixed amount on some chips (a CPU's sum across SIMD
        lanes and store; `Chip.dot_overhead_s`), which dominates when the inner dimension
        is short."""
        return 0.0

    def comparisons(self) -> float:
        """Comparisons of a top-k selection, counted in flops(): branchy work that runs at
        the chip's selection rate (`Chip.selection_per_s`), not its SIMD peak."""
        return 0.0

    def loaded_elements(self) -> float:
        """Elements of the operand a matrix op's units load and share among its rows (a
        Gemm's weights, an attention decode's keys and values). Beyond the multiply-adds
        each costs a fixed amount on some chips (`Chip.element_overhead_s`: a CPU core's
        load through its L1 and L2), which dominates when few rows share each element
        (decode). Zero for ops whose loaded elements each serve many rows."""
        return 0.0

    def operands(self) -> tuple[Operand, ...]:
        raise NotImplementedError

    def bytes(self) -> float:
        return sum(operand.bytes for operand in self.operands())

    def weight_bytes(self) -> float:
        """Bytes of parameters (weights and embedding tables) this op owns."""
        return sum(o.footprint_bytes for o in self.operands() if o.role in ("weight", "table"))

    def cost(self) -> Cost:
        return Cost(self.flops(), self.bytes())


def _minimum(field_name: str) -> int:
    """Smallest valid value of an integer field: counts of things that may be zero are 0."""
    return 0 if field_name in ("context", "rank") else 1


def _size(dtype: str) -> float:
    return DTYPE_BYTES[dtype]


# Flops per element of each elementwise function, not counting its special functions, and
# the number of those: transcendentals (exp, tanh: the special-function unit's work on a
# GPU, a polynomial on a CPU) and reciprocals (the special-function unit again on a GPU,
# the divider on a CPU). silu x * (1 / (1 + exp(-x))) and sigmoid 1 / (1 + exp(-x)), an
# exp and a reciprocal; gelu (tanh form) 0.5 x (1 + tanh(0.798 (x + 0.0447 x^3))) as
# well, since tanh(y) = 1 - 2 / (1 + exp(2y)) (a chip with a native tanh instruction pays
# less than this counts). Counting tanh as an exp alone predicted gelu over 500k floats in
# cache at 78 us where it took 100 us, while silu over 3M (the same exp and divide) came
# within 3%.
ACTIVATION_FLOPS = {"relu": 1, "gelu": 8, "silu": 3, "sigmoid": 2}
ACTIVATION_TRANSCENDENTALS = {"gelu": 1, "silu": 1, "sigmoid": 1}
ACTIVATION_RECIPROCALS = {"gelu": 1, "silu": 1, "sigmoid": 1}
ELEMENTWISE_INPUTS = {"relu": 1, "gelu": 1, "silu": 1, "sigmoid": 1, "add": 2, "mul": 2,
                      "swiglu": 2, "copy": 1}
ELEMENTWISE_FLOPS = {**ACTIVATION_FLOPS, "add": 1, "mul": 1, "swiglu": 4, "copy": 0}
ELEMENTWISE_TRANSCENDENTALS = {**ACTIVATION_TRANSCENDENTALS, "swiglu": 1}
ELEMENTWISE_RECIPROCALS = {**ACTIVATION_RECIPROCALS, "swiglu": 1}


@dataclass(frozen=True)
class Gemm(Op):
    """``batch`` independent products [m, k] x [k, n] (+ bias, + activation).

    The second operand is a weight unless ``b_is_weight`` is False (then both are
    activations, as in a batched matmul of two activations).
    """

    kind: ClassVar[OpKind] = OpKind.GEMM
    engine: ClassVar[Literal["matrix"]] = "matrix"
    m: int
    n: int
    k: int
    batch: int = 1
    dtype: str = "bf16"
    weight_dtype: str | None = None
    bias: bool = False
    activation: str | None = None
    b_is_weight: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.activation is not None:
            self._require_choice("activation", tuple(ACTIVATION_FLOPS))

    def flops(self) -> float:
        per_output = 2 * self.k + int(self.bias) + ACTIVATION_FLOPS.get(self.activation, 0)
        return float(self.batch) * self.m * self.n * per_output

    def transcendentals(self) -> float:
        return (float(self.batch) * self.m * self.n
                * ACTIVATION_TRANSCENDENTALS.get(self.activation, 0))

    def reciprocals(self) -> float:
        return float(self.batch) * self.m * self.n * ACTIVATION_RECIPROCALS.get(self.activation, 0)

    def dot_products(self) -> float:
        return float(self.batch) * self.m * self.n

    def loaded_elements(self) -> float:
        return float(self.batch) * self.n * self.k

    @property
    def matrix_vector(self) -> bool:
        return self.m == 1 and self.b_is_weight

    def operands(self) -> tuple[Operand, ...]:
        a = _size(self.dtype)
        w = _size(self.weight_dtype or self.dtype)
        b_role: Role = "weight" if self.b_is_weight else "activation"
        result = [
            stream("a", "activation", float(self.batch) * self.m * self.k * a),
            stream("b", b_role, float(self.batch) * self.k * self.n * w),
            written("out", "activation", float(self.batch) * self.m * self.n * a),
        ]
        if self.bias:
            result.append(stream("bias", "weight", float(self.batch) * self.n * a))
        return tuple(result)


@dataclass(frozen=True)
class EmbeddingBag(Op):
    """``bags`` pooled lookups of ``pooling`` rows each from a [rows, dim] table."""

    kind: ClassVar[OpKind] = OpKind.EMBEDDING_BAG
    rows: int
    dim: int
    bags: int
    pooling: int
    dtype: str = "fp32"
    zipf_s: float = 0.0
    weighted: bool = False
    index_bytes: int = 8

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (math.isfinite(self.zipf_s) and self.zipf_s >= 0):
            raise SeedchipError(f"EmbeddingBag.zipf_s must be >= 0, got {self.zipf_s!r}")

    @property
    def row_bytes(self) -> float:
        extra = ROWWISE_QUANT_BYTES if self.dtype == "int8" else 0
        return self.dim * _size(self.dtype) + extra

    @property
    def compute_dtype(self) -> str:
        return "fp32"

    def flops(self) -> float:
        per_value = 2 if self.weighted else 1
        return float(self.bags) * self.pooling * self.dim * per_value

    def operands(self) -> tuple[Operand, ...]:
        lookups = float(self.bags) * self.pooling
        table_bytes = float(self.rows) * self.row_bytes
        result = [
            Operand("table", "table", lookups * self.row_bytes, table_bytes,
                    gather_rows=lookups, row_bytes=self.row_bytes, zipf_s=self.zipf_s),
            stream("indices", "activation", lookups * self.index_bytes),
            stream("offsets", "activation", float(self.bags) * self.index_bytes),
            written("out", "activation", float(self.bags) * self.dim * 4),
        ]
        if self.weighted:
            result.append(stream("weights", "activation", lookups * 4))
        return tuple(result)


@dataclass(frozen=True)
class DotInteraction(Op):
    """DLRM pairwise dot products of ``features`` vectors of ``dim`` per sample (upper triangle)."""

    kind: ClassVar[OpKind] = OpKind.INTERACTION
    engine: ClassVar[Literal["matrix"]] = "matrix"
    batch: int
    features: int
    dim: int
    dtype: str = "bf16"

    @property
    def pairs(self) -> int:
        return self.features * (self.features - 1) // 2

    def flops(self) -> float:
        return 2.0 * self.batch * self.pairs * self.dim

    def dot_products(self) -> float:
        return float(self.batch) * self.pairs

    def operands(self) -> tuple[Operand, ...]:
        a = _size(self.dtype)
        return (stream("features", "activation", float(self.batch) * self.features * self.dim * a),
                written("out", "activation", float(self.batch) * self.pairs * a))


@dataclass(frozen=True)
class CrossLayer(Op):
    """DCNv2 cross layer x0 * (W x + b) + x, W = U V^T of ``rank`` (rank 0: full dim x dim)."""

    kind: ClassVar[OpKind] = OpKind.INTERACTION
    engine: ClassVar[Literal["matrix"]] = "matrix"
    batch: int
    dim: int
    rank: int = 0
    dtype: str = "bf16"

    @property
    def weight_count(self) -> int:
        matrix = 2 * self.dim * self.rank if self.rank else self.dim * self.dim
        return matrix + self.dim

    def flops(self) -> float:
        return float(self.batch) * (2 * (self.weight_count - self.dim) + 3 * self.dim)

    def dot_products(self) -> float:
        """x V^T (rank outputs), then U (dim outputs); or W x (dim outputs) at full rank."""
        return float(self.batch) * (self.rank + self.dim)

    def operands(self) -> tuple[Operand, ...]:
        a = _size(self.dtype)
        activations = float(self.batch) * self.dim * a
        return (stream("x0", "activation", activations), stream("x", "activation", activations),
                stream("weights", "weight", self.weight_count * a),
                written("out", "activation", activations))


def _require_gqa(op: Op, n_heads: int, n_kv_heads: int) -> None:
    """Key/value heads must divide query heads (grouped-query attention)."""
    if n_heads % n_kv_heads:
        raise SeedchipError(f"{type(op).__name__}: n_kv_heads {n_kv_heads} must divide "
                            f"n_heads {n_heads}")


def _attention_scores(n_heads: int, head_dim: int) -> float:
    """Flops per (query, key) pair per sequence: QK^T and PV (4 hd) + softmax (4, besides
    its exp) per head."""
    return n_heads * (4.0 * head_dim + 4.0)


@dataclass(frozen=True)
class AttentionPrefill(Op):
    """Fused causal attention over ``seq`` new tokens per sequence, with GQA.

    Traffic assumes a fused (flash-style) kernel that reads Q, K, V once and writes the
    output once; the new keys and values are also written to the KV cache. Such a kernel
    walks the keys in blocks of ``key_block`` and updates each output row once per block
    it attends to (rescale and add the block's P V).
    """

    kind: ClassVar[OpKind] = OpKind.ATTENTION_PREFILL
    engine: ClassVar[Literal["matrix"]] = "matrix"
    batch: int
    seq: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    causal: bool = True
    dtype: str = "bf16"
    key_block: int = 128

    def __post_init__(self) -> None:
        super().__post_init__()
        _require_gqa(self, self.n_heads, self.n_kv_heads)

    @property
    def blocks_per_query(self) -> float:
        """Key blocks each query row attends to, summed over the rows of a sequence."""
        if not self.causal:
            return float(self.seq) * math.ceil(self.seq / self.key_block)
        full, rest = divmod(self.seq, self.key_block)  # row i sees ceil((i + 1) / key_block)
        return self.key_block * full * (full + 1) / 2 + rest * (full + 1)

    @property
    def pairs(self) -> float:
        seq = float(self.seq)
        return seq * (seq + 1) / 2 if self.causal else seq * seq

    def flops(self) -> float:
        return self.batch * self.pairs * _attention_scores(self.n_heads, self.head_dim)

    def transcendentals(self) -> float:
        return self.batch * self.pairs * self.n_heads

    def dot_products(self) -> float:
        """A score per (query, key) pair and head, and each output element once per key
        block its row attends to."""
        return self.batch * self.n_heads * (self.pairs + self.blocks_per_query * self.head_dim)

    def operands(self) -> tuple[Operand, ...]:
        a = _size(self.dtype)
        tokens = float(self.batch) * self.seq
        q_bytes = tokens * self.n_heads * self.head_dim * a
        kv_bytes = tokens * self.n_kv_heads * self.head_dim * a
        return (stream("q", "activation", q_bytes), stream("k", "activation", kv_bytes),
                stream("v", "activation", kv_bytes), written("out", "activation", q_bytes),
                written("kv_write", "kv", 2 * kv_bytes))


@dataclass(frozen=True)
class AttentionDecode(Op):
    """One new token per sequence attending to ``context`` cached tokens, with GQA, in
    blocks of ``key_block`` keys."""

    kind: ClassVar[OpKind] = OpKind.ATTENTION_DECODE
    engine: ClassVar[Literal["matrix"]] = "matrix"
    batch: int
    context: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    dtype: str = "bf16"
    kv_dtype: str | None = None
    key_block: int = 64

    def __post_init__(self) -> None:
        super().__post_init__()
        _require_gqa(self, self.n_heads, self.n_kv_heads)

    def flops(self) -> float:
        return float(self.batch) * (self.context + 1) * _attention_scores(self.n_heads,
                                                                          self.head_dim)

    def transcendentals(self) -> float:
        return float(self.batch) * (self.context + 1) * self.n_heads

    def dot_products(self) -> float:
        """A score per cached key and head, and each output element once per block of
        ``key_block`` keys (flash-decoding rescales and adds each block's P V)."""
        blocks = math.ceil((self.context + 1) / self.key_block)
        return float(self.batch) * self.n_heads * (self.context + 1 + blocks * self.head_dim)

    def loaded_elements(self) -> float:
        """Every cached key and value (and the new token's), each loaded once for all the
        query heads of its kv head."""
        return 2.0 * self.batch * (self.context + 1) * self.n_kv_heads * self.head_dim

    def operands(self) -> tuple[Operand, ...]:
        a = _size(self.dtype)
        kv = _size(self.kv_dtype or self.dtype)
        per_token_kv = 2.0 * self.n_kv_heads * self.head_dim * kv
        q_bytes = float(self.batch) * self.n_heads * self.head_dim * a
        return (stream("q", "activation", q_bytes),
                stream("kv_cache", "kv", self.batch * self.context * per_token_kv),
                written("kv_write", "kv", self.batch * per_token_kv),
                written("out", "activation", q_bytes))


NORM_FLOPS = {"rms": 4, "layer": 7}


@dataclass(frozen=True)
class Norm(Op):
    """RMSNorm or LayerNorm over ``rows`` vectors of ``dim``."""

    kind: ClassVar[OpKind] = OpKind.NORM
    row_wise: ClassVar[bool] = True
    rows: int
    dim: int
    norm: str = "rms"
    dtype: str = "bf16"

    def __post_init__(self) -> None:
        super().__post_init__()
        self._require_choice("norm", tuple(NORM_FLOPS))

    def flops(self) -> float:
        return float(self.rows) * self.dim * NORM_FLOPS[self.norm]

    def operands(self) -> tuple[Operand, ...]:
        a = _size(self.dtype)
        data = float(self.rows) * self.dim * a
        params = (1 if self.norm == "rms" else 2) * self.dim * a
        return (stream("in", "activation", data), stream("weight", "weight", params),
                written("out", "activation", data))


@dataclass(frozen=True)
class Elementwise(Op):
    """``elements`` outputs of an elementwise function (activation, residual add, swiglu...)."""

    kind: ClassVar[OpKind] = OpKind.ELEMENTWISE
    elements: int
    function: str
    dtype: str = "bf16"

    def __post_init__(self) -> None:
        super().__post_init__()
        self._require_choice("function", tuple(ELEMENTWISE_FLOPS))

    def flops(self) -> float:
        return float(self.elements) * ELEMENTWISE_FLOPS[self.function]

    def transcendentals(self) -> float:
        return float(self.elements) * ELEMENTWISE_TRANSCENDENTALS.get(self.function, 0)

    def reciprocals(self) -> float:
        return float(self.elements) * ELEMENTWISE_RECIPROCALS.get(self.function, 0)

    def operands(self) -> tuple[Operand, ...]:
        data = float(self.elements) * _size(self.dtype)
        inputs = ELEMENTWISE_INPUTS[self.function]
        return (stream("in", "activation", inputs * data), written("out", "activation", data))


@dataclass(frozen=True)
class Softmax(Op):
    """Row-wise softmax of a [rows, cols] matrix: max, subtract, exp, sum, scale per element."""

    kind: ClassVar[OpKind] = OpKind.SOFTMAX
    row_wise: ClassVar[bool] = True
    rows: int
    cols: int
    dtype: str = "fp32"

    def flops(self) -> float:
        return 4.0 * self.rows * self.cols

    def transcendentals(self) -> float:
        return float(self.rows) * self.cols

    def operands(self) -> tuple[Operand, ...]:
        data = float(self.rows) * self.cols * _size(self.dtype)
        return (stream("in", "activation", data), written("out", "activation", data))


def _selection_comparisons(rows: int, cols: int, k: int) -> float:
    """Comparisons of a heap-based top-k: cols * log2(k + 1) per row."""
    return float(rows) * cols * math.log2(k + 1)


@dataclass(frozen=True)
class TopK(Op):
    """The ``k`` largest of ``cols`` scores per row, with their indices."""

    kind: ClassVar[OpKind] = OpKind.TOPK
    rows: int
    cols: int
    k: int
    dtype: str = "fp32"

    def flops(self) -> float:
        return self.comparisons()

    def comparisons(self) -> float:
        return _selection_comparisons(self.rows, self.cols, self.k)

    def operands(self) -> tuple[Operand, ...]:
        a = _size(self.dtype)
        return (stream("scores", "activation", float(self.rows) * self.cols * a),
                written("out", "activation", float(self.rows) * self.k * (a + 8)))


@dataclass(frozen=True)
class Sampling(Op):
    """Pick the next token of ``rows`` sequences from ``vocab`` logits (top-k, top-p, draw)."""

    kind: ClassVar[OpKind] = OpKind.SAMPLING
    rows: int
    vocab: int
    top_k: int = 1
    dtype: str = "fp32"

    def flops(self) -> float:
        return 4.0 * self.rows * self.vocab + self.comparisons()

    def comparisons(self) -> float:
        return _selection_comparisons(self.rows, self.vocab, self.top_k)

    def transcendentals(self) -> float:
        return float(self.rows) * self.vocab

    def operands(self) -> tuple[Operand, ...]:
        return (stream("logits", "activation", float(self.rows) * self.vocab * _size(self.dtype)),
                written("tokens", "activation", float(self.rows) * 8))


COLLECTIVE_KINDS = ("all_reduce", "all_gather", "all_to_all", "send_recv")


@dataclass(frozen=True)
class Collective(Op):
    """A collective over ``chips`` chips; ``payload_bytes`` is each chip's full buffer.

    all_reduce / all_gather: the size of the (reduced / gathered) result per chip;
    all_to_all: the bytes each chip sends in total; send_recv: the message size.
    """

    kind: ClassVar[OpKind] = OpKind.COLLECTIVE
    engine: ClassVar[Literal["network"]] = "network"
    collective: str
    payload_bytes: float
    chips: int

    def __post_init__(self) -> None:
        super().__post_init__()
        self._require_choice("collective", COLLECTIVE_KINDS)
        if not (math.isfinite(self.payload_bytes) and self.payload_bytes >= 0):
            raise SeedchipError(f"Collective.payload_bytes must be >= 0, got {self.payload_bytes!r}")

    def flops(self) -> float:
        return 0.0

    def operands(self) -> tuple[Operand, ...]:
        return ()

    def bytes(self) -> float:
        return float(self.payload_bytes)


@dataclass(frozen=True)
class Node:
    """An op in a graph, run ``count`` times (e.g. once per layer)."""

    op: Op
    count: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 0:
            raise SeedchipError(f"Node {self.name or type(self.op).__name__}: count must be an "
                                f"integer >= 0, got {self.count!r}")

    def cost(self) -> Cost:
        return self.op.cost() * self.count


def total_cost(nodes: list[Node] | tuple[Node, ...]) -> Cost:
    """Flops and bytes of a whole graph."""
    return sum((node.cost() for node in nodes), Cost())
