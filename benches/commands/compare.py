"""``seedchip compare``: chips side by side on the same workload and SLO, cheapest first."""

from __future__ import annotations

from typing import Any

import click

from benches.commands.plan import (cost_options, latency_fields, layout_options, parse_cost,
                                   parse_layout, parse_slo, rate_text, seconds_text,
                                   slo_options, target_units, tokens, unit_cost_fields)
from benches.output import emit_rows, format_option, parse_settings, set_option
from perfmodel.chip import load_chip
from perfmodel.errors import SeedchipError
from workloads.config import DTYPE_CHOICES, load_workload
from workloads.estimate import plan, serve

DEFAULT_CHIPS = ("seedchip-rec", "seedchip-gen", "seedchip-gen-lite", "h100-sxm", "h20")
DEFAULT_WORKLOADS = ("dlrm-dcnv2", "llama3-70b")


def _row(chip_name: str, workload_name: str, args: dict[str, Any]) -> dict[str, Any]:
    """One chip on one workload, in base units; an infeasible chip gets a ``note``."""
    chip = load_chip(chip_name, args["settings"])
    config = load_workload(workload_name)
    prompt, output = tokens(config, args["prompt"], args["output"])
    slo = parse_slo(config, *args["slo"])
    target = target_units(config, args["qps"], args["tokens_per_s"], output)
    head = {"workload": config.name, "chip": chip.name}
    try:
        served = serve(config, chip, args["dtype"], prompt, output, slo, args["layout"],
                       args["cost"])
    except SeedchipError as error:
        return {**head, "note": str(error)}
    fleet = plan(served, chip, target, args["cost"]) if target else served.fleet
    return {
        **head, "unit": served.unit, "chips": fleet.chips,
        "chips_per_replica": served.chips, "layout": served.layout.describe(),
        **latency_fields(served),
        "per_chip_per_s": served.units_per_s / served.chips,
        "utilisation": fleet.utilisation, "bound": served.bound,
        **unit_cost_fields(served, fleet), "note": "",
    }


def _cost_key(row: dict[str, Any]) -> float:
    return row.get("usd_per_mtok", row.get("usd_per_request", float("inf")))


def _for_people(row: dict[str, Any], rank: int) -> dict[str, str]:
    base = {"workload": row["workload"], "rank": str(rank), "chip": row["chip"]}
    if row["note"]:
        return {**base, "chips": "-", "latency": "-", "throughput/chip": "-",
                "$": "-", "energy": "-", "bound": "infeasible: " + row["note"]}
    generation = row["unit"] == "tokens"
    layout = "" if row["chips_per_replica"] == 1 else f" ({row['layout']})"
    if generation:
        latency = f"TTFT {seconds_text(row['ttft_p99_s'])} TPOT {seconds_text(row['tpot_s'])}"
        cost, energy = f"{row['usd_per_mtok']:.3g} /1M tok", f"{row['joules_per_token']:.3g} J/tok"
    else:
        latency = f"p99 {seconds_text(row['latency_p99_s'])}"
        cost = f"{row['usd_per_mrequests']:.3g} /1M req"
        energy = f"{row['joules_per_request']:.3g} J/req"
    unit = "tok" if generation else "req"
    return {**base, "chips": f"{row['chips']:,}{layout}", "latency": latency,
            "throughput/chip": rate_text(row["per_chip_per_s"], unit),
            "$": cost, "energy": energy, "bound": row["bound"]}


@click.command("compare")
@click.option("--chips", "chip_names", default=",".join(DEFAULT_CHIPS), show_default=True,
              help="Comma-separated chip presets or .toml paths.")
@click.option("--workload", "workload_names", default=",".join(DEFAULT_WORKLOADS),
              show_default=True, help="Workload preset(s), comma-separated.")
@click.option("--qps", type=float, default=None,
              help="Size a fleet for this many requests/s (chips then counts the fleet).")
@click.option("--tokens-per-s", type=float, default=None,
              help="Generation: size a fleet for this many output tokens/s.")
@click.option("--prompt", type=int, default=None, help="Prompt tokens (generation; default 1024).")
@click.option("--output", type=int, default=None, help="Output tokens (generation; default 256).")
@click.option("--dtype", type=click.Choice(DTYPE_CHOICES), default="bf16", show_default=True)
@slo_options
@layout_options
@cost_options
@set_option
@format_option
def compare_command(chip_names: str, workload_names: str, qps: float | None,
                    tokens_per_s: float | None, prompt: int | None, output: int | None,
                    dtype: str, slo_p99: str | None, slo_ttft_p99: str | None,
                    slo_tpot_p99: str | None, slo_ttft_p50: str | None,
                    slo_tpot_p50: str | None, tp: int | None, pp: int | None, ep: int | None,
                    shards: int | None, price: float | None, years: float, usd_per_kwh: float,
                    pue: float, settings: tuple[str, ...], output_format: str) -> None:
    """Chips side by side on the same workload and SLO, cheapest per unit of work first.

    Each chip serves the workload at the highest load that meets the SLO (ranking: p99
    latency with queueing; generation: TTFT p99 and time per output token), in the
    cheapest of its smallest layout that fits and that layout's tensor-parallel
    widenings. Columns: chips per replica (or for the whole fleet with --qps /
    --tokens-per-s), latency, throughput per chip, $ per 1M requests or tokens (price
    amortised + energy, see perfmodel/cost.py), chip joules per unit, bound.

    \b
    Example: seedchip compare --chips h100-sxm,h20,seedchip-gen --workload llama3-70b
    """
    args = {"settings": parse_settings(settings), "prompt": prompt, "output": output,
            "dtype": dtype, "qps": qps, "tokens_per_s": tokens_per_s,
            "slo": (slo_p99, slo_ttft_p99, slo_tpot_p99, slo_ttft_p50, slo_tpot_p50),
            "layout": parse_layout(tp, pp, ep, shards),
            "cost": parse_cost(price, years, usd_per_kwh, pue)}
    chips = [name.strip() for name in chip_names.split(",") if name.strip()]
    workloads = [name.strip() for name in workload_names.split(",") if name.strip()]
    if not chips or not workloads:
        raise SeedchipError("--chips and --workload need at least one name each")
    rows, shown = [], []
    for workload in workloads:
        ranked = sorted((_row(chip, workload, args) for chip in chips), key=_cost_key)
        rows += ranked
        shown += [_for_people(row, rank) for rank, row in enumerate(ranked, 1)]
    if output_format == "csv":
        fields = sorted({key for row in rows for key in row}, key=_field_order(rows))
        rows = [{key: row.get(key, "") for key in fields} for row in rows]
    emit_rows(rows, output_format, shown)


def _field_order(rows: list[dict[str, Any]]):
    """First-seen order of keys across rows (for a stable CSV header)."""
    order: dict[str, int] = {}
    for row in rows:
        for key in row:
            order.setdefault(key, len(order))
    return order.__getitem__

