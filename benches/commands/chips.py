"""``seedchip chips`` and ``seedchip chip NAME``: what the model knows about each chip."""

from __future__ import annotations

from typing import Any

import click

from benches.output import emit_rows, format_option, parse_settings, set_option, shorten
from perfmodel import units
from perfmodel.chip import Chip, load_chip, preset_names


def _peak(chip: Chip, dtype: str) -> float | None:
    return chip.matrix_flops_per_s.get(dtype)


def _summary(chip: Chip) -> dict[str, Any]:
    """One chip's headline figures in base units."""
    sram = chip.sram
    return {
        "name": chip.name,
        "kind": "hypothetical" if chip.hypothetical else "real",
        "bf16_flops_per_s": _peak(chip, "bf16"),
        "int8_ops_per_s": _peak(chip, "int8"),
        "memory_kind": chip.main_memory.name,
        "memory_bytes": chip.main_memory.capacity_bytes,
        "memory_bytes_per_s": chip.main_memory.bandwidth_bytes_per_s,
        "sram_bytes": sram.capacity_bytes if sram else 0.0,
        "tdp_w": chip.tdp_w,
        "price_usd": chip.price_usd,
        "price_is_estimate": chip.price_is_estimate,
        "source": chip.source,
    }


def _flops(value: float | None) -> str:
    return units.format_quantity(value, units.FLOP_PER_S) if value else "-"


def _price(chip_row: dict[str, Any]) -> str:
    prefix = "~" if chip_row["price_is_estimate"] else ""
    return f"{prefix}{chip_row['price_usd']:,.0f}"


def _summary_for_people(row: dict[str, Any]) -> dict[str, str]:
    return {
        "chip": row["name"],
        "kind": row["kind"],
        "bf16": _flops(row["bf16_flops_per_s"]),
        "int8": _flops(row["int8_ops_per_s"]),
        "memory": f"{units.format_quantity(row['memory_bytes'], units.BYTES)} {row['memory_kind']}",
        "bandwidth": units.format_quantity(row["memory_bytes_per_s"], units.BYTES_PER_S),
        "SRAM": units.format_quantity(row["sram_bytes"], units.BYTES, binary=True) if row["sram_bytes"] else "-",
        "TDP": f"{row['tdp_w']:.0f} W",
        "price USD": _price(row),
        "source": shorten(row["source"], 48),
    }


@click.command("chips")
@format_option
def chips_command(output_format: str) -> None:
    """List the chip presets: real chips (cited), hypothetical SeedChip variants, the host.

    Example: seedchip chips --format csv
    """
    rows = [_summary(load_chip(name)) for name in preset_names()]
    emit_rows(rows, output_format, [_summary_for_people(row) for row in rows])


