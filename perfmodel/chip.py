"""Chip specifications: a frozen `Chip` loaded and validated from a TOML preset or file.

A preset lives in ``perfmodel/presets/<name>.toml``; users may pass a path to their own
file wherever a chip name is accepted, and override single fields (``hbm_bandwidth=2TB/s``,
see `apply_overrides`). Every number carries its unit in the file ("3.35 TB/s") and its
source in the section's ``source`` key; hypothetical chips say so.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from perfmodel import tomlfile, units
from perfmodel.errors import SeedchipError
from perfmodel.memory import Composition, compose, parse_composition

PRESET_DIR = Path(__file__).parent / "presets"

DTYPES = ("fp32", "tf32", "bf16", "fp16", "fp8", "int8")
ON_CHIP_KINDS = ("sram", "cache")
OFF_CHIP_KINDS = ("hbm", "lpddr", "gddr", "ddr")

# Documented defaults for achievable fractions when a file gives none.
DEFAULT_COMPUTE_EFFICIENCY = 0.7
DEFAULT_MEMORY_EFFICIENCY = 0.8
DEFAULT_GATHER_EFFICIENCY = 0.5
# The rest of a random row after its first transaction streams at the level's achievable
# bandwidth unless a file says otherwise (calibrate measures it on the host).
DEFAULT_GATHER_TAIL_EFFICIENCY = 1.0
# A vectorised exp or tanh costs about 8 flops of the vector units when a file gives no
# rate of its own: a degree-6 polynomial plus range reduction on SIMD lanes (see
# kernels/_jit.py exp_f32), or a special-function unit at 1/4-1/16 of the FMA rate on GPUs.
DEFAULT_FLOPS_PER_TRANSCENDENTAL = 8.0


@dataclass(frozen=True)
class MemoryLevel:
    """One level of the memory hierarchy, as seen by the whole chip."""

    name: str
    kind: str
    capacity_bytes: float
    bandwidth_bytes_per_s: float
    transaction_bytes: float
    efficiency: float
    gather_efficiency: float
    energy_j_per_bit: float | None = None
    composition: Composition | None = None
    gather_tail_efficiency: float = DEFAULT_GATHER_TAIL_EFFICIENCY
    write_bandwidth_bytes_per_s: float | None = None  # None: as fast as reads
    gather_capacity_bytes: float | None = None  # None: all of capacity_bytes
    # what a stream larger than the level finds kept between two passes (see
    # roofline.retained_share): as the capacity of a randomly replacing cache, and at most
    # the bytes a replacement that protects part of the cache from streams keeps; both
    # None: none of it (LRU)
    stream_capacity_bytes: float | None = None
    stream_kept_bytes: float | None = None

    @property
    def on_chip(self) -> bool:
        return self.kind in ON_CHIP_KINDS

    @property
    def achievable_bytes_per_s(self) -> float:
        """Streaming bandwidth a well-written kernel reaches."""
        return self.bandwidth_bytes_per_s * self.efficiency

    @property
    def shared_capacity_bytes(self) -> float:
        """Capacity that holds rows every core reads at random: ``gather_capacity_bytes``
        where the file gives it (one core's share of a level made of private per-core
        caches, as each core keeps its own copy of the hot rows; what calibration measured
        random reads to use of a shared level), else all of it."""
        return (self.capacity_bytes if self.gather_capacity_bytes is None
                else self.gather_capacity_bytes)

    @property
    def write_bytes_per_s(self) -> float:
        """Peak streaming write bandwidth: the read bandwidth unless the file gives one."""
        return (self.bandwidth_bytes_per_s if self.write_bandwidth_bytes_per_s is None
                else self.write_bandwidth_bytes_per_s)

    @property
    def achievable_write_bytes_per_s(self) -> float:
        """Streaming write bandwidth a well-written kernel reaches."""
        return self.write_bytes_per_s * self.efficiency

    @property
    def gather_bytes_per_s(self) -> float:
        """Bandwidth of whole-transaction random row reads."""
        return self.bandwidth_bytes_per_s * self.efficiency * self.gather_efficiency

    @property
    def gather_tail_bytes_per_s(self) -> float:
        """Bandwidth of the transactions of a random row after its first."""
        return self.bandwidth_bytes_per_s * self.efficiency * self.gather_tail_efficiency


@dataclass(frozen=True)
class Link:
    """Chip-to-chip interconnect: per-chip bandwidth in one direction, hop latency."""

    bandwidth_bytes_per_s: float
    latency_s: float
    max_chips: int


@dataclass(frozen=True)
class Chip:
    """A chip as the roofline sees it. Built by `load_chip`, never mutated."""

    name: str
    description: str
    hypothetical: bool
    source: str
    matrix_flops_per_s: Mapping[str, float]
    vector_flops_per_s: float
    transcendental_per_s: float
    reciprocal_per_s: float
    compute_efficiency: float
    op_overhead_s: float
    memory: tuple[MemoryLevel, ...]
    link: Link
    tdp_w: float
    idle_w: float
    price_usd: float
    price_is_estimate: bool
    sources: Mapping[str, str] = field(default_factory=dict)
    dot_overhead_s: float = 0.0  # per output dot product of a matrix op, beyond its FMAs
    # per element a matrix op loads into its units (Op.loaded_elements), beyond its FMAs
    element_overhead_s: float = 0.0
    # comparisons per second of a top-k selection (Op.comparisons); None: the vector rate
    selection_per_s: float | None = None
    matrix_overlap: float = 1.0  # share of the shorter of compute and memory a matrix op hides
    # the same for a matrix-vector product (Op.matrix_vector: each weight used once)
    matvec_overlap: float = 1.0
    # the same for decode attention (a cache of keys and values read once per step)
    attention_overlap: float = 1.0
    row_overlap: float = 1.0  # the same for a row-wise op (norm, softmax; see Op.row_wise)
    # share of the shorter of an op's exp and reciprocal times that runs under the longer
    # (0: one special-function unit does both, as on a GPU; a CPU divides beside its FMAs)
    reciprocal_overlap: float = 0.0
    # A host that runs its dispatch code on the caches its ops stream through (a CPU)
    # pays more per call once that traffic has evicted the code and its data: up to
    # cold_op_overhead_s, the evicted share growing as 1 - exp(-(traffic / decay bytes)^2)
    # (None: every call costs op_overhead_s; see roofline)
    cold_op_overhead_s: float | None = None
    cold_overhead_traffic_bytes: float | None = None
    gathers_latency_bound: bool = False  # see GATHER_MODES

    @property
    def comparisons_per_s(self) -> float:
        """Comparisons per second of a top-k: the selection rate, else the vector rate."""
        return self.vector_flops_per_s if self.selection_per_s is None else self.selection_per_s

    @property
    def memory_cost_usd(self) -> float | None:
        """Cost of the off-chip memory when it is composed from parts, else unknown."""
        composition = self.main_memory.composition
        return composition.cost_usd if composition else None

    @property
    def memory_power_w(self) -> float | None:
        """Off-chip memory access power at full bandwidth, when its energy per bit is known."""
        level = self.main_memory
        if level.energy_j_per_bit is None:
            return None
        return level.bandwidth_bytes_per_s * 8 * level.energy_j_per_bit

    @property
    def main_memory(self) -> MemoryLevel:
        """The off-chip memory that holds weights, tables and KV cache."""
        return self.memory[-1]

    @property
    def sram(self) -> MemoryLevel | None:
        """The largest on-chip level, or None when the chip lists none."""
        on_chip = [level for level in self.memory if level.on_chip]
        return on_chip[-1] if on_chip else None

    def peak_flops_per_s(self, dtype: str) -> float:
        """Dense matrix-engine peak for ``dtype``; a clear error if the chip lacks it."""
        if dtype not in self.matrix_flops_per_s:
            have = ", ".join(self.matrix_flops_per_s)
            raise SeedchipError(f"chip {self.name}: no {dtype} matrix support (has {have})")
        return self.matrix_flops_per_s[dtype]


# ---------------------------------------------------------------- loading


def preset_names() -> list[str]:
    """Names of the built-in chip presets, sorted."""
    return tomlfile.preset_names(PRESET_DIR)


def load_chip(name_or_path: str, overrides: Mapping[str, str] | None = None) -> Chip:
    """Load, override and validate a chip preset or file."""
    path = tomlfile.resolve_preset(name_or_path, PRESET_DIR, "chip")
    raw = tomlfile.read_toml(path)
    if overrides:
        raw = apply_overrides(raw, overrides)
    return chip_from_dict(raw, where=str(path))


# ---------------------------------------------------------------- overrides

_TOP_LEVEL_OVERRIDES = {
    "compute_efficiency": ("compute", "efficiency"),
    "overhead": ("compute", "overhead"),
    "dot_overhead": ("compute", "dot_overhead"),
    "element_overhead": ("compute", "element_overhead"),
    "matrix_overlap": ("compute", "matrix_overlap"),
    "matvec_overlap": ("compute", "matvec_overlap"),
    "attention_overlap": ("compute", "attention_overlap"),
    "row_overlap": ("compute", "row_overlap"),
    "reciprocal_overlap": ("compute", "reciprocal_overlap"),
    "cold_overhead": ("compute", "cold_overhead"),
    "cold_overhead_traffic": ("compute", "cold_overhead_traffic"),
    "vector": ("compute", "vector"),
    "transcendental": ("compute", "transcendental"),
    "selection": ("compute", "selection"),
    "reciprocal": ("compute", "reciprocal"),
    "tdp": ("power", "tdp"),
    "logic_tdp": ("power", "logic_tdp"),
    "idle_power": ("power", "idle"),
    "price": ("price", "usd"),
    "logic_price": ("price", "logic_usd"),
    "link_bandwidth": ("link", "bandwidth"),
    "link_latency": ("link", "latency"),
    "max_chips": ("link", "max_chips"),
}
_LEVEL_FIELDS = ("capacity", "gather_capacity", "stream_capacity", "stream_kept", "bandwidth",
                 "write_bandwidth", "transaction",
                 "efficiency", "gather_efficiency", "gather_tail_efficiency", "energy", "part",
                 "count")
_RAW_LEVEL_FIELDS = ("kind", "capacity", "bandwidth", "transaction")
_MAIN_MEMORY_ALIASES = ("dram", "hbm", "memory", "mem")


def override_keys() -> list[str]:
    """The keys `apply_overrides` accepts, for help texts and error messages."""
    level_keys = [f"{alias}_{name}" for alias in ("sram", "dram", "hbm", "memory")
                  for name in _LEVEL_FIELDS]
    return sorted([*DTYPES, *_TOP_LEVEL_OVERRIDES, "sram", "dram", "hbm", "memory", *level_keys])


def apply_overrides(raw: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, Any]:
    """Return a copy of a raw chip dict with single fields replaced.

    Keys: a dtype (``bf16=1200TFLOP/s``), ``compute_efficiency``, ``overhead``,
    ``dot_overhead``, ``element_overhead``, ``matrix_overlap``, ``matvec_overlap``,
    ``attention_overlap``,
    ``row_overlap``, ``reciprocal_overlap``,
    ``cold_overhead``, ``cold_overhead_traffic``, ``vector``, ``transcendental``,
    ``selection``,
    ``reciprocal``,
    ``tdp`` / ``logic_tdp``, ``idle_power``, ``price`` / ``logic_price`` (a
    whole-chip total replaces the logic-plus-memory form and vice versa),
    ``link_bandwidth``, ``link_latency``,
    ``max_chips``, and memory fields ``<level>_<field>`` where level is ``sram`` (the
    largest on-chip level), ``dram``/``hbm``/``memory`` (the off-chip memory, whatever
    its technology) or a level's own name, and field is one of capacity, bandwidth,
    gather_capacity, stream_capacity, stream_kept, write_bandwidth, transaction, efficiency,
    gather_efficiency, gather_tail_efficiency, energy, part, count; ``<level>`` alone sets
    its capacity. ``memory=PART:COUNT`` recomposes the off-chip memory from parts.
    Values are validated afterwards like any file value.
    """
    result = copy.deepcopy(dict(raw))
    for key, value in overrides.items():
        if key == "memory":
            _recompose(result, key, value)
        elif key in DTYPES:
            result.setdefault("compute", {})[key] = value
        elif key in _TOP_LEVEL_OVERRIDES:
            section, name = _TOP_LEVEL_OVERRIDES[key]
            table = result.setdefault(section, {})
            table[name] = value
            # A whole-chip total replaces its logic-plus-memory form, and vice versa.
            other = name[len("logic_"):] if name.startswith("logic_") else f"logic_{name}"
            if section in ("power", "price"):
                table.pop(other, None)
        else:
            level, name = _level_override(result, key)
            level[name] = value
    return result


def _recompose(raw: dict[str, Any], key: str, value: str) -> None:
    """Replace the off-chip level's parts: ``memory=hbm3e-12h:4``."""
    part, count = parse_composition(value)
    level, _ = _level_override(raw, key)
    if "part" not in level:
        raise SeedchipError(f"--set memory={value}: this chip gives its memory as raw figures and "
                            "a total price; recomposing needs a chip whose memory is composed "
                            "from parts (see `seedchip memory`)")
    level["part"], level["count"] = part, count


