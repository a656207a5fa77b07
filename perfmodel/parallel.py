"""How one model replica is laid out over chips, and the order in which layouts are tried.

A `Layout` names the parallel degrees of one replica (one copy of the model that serves
requests on its own); a replica uses ``tp x pp x ep x shards`` chips.

Generation (decoder LLMs):
- tp, tensor parallel: attention heads and FFN columns/rows (and the vocabulary of the
  embedding and LM head) are split over tp chips, so each holds 1/tp of those weights;
  two all-reduces per layer (one per parallel block) of the activation [tokens, d_model].
  tp must divide the heads; KV heads are split when tp divides them and replicated when
  they divide tp.
- pp, pipeline parallel: layers are split into pp stages of ceil(layers / pp); a token
  passes every stage in turn plus pp - 1 point-to-point sends of its activation. A batch
  of B sequences runs as pp microbatches of ceil(B / pp), one per stage, so the replica
  advances all B sequences one token in one pass of a microbatch through all stages.
- ep, expert parallel (MoE only): each of ep chips holds 1/ep of the routed experts and a
  full copy of everything else, serving 1/ep of the sequences (data-parallel attention);
  routed tokens travel by an all-to-all dispatch and an all-to-all combine per MoE layer.
Recommendation (DLRM, two-tower):
- shards: embedding tables (and a two-tower item matrix) are split row-wise over the
  shards, each chip holds 1/shards of every table; the MLPs are replicated (data
  parallel: each chip runs 1/shards of the batch) and the pooled embeddings
  [batch, tables, dim] travel by one all-to-all.

Collectives use the chip's link (`perfmodel.collectives`). tp x ep stays within the
chip's scale-up domain (``link.max_chips``); pipeline stages and embedding shards may go
beyond it, and are then assumed to use the same link bandwidth and latency (a
simplification: real scale-out networks are slower).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterator

from perfmodel.errors import SeedchipError

MAX_PIPELINE_STAGES = 64
MAX_SHARDS = 4096


@dataclass(frozen=True)
class Layout:
    """Parallel degrees of one replica."""

    tp: int = 1
    pp: int = 1
    ep: int = 1
    shards: int = 1

    def __post_init__(self) -> None:
        for name in ("tp", "pp", "ep", "shards"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SeedchipError(f"--{name} must be an integer >= 1, got {value!r}")
        if self.shards > 1 and (self.tp, self.pp, self.ep) != (1, 1, 1):
            raise SeedchipError("--shards (embedding sharding) applies to recommendation "
                                "models; --tp/--pp/--ep to generation models, not both")

    @property
    def chips(self) -> int:
        return self.tp * self.pp * self.ep * self.shards

    @property
    def is_single(self) -> bool:
        return self.chips == 1

    def describe(self) -> str:
        """``tp2 pp1`` style text, only the degrees above 1 (``1 chip`` when none)."""
        parts = [f"{name}{getattr(self, name)}" for name in ("tp", "pp", "ep", "shards")
                 if getattr(self, name) > 1]
        return " ".join(parts) if parts else "1 chip"


SINGLE = Layout()


def generation_layouts(max_chips: int, moe: bool) -> Iterator[Layout]:
    """Generation layouts in search order: fewest chips first; at equal chips, fewer
    pipeline stages, then fewer expert shards (tensor parallel preferred, as its
    collectives stay inside the scale-up domain). tp and ep are powers of two with
    tp x ep <= ``max_chips``; pp runs 1 .. MAX_PIPELINE_STAGES."""
    domain = [2**i for i in range(int(math.log2(max(1, max_chips))) + 1)]
    layouts = [Layout(tp=tp, pp=pp, ep=ep)
               for tp in domain for ep in (domain if moe else [1]) if tp * ep <= max_chips
               for pp in range(1, MAX_PIPELINE_STAGES + 1)]
    yield from sorted(layouts, key=lambda lay: (lay.chips, lay.pp, lay.ep))


def recommendation_layouts() -> Iterator[Layout]:
    """Embedding shards 1, 2, 3, ... up to MAX_SHARDS."""
    for shards in range(1, MAX_SHARDS + 1):
        yield Layout(shards=shards)


def first_layout(candidates: Iterator[Layout], fits: Callable[[Layout], bool],
                 what: str) -> Layout:
    """The first candidate layout that ``fits``; SeedchipError naming ``what`` if none."""
    tried = 0
    for layout in candidates:
        tried += 1
        try:
            if fits(layout):
                return layout
        except SeedchipError:
            continue  # a layout the model cannot take (tp not dividing the heads...)
    raise SeedchipError(f"{what}: no layout fits memory (tried {tried} layouts, up to "
                        f"{MAX_PIPELINE_STAGES} pipeline stages / {MAX_SHARDS} shards)")
