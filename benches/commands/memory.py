"""``seedchip memory``: the memory parts a chip can be composed from."""

from __future__ import annotations

from typing import Any

import click

from benches.output import emit_rows, format_option, shorten
from perfmodel import units
from perfmodel.memory import MemoryPart, load_part, part_names


def _part_row(part: MemoryPart) -> dict[str, Any]:
    return {
        "name": part.name, "technology": part.technology, "unit": part.unit,
        "capacity_bytes": part.capacity_bytes,
        "bandwidth_bytes_per_s": part.bandwidth_bytes_per_s,
        "energy_j_per_bit": part.energy_j_per_bit, "usd_per_gb": part.usd_per_gb,
        "price_is_estimate": part.price_is_estimate, "max_per_chip": part.max_per_chip,
        "source": part.source, "energy_source": part.energy_source,
        "price_source": part.price_source,
    }


def _for_people(row: dict[str, Any]) -> dict[str, str]:
    return {
        "part": row["name"],
        "per": row["unit"],
        "capacity": units.format_quantity(row["capacity_bytes"], units.BYTES),
        "bandwidth": units.format_quantity(row["bandwidth_bytes_per_s"], units.BYTES_PER_S),
        "energy": units.format_quantity(row["energy_j_per_bit"], units.JOULES_PER_BIT),
        "USD/GB": f"{'~' if row['price_is_estimate'] else ''}{row['usd_per_gb']:g}",
        "max/chip": str(row["max_per_chip"]),
        "source": shorten(row["source"], 60),
    }


@click.command("memory")
@format_option
def memory_command(output_format: str) -> None:
    """List memory parts (HBM stacks, LPDDR/GDDR devices, DDR channels) with their sources.

    Compose a chip from them with `part = "hbm3e-12h"` and `count = 6` in its off-chip
    [[memory]] level, or on the command line: --set memory=hbm3e-12h:4.

    Example: seedchip memory --format json
    """
    rows = [_part_row(load_part(name)) for name in part_names()]
    emit_rows(rows, output_format, [_for_people(row) for row in rows])