def _level_override(raw: Mapping[str, Any], key: str) -> tuple[dict[str, Any], str]:
    """The memory-level table and field name that an override key addresses."""
    levels = raw.get("memory")
    if not isinstance(levels, list) or not levels:
        raise SeedchipError(f"--set {key}: the chip lists no memory levels")
    for field_name in sorted(_LEVEL_FIELDS, key=len, reverse=True):  # gather_efficiency
        if key.endswith("_" + field_name):                           # before efficiency
            alias, name = key[: -len(field_name) - 1], field_name
            break
    else:
        alias, name = key, "capacity"
    alias = alias.lower()
    if alias in _MAIN_MEMORY_ALIASES:
        return levels[-1], name
    if alias == "sram":
        on_chip = [level for level in levels if level.get("kind") in ON_CHIP_KINDS]
        if not on_chip:
            raise SeedchipError(f"--set {key}: the chip has no on-chip memory level")
        return on_chip[-1], name
    for level in levels:
        if str(level.get("name", "")).lower() == alias:
            return level, name
    raise SeedchipError(
        f"--set {key}: unknown field (known: {', '.join(override_keys())}, "
        f"or <level>_<field> for a level's own name)")


# ---------------------------------------------------------------- validation


class _Section:
    """Reads one table of a raw chip dict, checking keys, units and ranges."""

    def __init__(self, raw: Mapping[str, Any], name: str, where: str, allowed: tuple[str, ...]):
        if not isinstance(raw, Mapping):
            raise SeedchipError(f"{where}: [{name}] must be a table")
        unknown = sorted(set(raw) - set(allowed) - {"source"})
        if unknown:
            raise SeedchipError(
                f"{where}: unknown key '{unknown[0]}' in [{name}] (allowed: {', '.join(allowed)}, source)")
        self.raw, self.name, self.where = raw, name, where

    def _label(self, key: str) -> str:
        return f"{self.where}: {self.name}.{key}"

    def has(self, key: str) -> bool:
        return key in self.raw

    def quantity(self, key: str, dimension: str, default: float | None = None,
                 allow_zero: bool = False) -> float:
        if key not in self.raw:
            if default is None:
                raise SeedchipError(f"{self._label(key)} is missing")
            return default
        value = units.parse_quantity(self.raw[key], dimension, self._label(key))
        if value < 0 or (value == 0 and not allow_zero):
            raise SeedchipError(f"{self._label(key)} must be positive, got {self.raw[key]!r}")
        return value

    def optional_quantity(self, key: str, dimension: str,
                          allow_zero: bool = False) -> float | None:
        """The value in base units, or None when the file leaves it out."""
        return self.quantity(key, dimension, allow_zero=allow_zero) if self.has(key) else None

    def fraction(self, key: str, default: float, allow_zero: bool = False) -> float:
        if key not in self.raw:
            return default
        value = units.parse_quantity(self.raw[key], units.RATIO, self._label(key))
        if not (0 <= value if allow_zero else 0 < value) or value > 1:
            interval = "[0, 1]" if allow_zero else "(0, 1]"
            raise SeedchipError(f"{self._label(key)} must be in {interval}, got {self.raw[key]!r}")
        return value

    def text(self, key: str, default: str | None = None) -> str:
        value = self.raw.get(key, default)
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise SeedchipError(f"{self._label(key)} must be a non-empty string")
        return value

    def choice(self, key: str, options: tuple[str, ...], default: str) -> str:
        value = self.raw.get(key, default)
        if value not in options:
            raise SeedchipError(f"{self._label(key)} must be one of {', '.join(options)}, "
                                f"got {value!r}")
        return value

    def flag(self, key: str, default: bool | None = None) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            raise SeedchipError(f"{self._label(key)} must be true or false")
        return value

    def integer(self, key: str, default: int) -> int:
        value = self.raw.get(key, default)
        if isinstance(value, str) and value.strip().isdigit():  # from --set max_chips=4
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SeedchipError(f"{self._label(key)} must be a positive integer, got {value!r}")
        return value


