"""Cost and energy of running a chip: $ per chip-hour, then $ and joules per unit of work.

    power_w       = idle_w + (tdp_w - idle_w) * utilisation
    usd_per_hour  = price_usd / (years * 8766 h) + power_w / 1000 * pue * usd_per_kwh
    usd_per_unit  = usd_per_hour / (units_per_s * 3600)
    joules_per_unit = power_w / units_per_s          (at the chip, before PUE)

Chip-only: host CPUs, networking and building capital are not counted; state that when
quoting results. Defaults (all overridable, see `CostAssumptions`):
- years = 5: hyperscalers depreciate servers over 5-6 years (Meta 5.5, Microsoft and
  Alphabet 6 in their 2022-2024 annual reports); accelerators age faster, so 5.
- usd_per_kwh = 0.08: US industrial average electricity price, ~8 cents/kWh in 2024
  (U.S. EIA, Electric Power Monthly, table 5.6.A).
- pue = 1.1: hyperscale fleets report 1.08-1.12 (Google fleet-wide trailing PUE 1.10 in
  2023, Google data-center efficiency report); the industry average is ~1.56 (Uptime
  Institute 2024 survey).
- utilisation = 1.0: a chip serving at its planned throughput is busy all the time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from perfmodel.chip import Chip
from perfmodel.errors import SeedchipError

HOURS_PER_YEAR = 8766.0  # 365.25 days


@dataclass(frozen=True)
class CostAssumptions:
    years: float = 5.0
    usd_per_kwh: float = 0.08
    pue: float = 1.1
    utilisation: float = 1.0
    price_usd: float | None = None  # None: the chip's own price

    def __post_init__(self) -> None:
        for name, (valid, limits) in _LIMITS.items():
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and valid(value)):
                raise SeedchipError(f"cost assumption {name} must be {limits}, got {value!r}")


_LIMITS = {
    "years": (lambda value: value > 0, "> 0"),
    "usd_per_kwh": (lambda value: value >= 0, ">= 0"),
    "pue": (lambda value: value >= 1, ">= 1"),
    "utilisation": (lambda value: 0 <= value <= 1, "in [0, 1]"),
    "price_usd": (lambda value: value >= 0, ">= 0"),
}


@dataclass(frozen=True)
class ChipCost:
    """What one chip costs to own and run."""

    power_w: float
    capital_usd_per_hour: float
    energy_usd_per_hour: float

    @property
    def usd_per_hour(self) -> float:
        return self.capital_usd_per_hour + self.energy_usd_per_hour


def chip_cost(chip: Chip, assumptions: CostAssumptions = CostAssumptions()) -> ChipCost:
    """Hourly capital and energy cost of one chip at the assumed utilisation."""
    price = chip.price_usd if assumptions.price_usd is None else assumptions.price_usd
    power_w = chip.idle_w + (chip.tdp_w - chip.idle_w) * assumptions.utilisation
    return ChipCost(
        power_w=power_w,
        capital_usd_per_hour=price / (assumptions.years * HOURS_PER_YEAR),
        energy_usd_per_hour=power_w / 1000 * assumptions.pue * assumptions.usd_per_kwh,
    )


@dataclass(frozen=True)
class UnitCost:
    """Dollars and joules per unit of work (a request, a sample or a token)."""

    usd: float
    joules: float


def cost_per_unit(cost: ChipCost, units_per_s: float, chips: int = 1) -> UnitCost:
    """$ and J per unit when ``chips`` chips together do ``units_per_s`` units per second."""
    if not np.all(np.asarray(units_per_s) > 0):  # arrays: one rate per sweep point
        raise SeedchipError(f"throughput must be positive to price work, got {units_per_s!r}")
    return UnitCost(usd=cost.usd_per_hour * chips / (units_per_s * 3600.0),
                    joules=cost.power_w * chips / units_per_s)
