"""Roofline timing of one op, and of a graph of ops, on one chip.

    total = max(work, network) + overhead,
    work = max(compute, memory) + (1 - overlap) x min(compute, memory)

- overlap: how much of the shorter of compute and memory an op hides under the longer; 1
  (all of it) except for ops on the matrix engine of a chip whose file gives a
  ``matrix_overlap`` (calibrate measures it on the host: its GEMM kernels stall on their
  weight stream instead of computing under it, unlike accelerators' double-buffered
  operand loads; a matrix-vector product, whose every weight feeds one multiply-add as
  it arrives, hides what the file's ``matvec_overlap`` says, and decode attention what
  its ``attention_overlap`` says, each the matrix overlap unless given), and row-wise
  ops (norms, softmax: each row reduced before it is written) on a chip whose file gives
  a ``row_overlap`` (a CPU core works through one row's read, reduction and write in
  turn; a GPU keeps many rows in flight per core).

- compute: flops / (peak of the op's engine and dtype x achievable fraction), plus its
  exp/tanh evaluations at the chip's transcendental rate and reciprocals at its reciprocal
  rate (the transcendental rate unless the file gives one), the shorter of those two
  partly hidden under the longer where the file gives a ``reciprocal_overlap`` (a CPU's
  divider works beside its FMA pipes; on a GPU one special-function unit does both), a
  top-k's comparisons at the chip's selection rate rather than its peak (the vector rate
  unless the file gives one; calibrate measures the host's with its top-k kernel), plus
  the chip's fixed cost per output dot product of a matrix op and per element it loads
  into its units (`Op.loaded_elements`: weights, keys and values; each zero unless
  the chip file gives one; calibrate measures both on the host).
- memory: a hierarchical roofline. Each operand is served by the fastest level that holds
  it (streamed operands: the first level that fits it and the op's smaller ones; gathered
  embedding rows: by the Zipf hit rate of the rows that fit, the hottest in SRAM, the
  recently used in a hardware cache). A level with a ``stream_capacity`` (a cache that
  replaces at random, not least recently used) or a ``stream_kept`` (one that protects
  part of itself from streams) keeps a share of a read stream too large for it between
  two passes (`retained_share`; calibrate measures both for the host's L3), which the
  next level does not serve. Its bytes pass
  through that level and every faster one; each level's time is the bytes read through
  it over its achievable bandwidth plus the bytes written over its write bandwidth (the
  read bandwidth unless the chip file gives one). A random row read pays whole transactions: the first
  at the level's gather bandwidth, the rest of the row at its gather tail bandwidth
  (streaming unless the chip file says otherwise). On a chip whose gathers are
  latency-bound (``gathers = "latency"``: CPU cores), the lookups' costs also add up, each
  at the level that serves it, and the op takes at least that long. The op's
  memory time is the slowest level's.
- network: collectives over the chip's links (`perfmodel.collectives`).
- overhead: the chip's fixed per-op cost (kernel launch, dispatch). On a chip whose file
  gives a ``cold_overhead`` (the calibrated host: its dispatch code runs on the caches
  its ops stream through) a call costs more once the traffic since its last call has
  evicted that code and its data: the evicted share is 1 - exp(-(traffic /
  cold_overhead_traffic)^2) (little until the traffic nears the cache's size), the
  traffic being the bytes touched in between (an op run repeatedly on its own: its own;
  in a graph: the graph's, spread over the node's count).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from perfmodel.chip import Chip, MemoryLevel
from perfmodel.collectives import collective_time_s
from perfmodel.ops import Collective, Node, Op, OpKind, Operand
from perfmodel.skew import lru_hit_rate, repeat_share, zipf_hit_rate


PERSISTENT_ROLES = ("weight", "kv")
"""Operands that live across ops and requests (weights, KV caches), not made by the op
before."""


@dataclass(frozen=True)
class Residency:
    """What competes for on-chip memory when an op runs inside a larger graph.

    ``persistent_footprint_bytes``: the weights and KV caches (state that outlives one op)
    that must all fit a level for any of them to
    stay there (None: the op's own weights, i.e. the op run repeatedly on its own).
    ``table_share``: the share of each level's capacity this op's embedding table may use.
    ``traffic_between_calls_bytes``: the bytes touched between two calls of the op (None:
    the op's own, i.e. the op run repeatedly on its own).
    """

    persistent_footprint_bytes: float | None = None
    table_share: float = 1.0
    traffic_between_calls_bytes: float | None = None


@dataclass(frozen=True)
class LevelTime:
    """Traffic through one memory level and the time it takes."""

    level: str
    bytes: float
    seconds: float


@dataclass(frozen=True)
class OpTiming:
    compute_s: float
    memory_s: float
    network_s: float
    overhead_s: float
    total_s: float
    bound: str
    flops: float
    bytes: float
    levels: tuple[LevelTime, ...]

    @property
    def intensity_flops_per_byte(self) -> float:
        """Flops per byte of compulsory traffic (the roofline's x axis)."""
        return self.flops / self.bytes if self.bytes else math.inf


def time(op: Op, chip: Chip, residency: Residency = Residency()) -> OpTiming:
    """Roofline time of one execution of ``op`` on ``chip``.

    Written with numpy operations only, so that a chip whose numeric fields are arrays
    (one element per configuration of a sweep) yields arrays of times; a plain chip
    yields floats.
    """
    compute_s = ((op.flops() - op.comparisons()) / _compute_rate(op, chip)
                 + op.comparisons() / (chip.comparisons_per_s * chip.compute_efficiency)
                 + _special_s(op, chip)
                 + op.dot_products() * chip.dot_overhead_s
                 + op.loaded_elements() * chip.element_overhead_s
                 if op.engine != "network" else 0.0)
    levels = _level_times(op, chip, residency)
    memory_s = functools.reduce(np.maximum, (level.seconds for level in levels), 0.0)
    if chip.gathers_latency_bound:
        memory_s = np.maximum(memory_s, sum(
            _gather_served_s(operand, chip.memory, residency.table_share)
            for operand in op.operands() if operand.is_gather))
    network_s = (collective_time_s(op.collective, op.payload_bytes, op.chips, chip.link)
                 if isinstance(op, Collective) else 0.0)
    overhead_s = _overhead_s(op, chip, residency)
    work_s = overlapped(compute_s, memory_s, _overlap(op, chip))
    busy_s = np.maximum(work_s, network_s)
    bound = np.select(
        [overhead_s > busy_s, network_s > work_s, compute_s >= memory_s],
        ["overhead", "network", "compute"], default="memory")[()]
    return OpTiming(compute_s=compute_s, memory_s=memory_s, network_s=network_s,
                    overhead_s=overhead_s, total_s=busy_s + overhead_s,
                    bound=str(bound) if np.ndim(bound) == 0 else bound,
                    flops=op.flops(), bytes=op.bytes(), levels=levels)


def _overlap(op: Op, chip: Chip) -> float:
    """The share of the shorter of compute and memory that ``op`` hides under the longer."""
    if op.engine != "matrix":
        return chip.row_overlap if op.row_wise else 1.0
    if op.kind is OpKind.ATTENTION_DECODE:
        return chip.attention_overlap
    return chip.matvec_overlap if op.matrix_vector else chip.matrix_overlap


def _special_s(op: Op, chip: Chip) -> float:
    """Seconds of the op's exp/tanh and reciprocal evaluations: the longer of the two plus
    the share of the shorter that the chip's ``reciprocal_overlap`` leaves unhidden."""
    exp_s = op.transcendentals() / (chip.transcendental_per_s * chip.compute_efficiency)
    reciprocal_s = op.reciprocals() / (chip.reciprocal_per_s * chip.compute_efficiency)
    return overlapped(exp_s, reciprocal_s, chip.reciprocal_overlap)


def overlapped(first_s: float, second_s: float, overlap: float) -> float:
    """Two times of which the share ``overlap`` of the shorter runs under the longer."""
    return (np.maximum(first_s, second_s)
            + (1.0 - overlap) * np.minimum(first_s, second_s))


def touched_bytes(op: Op) -> float:
    """Distinct bytes one call touches: each operand's traffic, at most its footprint (a
    gather reads no more of a table than the table)."""
    return sum(min(o.bytes, o.footprint_bytes) for o in op.operands())


def _overhead_s(op: Op, chip: Chip, residency: Residency) -> float:
    """The chip's fixed cost of a call, more on a chip with a ``cold_op_overhead_s`` as the
    traffic since the op's last call evicts its dispatch code and data."""
    if chip.cold_op_overhead_s is None:
        return chip.op_overhead_s
    traffic = residency.traffic_between_calls_bytes
    if traffic is None:
        traffic = touched_bytes(op)
    evicted = -np.expm1(-(traffic / chip.cold_overhead_traffic_bytes) ** 2)
    return chip.op_overhead_s + (chip.cold_op_overhead_s - chip.op_overhead_s) * evicted


def _compute_rate(op: Op, chip: Chip) -> float:
    """Achievable flop/s of the engine the op runs on."""
    peak = (chip.peak_flops_per_s(op.compute_dtype) if op.engine == "matrix"
            else chip.vector_flops_per_s)
    return peak * chip.compute_efficiency


def _level_times(op: Op, chip: Chip, residency: Residency) -> tuple[LevelTime, ...]:
    """Bytes through each memory level (fastest first) and the seconds they take.

    A streamed operand lives in the fastest level that holds it together with the op's
    other streamed operands no larger than it (an input and output of 30 MB each do not
    both stay in a 32 MB cache; a small activation stays while large weights stream
    past); weights and KV caches inside a graph compete with the graph's other weights and
    caches instead. Since capacities grow outwards, an operand's bytes pass through level j
    exactly when level j-1 is too small.
    """
    levels = chip.memory
    read_bytes = [0.0] * len(levels)
    write_bytes = [0.0] * len(levels)
    gather_bytes = [0.0] * len(levels)
    tail_bytes = [0.0] * len(levels)
    operands = op.operands()
    streamed = [o.footprint_bytes for o in operands if not o.is_gather]
    for operand in operands:
        if operand.is_gather:
            _add_gather(operand, levels, residency.table_share, gather_bytes, tail_bytes)
            continue
        footprint = sum(size for size in streamed if size <= operand.footprint_bytes)
        if operand.role in PERSISTENT_ROLES and residency.persistent_footprint_bytes is not None:
            footprint = residency.persistent_footprint_bytes
        traffic = write_bytes if operand.written else read_bytes
        traffic[0] = traffic[0] + operand.bytes
        for index in range(1, len(levels)):
            inner = levels[index - 1]
            spills = np.greater(footprint, inner.capacity_bytes)
            if not operand.written and (inner.stream_capacity_bytes is not None
                                        or inner.stream_kept_bytes is not None):
                spills = spills * (1.0 - retained_share(footprint, inner.stream_capacity_bytes,
                                                        inner.stream_kept_bytes))
            traffic[index] = traffic[index] + operand.bytes * spills
    return tuple(
        LevelTime(level.name, read + write + gather + tail,
                  read / level.achievable_bytes_per_s
                  + write / level.achievable_write_bytes_per_s
                  + gather / level.gather_bytes_per_s + tail / level.gather_tail_bytes_per_s)
        for level, read, write, gather, tail in zip(levels, read_bytes, write_bytes,
                                                    gather_bytes, tail_bytes))


def retained_share(footprint_bytes: float, capacity_bytes: float | None,
                   kept_bytes: float | None = None) -> float:
    """Share of a stream larger than a cache, read over and over, that the cache keeps
    between two passes: with random replacement of ``capacity_bytes`` C, the root h < 1
    of h = exp(-(1 - h) F / C) (a line survives the (1 - h) F bytes of misses inserted
    between two of its uses, each evicting it with chance line / C; 1 for F <= C), and at most
    ``kept_bytes`` / F (a replacement policy that protects part of the cache from a
    stream keeps about that many bytes of it, however large it is). Least recently used
    replacement keeps nothing of a stream larger than the cache (both None). This host's
    L3 (32 MiB) kept about 13 MB of a one-row GEMV's weights of 32 to 64 MiB between
    calls, in either of its states, where random replacement fitted at 64 MiB would keep
    30 MB of 32 MiB; of 96 MiB it kept 5 MB in one state, 13 in the other."""
    footprint = np.asarray(footprint_bytes, dtype=float)
    share = np.ones_like(footprint)
    if capacity_bytes is not None:
        ratio = np.maximum(footprint / capacity_bytes, 1.0 + 1e-9)
        root = np.zeros_like(ratio)
        for _ in range(60):  # Newton from 0 rises monotonically to the root (concave curve)
            survive = np.exp(-(1.0 - root) * ratio)
            root = root - (root - survive) / (1.0 - ratio * survive)
        share = np.where(footprint <= capacity_bytes, 1.0, root)
    if kept_bytes is not None:
        share = np.minimum(share, kept_bytes / np.maximum(footprint, 1e-300))
    return share[()]


def _lookups_reaching(operand: Operand, levels: Sequence[MemoryLevel], share: float) -> list:
    """The share of an operand's lookups that reach each level: those whose rows are not
    among the rows cached by any faster level (its shared capacity, one core's cache
    where each core has its own; ``share`` of it for a table of a graph, whose other
    tables evict its rows between two calls). Software places the hottest rows in SRAM;
    a hardware cache keeps the recently used ones (LRU), and within one call also the
    rows this call read before, using all of its capacity while the op runs, up to the
    call's repeats (`repeat_share`): each of dlrm-rm2-small's 32 tables shares L3 with
    the others between calls, yet 80% of a call's 61,440 lookups reread a row of that
    call (predicted 25-35% slow without them)."""
    table_rows = operand.footprint_bytes / operand.row_bytes
    repeats = repeat_share(operand.gather_rows, table_rows, operand.zipf_s)
    reaching = [1.0]
    for level in levels[:-1]:
        cached_rows = level.shared_capacity_bytes / operand.row_bytes
        if level.kind == "cache":
            hits = np.maximum(lru_hit_rate(cached_rows * share, table_rows, operand.zipf_s),
                              np.minimum(lru_hit_rate(cached_rows, table_rows, operand.zipf_s),
                                         repeats))
        else:
            hits = zipf_hit_rate(cached_rows * share, table_rows, operand.zipf_s)
        reaching.append(1.0 - hits)
    return reaching


def _add_gather(operand: Operand, levels: Sequence[MemoryLevel], share: float,
                gather_bytes: list, tail_bytes: list) -> None:
    """Random row reads: level j sees the lookups that reach it (``_lookups_reaching``).

    A row costs whole transactions of that level: the first is a random access, paid at
    the level's gather bandwidth; the rest of the row follows it, at the level's gather
    tail bandwidth (streaming bandwidth unless measured otherwise: on a CPU the lines
    after the first of a random row arrive at well under streaming speed).
    """
    reaching_levels = _lookups_reaching(operand, levels, share)
    for index, (level, reaching) in enumerate(zip(levels, reaching_levels)):
        transactions = np.ceil(operand.row_bytes / level.transaction_bytes)
        rows = operand.gather_rows * reaching
        gather_bytes[index] = gather_bytes[index] + rows * level.transaction_bytes
        tail_bytes[index] = tail_bytes[index] + rows * (transactions - 1) * level.transaction_bytes


def _gather_served_s(operand: Operand, levels: Sequence[MemoryLevel], share: float) -> float:
    """Random row reads on a chip whose gathers are latency-bound: each lookup costs what a
    row costs at the level that serves it (the fastest that caches it), and the costs add.

    A level's cost per row is its first transaction at the gather bandwidth plus the rest
    at the gather tail bandwidth; as calibrated, it includes passing the faster levels.
    """
    # never more lookups past a level than reached it; none past the last
    reaching = [*itertools.accumulate(_lookups_reaching(operand, levels, share), np.minimum), 0.0]
    seconds = 0.0
    for level, here, beyond in zip(levels, reaching, reaching[1:]):
        transactions = np.ceil(operand.row_bytes / level.transaction_bytes)
        per_row_s = (level.transaction_bytes / level.gather_bytes_per_s
                     + (transactions - 1) * level.transaction_bytes / level.gather_tail_bytes_per_s)
        seconds = seconds + operand.gather_rows * (here - beyond) * per_row_s
    return seconds


# ---------------------------------------------------------------- graphs


@dataclass(frozen=True)
class NodeTiming:
    node: Node
    timing: OpTiming

    @property
    def total_s(self) -> float:
        return self.timing.total_s * self.node.count


@dataclass(frozen=True)
class KindTiming:
    """Time, work and traffic of all ops of one kind in a graph."""

    kind: OpKind
    total_s: float
    share: float
    flops: float
    bytes: float
    bound: str


@dataclass(frozen=True)
class GraphTiming:
    nodes: tuple[NodeTiming, ...]

    @property
    def total_s(self) -> float:
        return sum(node.total_s for node in self.nodes)

    @property
    def flops(self) -> float:
        return sum(n.timing.flops * n.node.count for n in self.nodes)

    @property
    def bytes(self) -> float:
        return sum(n.timing.bytes * n.node.count for n in self.nodes)

    @property
    def bound(self) -> str:
        """The bound that accounts for most of the graph's time."""
        seconds: dict[str, float] = defaultdict(float)
        for node in self.nodes:
            seconds[node.timing.bound] += node.total_s
        return max(seconds, key=seconds.get) if seconds else "overhead"

    def by_kind(self) -> list[KindTiming]:
        """Per-op-kind breakdown, largest time share first."""
        groups: dict[OpKind, list[NodeTiming]] = defaultdict(list)
        for node in self.nodes:
            groups[node.node.op.kind].append(node)
        total = self.total_s or 1.0
        rows = [KindTiming(kind, sub.total_s, sub.total_s / total, sub.flops, sub.bytes, sub.bound)
                for kind, sub in ((kind, GraphTiming(tuple(group)))
                                  for kind, group in groups.items())]
        return sorted(rows, key=lambda row: row.total_s, reverse=True)


def graph_residency(nodes: Sequence[Node]) -> dict[int, Residency]:
    """Residency of each node inside the whole graph (keyed by position).

    All weights and KV caches of the graph compete for on-chip space together (a layer's
    weights or KV cache stay on chip only when every layer's do: a decode step streams
    every layer's weights between two reads of one layer's cache); embedding tables share
    each level's capacity in proportion to their sizes. Between two calls of a node, the
    graph's touched bytes over the node's count pass (a node of every layer runs once a
    layer).
    """
    touched = sum(touched_bytes(node.op) * node.count for node in nodes)
    persistent = sum(o.footprint_bytes * node.count for node in nodes
                     for o in node.op.operands() if o.role in PERSISTENT_ROLES)
    tables = {index: sum(o.footprint_bytes for o in node.op.operands() if o.role == "table")
              for index, node in enumerate(nodes)}
    all_tables = sum(tables[i] * nodes[i].count for i in tables) or 1.0
    return {index: Residency(persistent_footprint_bytes=persistent,
                             table_share=tables[index] / all_tables if tables[index] else 1.0,
                             traffic_between_calls_bytes=touched / max(nodes[index].count, 1))
            for index in range(len(nodes))}


def time_graph(nodes: Sequence[Node], chip: Chip) -> GraphTiming:
    """Time every node of a graph with the residency of the whole graph."""
    residency = graph_residency(nodes)
    return GraphTiming(tuple(NodeTiming(node, time(node.op, chip, residency[index]))
                             for index, node in enumerate(nodes)))