GATHER_MODES = ("bandwidth", "latency")
"""How random row reads of a chip are bound. "bandwidth" (default): every level serves its
share of the lookups in parallel with the others, so the slowest level sets the time (many
threads in flight, as on GPUs). "latency": a core's outstanding misses are shared by the
lookups of every level, so each lookup costs what the level that serves it costs and the
costs add (CPU cores; calibrate writes it for the host)."""

_TOP_KEYS = ("name", "description", "hypothetical", "source", "gathers", "compute", "memory",
             "link", "power", "price")


def chip_from_dict(raw: Mapping[str, Any], where: str) -> Chip:
    """Validate a raw chip dict (as parsed from TOML) into a `Chip`."""
    top = _Section(raw, "chip", where, _TOP_KEYS)
    compute = _Section(raw.get("compute", {}), "compute", where,
                       (*DTYPES, "vector", "transcendental", "reciprocal", "selection",
                        "efficiency", "overhead", "dot_overhead", "element_overhead",
                        "matrix_overlap", "matvec_overlap", "attention_overlap", "row_overlap",
                        "reciprocal_overlap", "cold_overhead", "cold_overhead_traffic"))
    matrix = {dtype: compute.quantity(dtype, units.FLOP_PER_S)
              for dtype in DTYPES if compute.has(dtype)}
    if not matrix:
        raise SeedchipError(f"{where}: [compute] lists no dtype (one of {', '.join(DTYPES)})")
    vector = compute.quantity("vector", units.FLOP_PER_S)
    transcendental = compute.quantity("transcendental", units.FLOP_PER_S,
                                      vector / DEFAULT_FLOPS_PER_TRANSCENDENTAL)
    memory = _memory_levels(raw.get("memory"), where)
    composition = memory[-1].composition
    power = _Section(raw.get("power", {}), "power", where, ("tdp", "logic_tdp", "idle"))
    price = _Section(raw.get("price", {}), "price", where, ("usd", "logic_usd", "estimate"))
    tdp_w = _total(power, "tdp", units.WATTS, composition.peak_power_w if composition else None)
    idle_w = power.quantity("idle", units.WATTS, allow_zero=True)
    if idle_w > tdp_w:
        raise SeedchipError(f"{where}: power.idle ({idle_w:g} W) exceeds power.tdp ({tdp_w:g} W)")
    sections = {"compute": compute.raw, "power": power.raw, "price": price.raw,
                "link": raw.get("link", {}),
                **{f"memory.{level.get('name')}": level for level in raw.get("memory") or []
                   if isinstance(level, Mapping)}}
    op_overhead_s = compute.quantity("overhead", units.SECONDS, allow_zero=True)
    cold_overhead_s, cold_traffic_bytes = _cold_overhead(compute, op_overhead_s)
    matrix_overlap = compute.fraction("matrix_overlap", 1.0, allow_zero=True)
    return Chip(
        name=top.text("name"),
        description=top.text("description"),
        hypothetical=top.flag("hypothetical"),
        source=top.text("source"),
        gathers_latency_bound=top.choice("gathers", GATHER_MODES, "bandwidth") == "latency",
        matrix_flops_per_s=MappingProxyType(matrix),
        vector_flops_per_s=vector,
        transcendental_per_s=transcendental,
        reciprocal_per_s=compute.quantity("reciprocal", units.FLOP_PER_S, transcendental),
        selection_per_s=compute.optional_quantity("selection", units.FLOP_PER_S),
        compute_efficiency=compute.fraction("efficiency", DEFAULT_COMPUTE_EFFICIENCY),
        op_overhead_s=op_overhead_s,
        dot_overhead_s=compute.quantity("dot_overhead", units.SECONDS, 0.0, allow_zero=True),
        element_overhead_s=compute.quantity("element_overhead", units.SECONDS, 0.0,
                                            allow_zero=True),
        matrix_overlap=matrix_overlap,
        matvec_overlap=compute.fraction("matvec_overlap", matrix_overlap, allow_zero=True),
        attention_overlap=compute.fraction("attention_overlap", matrix_overlap, allow_zero=True),
        row_overlap=compute.fraction("row_overlap", 1.0, allow_zero=True),
        reciprocal_overlap=compute.fraction("reciprocal_overlap", 0.0, allow_zero=True),
        cold_op_overhead_s=cold_overhead_s,
        cold_overhead_traffic_bytes=cold_traffic_bytes,
        memory=memory,
        link=_link(raw.get("link", {}), where),
        tdp_w=tdp_w,
        idle_w=idle_w,
        price_usd=_total(price, "usd", units.USD, composition.cost_usd if composition else None),
        price_is_estimate=price.flag("estimate"),
        sources=MappingProxyType({name: table["source"] for name, table in sections.items()
                                  if isinstance(table, Mapping)
                                  and isinstance(table.get("source"), str)}),
    )


