"""Memory technology as a design input: parts (HBM stacks, LPDDR/GDDR devices, DDR channels).

A part preset lives in ``perfmodel/presets/memory/<name>.toml`` with its capacity and
bandwidth per unit (stack, package, device or channel), access energy, an estimated
price per GB, the most units one chip package can carry, and the source of each figure.
A chip may compose its off-chip memory from ``count`` units of one part; capacity,
bandwidth, memory power and memory cost then follow from the part, so "4 HBM3e stacks
instead of 8" or "LPDDR5X instead of HBM" is a one-field change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from perfmodel import units
from perfmodel.errors import SeedchipError
from perfmodel.tomlfile import read_toml

PART_DIR = Path(__file__).parent / "presets" / "memory"
TECHNOLOGIES = ("hbm", "lpddr", "gddr", "ddr")
_PART_KEYS = ("name", "technology", "description", "unit", "capacity", "bandwidth",
              "transaction", "energy", "usd_per_gb", "price_estimate", "max_per_chip", "source",
              "energy_source", "price_source")


@dataclass(frozen=True)
class MemoryPart:
    """One unit of a memory technology as a chip designer buys it."""

    name: str
    technology: str
    description: str
    unit: str
    capacity_bytes: float
    bandwidth_bytes_per_s: float
    transaction_bytes: float
    energy_j_per_bit: float
    usd_per_gb: float
    price_is_estimate: bool
    max_per_chip: int
    source: str
    energy_source: str
    price_source: str


@dataclass(frozen=True)
class Composition:
    """``count`` units of one part: the chip's off-chip memory.

    ``bandwidth_override_bytes_per_s`` runs the units at another total bandwidth (a faster
    or slower data rate of the same parts): access power follows the bandwidth, capacity
    and cost stay those of the parts.
    """

    part: MemoryPart
    count: int
    bandwidth_override_bytes_per_s: float | None = None

    @property
    def capacity_bytes(self) -> float:
        return self.part.capacity_bytes * self.count

    @property
    def bandwidth_bytes_per_s(self) -> float:
        if self.bandwidth_override_bytes_per_s is not None:
            return self.bandwidth_override_bytes_per_s
        return self.part.bandwidth_bytes_per_s * self.count

    @property
    def cost_usd(self) -> float:
        return self.capacity_bytes / 1e9 * self.part.usd_per_gb

    @property
    def peak_power_w(self) -> float:
        """Access power when streaming at full bandwidth: bits/s x joules per bit."""
        return self.bandwidth_bytes_per_s * 8 * self.part.energy_j_per_bit


def part_names() -> list[str]:
    """Names of the memory part presets, sorted."""
    return sorted(path.stem for path in PART_DIR.glob("*.toml"))


def load_part(name: str) -> MemoryPart:
    """Load and validate one memory part preset."""
    path = PART_DIR / f"{name}.toml"
    if not path.is_file():
        raise SeedchipError(f"unknown memory part '{name}' (known: {', '.join(part_names())})")
    return part_from_dict(read_toml(path), str(path))


def part_from_dict(raw: Mapping[str, Any], where: str) -> MemoryPart:
    """Validate a raw part dict into a `MemoryPart`."""
    unknown = sorted(set(raw) - set(_PART_KEYS))
    if unknown:
        raise SeedchipError(f"{where}: unknown key '{unknown[0]}' (allowed: {', '.join(_PART_KEYS)})")

    def text(key: str) -> str:
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise SeedchipError(f"{where}: {key} must be a non-empty string")
        return value

    def positive(key: str, dimension: str) -> float:
        if key not in raw:
            raise SeedchipError(f"{where}: {key} is missing")
        value = units.parse_quantity(raw[key], dimension, f"{where}: {key}")
        if value <= 0:
            raise SeedchipError(f"{where}: {key} must be positive, got {raw[key]!r}")
        return value

    technology = text("technology")
    if technology not in TECHNOLOGIES:
        raise SeedchipError(f"{where}: technology '{technology}' is not one of "
                            f"{', '.join(TECHNOLOGIES)}")
    max_per_chip = raw.get("max_per_chip")
    if isinstance(max_per_chip, bool) or not isinstance(max_per_chip, int) or max_per_chip < 1:
        raise SeedchipError(f"{where}: max_per_chip must be a positive integer")
    estimate = raw.get("price_estimate")
    if not isinstance(estimate, bool):
        raise SeedchipError(f"{where}: price_estimate must be true or false")
    usd_per_gb = raw.get("usd_per_gb")
    if isinstance(usd_per_gb, bool) or not isinstance(usd_per_gb, (int, float)) or not usd_per_gb > 0:
        raise SeedchipError(f"{where}: usd_per_gb must be a positive number")
    return MemoryPart(
        name=text("name"), technology=technology, description=text("description"),
        unit=text("unit"),
        capacity_bytes=positive("capacity", units.BYTES),
        bandwidth_bytes_per_s=positive("bandwidth", units.BYTES_PER_S),
        transaction_bytes=positive("transaction", units.BYTES),
        energy_j_per_bit=positive("energy", units.JOULES_PER_BIT),
        usd_per_gb=float(usd_per_gb), price_is_estimate=estimate, max_per_chip=max_per_chip,
        source=text("source"), energy_source=text("energy_source"),
        price_source=text("price_source"),
    )


def compose(part_name: str, count: Any, where: str) -> Composition:
    """``count`` units of a part, within what one package can carry."""
    part = load_part(part_name)
    if isinstance(count, str) and count.strip().isdigit():  # from --set memory_count=4
        count = int(count)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise SeedchipError(f"{where}: count must be a positive integer, got {count!r}")
    if count > part.max_per_chip:
        raise SeedchipError(f"{where}: {count} x {part.name} exceeds the {part.max_per_chip} "
                            f"{part.unit}s one chip package can carry")
    return Composition(part, count)


def parse_composition(text: str) -> tuple[str, int]:
    """``"hbm3e-12h:4"`` -> ``("hbm3e-12h", 4)`` for ``--set memory=...``."""
    name, sep, count = text.partition(":")
    if not sep or not name or not count.strip().isdigit():
        raise SeedchipError(f"--set memory={text}: expected PART:COUNT, e.g. hbm3e-12h:4")
    return name.strip(), int(count)