def chip_fields(chip: Chip) -> list[dict[str, Any]]:
    """Every field of a chip as (field, value, unit/format, source) rows in base units."""
    rows: list[dict[str, Any]] = [
        {"field": "name", "value": chip.name, "dimension": "", "source": ""},
        {"field": "description", "value": chip.description, "dimension": "", "source": ""},
        {"field": "hypothetical", "value": chip.hypothetical, "dimension": "", "source": ""},
        {"field": "source", "value": chip.source, "dimension": "", "source": ""},
        {"field": "gathers", "value": "latency" if chip.gathers_latency_bound else "bandwidth",
         "dimension": "", "source": ""},
    ]
    compute_source = chip.sources.get("compute", "")
    for dtype, peak in chip.matrix_flops_per_s.items():
        rows.append({"field": f"{dtype}_flops_per_s", "value": peak,
                     "dimension": units.FLOP_PER_S, "source": compute_source})
    rows += [
        {"field": "vector_flops_per_s", "value": chip.vector_flops_per_s,
         "dimension": units.FLOP_PER_S, "source": compute_source},
        {"field": "transcendental_per_s", "value": chip.transcendental_per_s,
         "dimension": units.FLOP_PER_S, "source": compute_source},
        {"field": "reciprocal_per_s", "value": chip.reciprocal_per_s,
         "dimension": units.FLOP_PER_S, "source": compute_source},
        {"field": "selection_per_s", "value": chip.comparisons_per_s,
         "dimension": units.FLOP_PER_S, "source": compute_source},
        {"field": "dot_overhead_s", "value": chip.dot_overhead_s, "dimension": units.SECONDS,
         "source": compute_source},
        {"field": "element_overhead_s", "value": chip.element_overhead_s,
         "dimension": units.SECONDS, "source": compute_source},
        {"field": "matrix_overlap", "value": chip.matrix_overlap, "dimension": units.RATIO,
         "source": compute_source},
        {"field": "matvec_overlap", "value": chip.matvec_overlap, "dimension": units.RATIO,
         "source": compute_source},
        {"field": "attention_overlap", "value": chip.attention_overlap,
         "dimension": units.RATIO, "source": compute_source},
        {"field": "row_overlap", "value": chip.row_overlap, "dimension": units.RATIO,
         "source": compute_source},
        {"field": "reciprocal_overlap", "value": chip.reciprocal_overlap,
         "dimension": units.RATIO, "source": compute_source},
        {"field": "compute_efficiency", "value": chip.compute_efficiency,
         "dimension": units.RATIO, "source": compute_source},
        {"field": "op_overhead_s", "value": chip.op_overhead_s, "dimension": units.SECONDS,
         "source": compute_source},
    ]
    if chip.cold_op_overhead_s is not None:
        rows += [
            {"field": "cold_op_overhead_s", "value": chip.cold_op_overhead_s,
             "dimension": units.SECONDS, "source": compute_source},
            {"field": "cold_overhead_traffic_bytes", "value": chip.cold_overhead_traffic_bytes,
             "dimension": units.BYTES, "source": compute_source},
        ]
    for level in chip.memory:
        level_source = chip.sources.get(f"memory.{level.name}", "")
        prefix = f"memory.{level.name}"
        rows += [
            {"field": f"{prefix}.kind", "value": level.kind, "dimension": "", "source": level_source},
            {"field": f"{prefix}.capacity_bytes", "value": level.capacity_bytes,
             "dimension": units.BYTES, "source": level_source},
            {"field": f"{prefix}.gather_capacity_bytes", "value": level.shared_capacity_bytes,
             "dimension": units.BYTES, "source": level_source},
            *({"field": f"{prefix}.{name}", "value": value, "dimension": units.BYTES,
               "source": level_source}
              for name, value in (("stream_capacity_bytes", level.stream_capacity_bytes),
                                  ("stream_kept_bytes", level.stream_kept_bytes))
              if value is not None),
            {"field": f"{prefix}.bandwidth_bytes_per_s", "value": level.bandwidth_bytes_per_s,
             "dimension": units.BYTES_PER_S, "source": level_source},
            {"field": f"{prefix}.write_bandwidth_bytes_per_s",
             "value": level.write_bytes_per_s,
             "dimension": units.BYTES_PER_S, "source": level_source},
            {"field": f"{prefix}.transaction_bytes", "value": level.transaction_bytes,
             "dimension": units.BYTES, "source": level_source},
            {"field": f"{prefix}.efficiency", "value": level.efficiency,
             "dimension": units.RATIO, "source": level_source},
            {"field": f"{prefix}.gather_efficiency", "value": level.gather_efficiency,
             "dimension": units.RATIO, "source": level_source},
            {"field": f"{prefix}.gather_tail_efficiency", "value": level.gather_tail_efficiency,
             "dimension": units.RATIO, "source": level_source},
        ]
    link_source = chip.sources.get("link", "")
    rows += [
        {"field": "link.bandwidth_bytes_per_s", "value": chip.link.bandwidth_bytes_per_s,
         "dimension": units.BYTES_PER_S, "source": link_source},
        {"field": "link.latency_s", "value": chip.link.latency_s, "dimension": units.SECONDS,
         "source": link_source},
        {"field": "link.max_chips", "value": chip.link.max_chips, "dimension": "",
         "source": link_source},
        {"field": "tdp_w", "value": chip.tdp_w, "dimension": units.WATTS,
         "source": chip.sources.get("power", "")},
        {"field": "idle_w", "value": chip.idle_w, "dimension": units.WATTS,
         "source": chip.sources.get("power", "")},
        {"field": "price_usd", "value": chip.price_usd, "dimension": units.USD,
         "source": chip.sources.get("price", "")},
        {"field": "price_is_estimate", "value": chip.price_is_estimate, "dimension": "",
         "source": chip.sources.get("price", "")},
    ]
    return rows + _memory_share_rows(chip)


def _memory_share_rows(chip: Chip) -> list[dict[str, Any]]:
    """Derived figures of composed memory: parts, cost and power, and their share of the chip."""
    level = chip.main_memory
    rows: list[dict[str, Any]] = []
    if level.composition:
        part = level.composition.part
        rows += [
            {"field": "memory.part", "value": part.name, "dimension": "", "source": part.source},
            {"field": "memory.count", "value": level.composition.count, "dimension": "",
             "source": f"max {part.max_per_chip} {part.unit}s per package"},
            {"field": "memory_cost_usd", "value": chip.memory_cost_usd, "dimension": units.USD,
             "source": part.price_source},
            {"field": "memory_cost_share", "value": chip.memory_cost_usd / chip.price_usd,
             "dimension": units.RATIO, "source": "memory cost / chip price"},
        ]
    if chip.memory_power_w is not None:
        rows += [
            {"field": "memory_power_w", "value": chip.memory_power_w, "dimension": units.WATTS,
             "source": "bandwidth x energy per bit, streaming at full bandwidth"},
            {"field": "memory_power_share", "value": chip.memory_power_w / chip.tdp_w,
             "dimension": units.RATIO, "source": "memory power / TDP"},
        ]
    return rows


def _field_for_people(row: dict[str, Any]) -> dict[str, str]:
    value = row["value"]
    if row["dimension"] and isinstance(value, float):
        value = units.format_quantity(value, row["dimension"])
    return {"field": row["field"], "value": shorten(str(value), 90),
            "source": shorten(row["source"], 70)}


@click.command("chip")
@click.argument("name")
@set_option
@format_option
def chip_command(name: str, settings: tuple[str, ...], output_format: str) -> None:
    """Show every field of one chip (a preset name or a .toml path), with its source.

    Example: seedchip chip h100-sxm --set hbm_bandwidth=4TB/s
    """
    chip = load_chip(name, parse_settings(settings))
    rows = chip_fields(chip)
    emit_rows(rows, output_format, [_field_for_people(row) for row in rows])