def _cold_overhead(compute: _Section, op_overhead_s: float) -> tuple[float | None, float | None]:
    """``cold_overhead`` and ``cold_overhead_traffic``: both or neither, and a cold call
    costs no less than a warm one."""
    cold_s = compute.optional_quantity("cold_overhead", units.SECONDS, allow_zero=True)
    traffic_bytes = compute.optional_quantity("cold_overhead_traffic", units.BYTES)
    if (cold_s is None) != (traffic_bytes is None):
        raise SeedchipError(f"{compute.where}: compute.cold_overhead and "
                            "compute.cold_overhead_traffic go together: give both or neither")
    if cold_s is not None and cold_s < op_overhead_s:
        raise SeedchipError(f"{compute.where}: compute.cold_overhead ({cold_s:g} s) is less "
                            f"than compute.overhead ({op_overhead_s:g} s)")
    return cold_s, traffic_bytes


def _total(section: _Section, key: str, dimension: str, memory_share: float | None) -> float:
    """A chip total (``tdp``, ``usd``), or ``logic_<key>`` plus what its composed memory adds."""
    logic_key = f"logic_{key}"
    if section.has(key) == section.has(logic_key):
        raise SeedchipError(f"{section.where}: [{section.name}] needs exactly one of {key} "
                            f"(whole chip) and {logic_key} (without composed memory)")
    if section.has(key):
        return section.quantity(key, dimension)
    if memory_share is None:
        raise SeedchipError(f"{section.where}: {section.name}.{logic_key} needs the off-chip "
                            "memory composed from parts (part = ..., count = ...)")
    return section.quantity(logic_key, dimension) + memory_share


def _memory_levels(raw: Any, where: str) -> tuple[MemoryLevel, ...]:
    """Validate ``[[memory]]``: on-chip levels first, growing capacity, one off-chip last."""
    if not isinstance(raw, list) or not raw:
        raise SeedchipError(f"{where}: [[memory]] must list at least the off-chip memory")
    levels = [_memory_level(table, f"memory[{index}]", where) for index, table in enumerate(raw)]
    *inner, outer = levels
    if outer.on_chip or any(not level.on_chip for level in inner):
        raise SeedchipError(f"{where}: [[memory]] must list on-chip levels first and exactly "
                            "one off-chip level last")
    for smaller, larger in zip(levels, levels[1:]):
        if larger.capacity_bytes <= smaller.capacity_bytes:
            raise SeedchipError(f"{where}: memory level {larger.name} must be larger than "
                                f"{smaller.name}")
    return tuple(levels)


def _memory_level(table: Any, label: str, where: str) -> MemoryLevel:
    """One level, given by raw figures or composed from memory parts (``part``, ``count``)."""
    if isinstance(table, Mapping) and "part" in table:
        section = _Section(table, label, where,
                           ("name", "part", "count", "bandwidth", "write_bandwidth",
                            "efficiency", "gather_efficiency", "gather_tail_efficiency"))
        composition = compose(section.text("part"), table.get("count"), f"{where}: {label}")
        if section.has("bandwidth"):  # the same parts at another data rate
            composition = replace(composition, bandwidth_override_bytes_per_s=section.quantity(
                "bandwidth", units.BYTES_PER_S))
        part = composition.part
        return MemoryLevel(
            name=section.text("name"), kind=part.technology,
            capacity_bytes=composition.capacity_bytes,
            bandwidth_bytes_per_s=composition.bandwidth_bytes_per_s,
            transaction_bytes=part.transaction_bytes,
            efficiency=section.fraction("efficiency", DEFAULT_MEMORY_EFFICIENCY),
            gather_efficiency=section.fraction("gather_efficiency", DEFAULT_GATHER_EFFICIENCY),
            gather_tail_efficiency=section.fraction("gather_tail_efficiency",
                                                    DEFAULT_GATHER_TAIL_EFFICIENCY),
            write_bandwidth_bytes_per_s=section.optional_quantity("write_bandwidth",
                                                                  units.BYTES_PER_S),
            energy_j_per_bit=part.energy_j_per_bit, composition=composition)
    section = _Section(table, label, where, ("name", *_RAW_LEVEL_FIELDS, "gather_capacity",
                                             "stream_capacity", "stream_kept",
                                             "write_bandwidth", "efficiency",
                                             "gather_efficiency", "gather_tail_efficiency",
                                             "energy"))
    kind = section.text("kind")
    if kind not in ON_CHIP_KINDS + OFF_CHIP_KINDS:
        raise SeedchipError(f"{where}: {label}.kind '{kind}' is not one of "
                            f"{', '.join(ON_CHIP_KINDS + OFF_CHIP_KINDS)}")
    return MemoryLevel(
        name=section.text("name"),
        kind=kind,
        capacity_bytes=section.quantity("capacity", units.BYTES),
        bandwidth_bytes_per_s=section.quantity("bandwidth", units.BYTES_PER_S),
        transaction_bytes=section.quantity("transaction", units.BYTES),
        efficiency=section.fraction("efficiency", DEFAULT_MEMORY_EFFICIENCY),
        gather_efficiency=section.fraction("gather_efficiency", DEFAULT_GATHER_EFFICIENCY),
        gather_tail_efficiency=section.fraction("gather_tail_efficiency",
                                                DEFAULT_GATHER_TAIL_EFFICIENCY),
        write_bandwidth_bytes_per_s=section.optional_quantity("write_bandwidth",
                                                              units.BYTES_PER_S),
        gather_capacity_bytes=section.optional_quantity("gather_capacity", units.BYTES,
                                                        allow_zero=True),
        stream_capacity_bytes=section.optional_quantity("stream_capacity", units.BYTES),
        stream_kept_bytes=section.optional_quantity("stream_kept", units.BYTES),
        energy_j_per_bit=section.optional_quantity("energy", units.JOULES_PER_BIT),
    )


def _link(raw: Any, where: str) -> Link:
    section = _Section(raw, "link", where, ("bandwidth", "latency", "max_chips"))
    return Link(
        bandwidth_bytes_per_s=section.quantity("bandwidth", units.BYTES_PER_S),
        latency_s=section.quantity("latency", units.SECONDS),
        max_chips=section.integer("max_chips", 1),
    )
