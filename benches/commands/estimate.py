"""``seedchip workloads`` and ``seedchip estimate``: model presets, and one workload on one chip."""

from __future__ import annotations

import csv
import io
from typing import Any

import click
from tabulate import tabulate

from benches.commands.plan import cost_options, layout_options, parse_cost, parse_layout
from benches.output import emit_rows, format_option, parse_settings, set_option, shorten, to_json
from perfmodel import units
from perfmodel.chip import load_chip
from perfmodel.errors import SeedchipError
from workloads.config import DTYPE_CHOICES, LlmConfig, load_workload, preset_names
from workloads.estimate import Estimate, estimate, fit_layout, max_batch
from workloads.graphs import flops_per_unit, param_count, weight_bytes

DEFAULT_PROMPT = 1024
DEFAULT_OUTPUT = 256


def _workload_row(name: str) -> dict[str, Any]:
    config = load_workload(name)
    generation = isinstance(config, LlmConfig)
    flops = flops_per_unit(config)
    return {
        "name": config.name,
        "family": config.family,
        "kind": config.kind,
        "params": param_count(config),
        "active_params": config.param_count(active=True) if generation else None,
        "weight_bytes": weight_bytes(config),
        "flops_per_sample": None if generation else flops,
        "flops_per_token": flops if generation else None,
        "source": config.source,
    }


def _workload_for_people(row: dict[str, Any]) -> dict[str, str]:
    params = f"{row['params'] / 1e9:.3g}B" if row["params"] >= 1e8 else f"{row['params'] / 1e6:.3g}M"
    if row["active_params"] is not None and row["active_params"] != row["params"]:
        params += f" ({row['active_params'] / 1e9:.3g}B active)"
    per_token = row["flops_per_token"] is not None
    flops = row["flops_per_token"] if per_token else row["flops_per_sample"]
    return {
        "workload": row["name"],
        "family": row["family"],
        "params": params,
        "bytes (bf16)": units.format_quantity(row["weight_bytes"], units.BYTES),
        "flops": f"{units.format_quantity(flops, 'FLOP')}/{'token' if per_token else 'sample'}",
        "source": shorten(row["source"], 60),
    }


@click.command("workloads")
@format_option
def workloads_command(output_format: str) -> None:
    """List workload presets: parameters, weight or table bytes at bf16, flops per
    sample (recommendation) or per token (generation, decode at empty context), source.

    Example: seedchip workloads --format json
    """
    rows = [_workload_row(name) for name in preset_names()]
    emit_rows(rows, output_format, [_workload_for_people(row) for row in rows])


def _parse_batch(text: str) -> int | None:
    """An integer >= 1, or None for 'max'."""
    if text == "max":
        return None
    try:
        value = int(text)
    except ValueError:
        raise SeedchipError(f"--batch {text!r}: expected a positive integer or 'max'") from None
    if value < 1:
        raise SeedchipError(f"--batch must be >= 1 (or 'max'), got {value}")
    return value


@click.command("estimate")
@click.option("--chip", "chip_name", required=True, help="Chip preset or .toml path.")
@click.option("--workload", "workload_name", required=True,
              help="Workload preset (see `seedchip workloads`) or .toml path.")
@click.option("--batch", "batch_text", default=None, metavar="N|max",
              help="Samples (recommendation) or sequences (generation) per batch; 'max': the "
                   "largest that fits memory. Default: one request (the preset's candidates) "
                   "for recommendation, 1 for generation.")
@click.option("--prompt", type=int, default=None,
              help=f"Prompt tokens (generation; default {DEFAULT_PROMPT}).")
@click.option("--output", type=int, default=None,
              help=f"Output tokens (generation; default {DEFAULT_OUTPUT}).")
@click.option("--dtype", type=click.Choice(DTYPE_CHOICES), default="bf16", show_default=True,
              help="Compute and weight precision (int8: weight-only for generation, row-wise "
                   "int8 tables for recommendation).")
@layout_options
@cost_options
@set_option
@format_option
def estimate_command(chip_name: str, workload_name: str, batch_text: str | None,
                     prompt: int | None, output: int | None, dtype: str,
                     tp: int | None, pp: int | None, ep: int | None, shards: int | None,
                     price: float | None, years: float, usd_per_kwh: float, pue: float,
                     settings: tuple[str, ...], output_format: str) -> None:
    """Latency, throughput, bound, memory fit and cost of one workload on one replica.

    The replica is the smallest layout whose chips hold the batch (one chip when it
    fits), or the one --tp/--pp/--ep (generation) or --shards (recommendation) give.
    Cost assumes the chips busy all the time (see `seedchip plan` for cost under an SLO).

    Example: seedchip estimate --chip h100-sxm --workload llama3-8b --batch 32 --prompt 1024 --output 256
    """
    chip = load_chip(chip_name, parse_settings(settings))
    config = load_workload(workload_name)
    if isinstance(config, LlmConfig):
        prompt = DEFAULT_PROMPT if prompt is None else prompt
        output = DEFAULT_OUTPUT if output is None else output
    if batch_text is None:
        batch = 1 if isinstance(config, LlmConfig) else config.candidates
    else:
        batch = _parse_batch(batch_text)
    layout = parse_layout(tp, pp, ep, shards)
    if layout is None:
        layout = fit_layout(config, chip, dtype, prompt, output, batch or 1)
    if batch is None:
        batch = max_batch(config, chip, dtype, prompt, output, layout)
    result = estimate(config, chip, batch, dtype, prompt, output, layout,
                      parse_cost(price, years, usd_per_kwh, pue))
    if output_format == "json":
        click.echo(to_json(_as_json(result)))
    elif output_format == "csv":
        _echo_csv(result)
    else:
        click.echo(_title(result))
        click.echo(tabulate(_summary_rows(result), tablefmt="plain", disable_numparse=True))
        click.echo()
        click.echo(tabulate([_breakdown_for_people(row) for row in result.breakdown],
                            headers="keys", disable_numparse=True))


def _warnings(result: Estimate) -> list[str]:
    m = result.memory
    if m.fits:
        return []
    where = f"one {result.chip}" if result.layout.is_single else (
        f"each {result.chip} of {result.layout.describe()}")
    return [f"does not fit on {where}: needs {_bytes(m.total_bytes)} of "
            f"{_bytes(m.capacity_bytes)} per chip; use more chips (--tp/--pp/--ep, --shards) "
            "or leave them out to choose the smallest layout that fits"]


def _as_json(result: Estimate) -> dict[str, Any]:
    m = result.memory
    data: dict[str, Any] = {
        "chip": result.chip, "workload": result.workload, "family": result.family,
        "dtype": result.dtype, "batch": result.batch, "latency_s": result.latency_s,
        "throughput_per_s": result.throughput_per_s, "throughput_unit": result.throughput_unit,
        "requests_per_s": result.requests_per_s, "bound": result.bound,
        "chips": result.chips,
        "layout": {"tp": result.layout.tp, "pp": result.layout.pp, "ep": result.layout.ep,
                   "shards": result.layout.shards},
        "usd_per_request": result.usd_per_request,
        "joules_per_request": result.joules_per_request,
        "fits_in_memory": result.fits_in_memory,
        "memory": {"weight_bytes": m.weight_bytes, "kv_cache_bytes": m.kv_cache_bytes,
                   "activation_bytes": m.activation_bytes, "total_bytes": m.total_bytes,
                   "capacity_bytes": m.capacity_bytes},
        "warnings": _warnings(result),
    }
    if result.family == "generation":
        data.update(prompt=result.prompt, output=result.output, ttft_s=result.ttft_s,
                    tpot_s=result.tpot_s, decode_tokens_per_s=result.decode_tokens_per_s,
                    usd_per_mtok=result.usd_per_mtok, joules_per_token=result.joules_per_token)
    else:
        data.update(candidates=result.candidates, batch_latency_s=result.batch_latency_s)
    data["breakdown"] = [_breakdown_json(row) for row in result.breakdown]
    return data


def _breakdown_json(row) -> dict[str, Any]:
    return {"phase": row.phase, "kind": row.kind, "time_s": row.time_s, "share": row.share,
            "flops": row.flops, "bytes": row.bytes, "bound": row.bound}


def _echo_csv(result: Estimate) -> None:
    """One CSV row per breakdown row, each carrying the run's identifying fields."""
    head = {"chip": result.chip, "workload": result.workload, "dtype": result.dtype,
            "batch": result.batch, "latency_s": result.latency_s,
            "throughput_per_s": result.throughput_per_s}
    rows = [{**head, **_breakdown_json(row)} for row in result.breakdown]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    click.echo(buffer.getvalue(), nl=False)


def _seconds(value: float) -> str:
    return units.format_quantity(value, units.SECONDS)


def _bytes(value: float) -> str:
    return units.format_quantity(value, units.BYTES)


def _rate(value: float, unit: str) -> str:
    return f"{value:,.4g} {unit}/s" if value < 1e4 else f"{value:,.0f} {unit}/s"


def _title(result: Estimate) -> str:
    chips = "" if result.layout.is_single else f" x {result.chips} ({result.layout.describe()})"
    head = f"{result.workload} on {result.chip}{chips} ({result.dtype}): batch {result.batch}"
    if result.family == "generation":
        return f"{head}, prompt {result.prompt}, output {result.output}"
    return f"{head} samples, {result.candidates} candidates per request"


def _summary_rows(result: Estimate) -> list[tuple[str, str]]:
    m = result.memory
    if result.family == "generation":
        rows = [("latency per request", _seconds(result.latency_s)),
                ("TTFT", _seconds(result.ttft_s)),
                ("time per output token", _seconds(result.tpot_s)),
                ("throughput", _rate(result.throughput_per_s, "tokens") + " (output, whole batch)"),
                ("decode throughput", _rate(result.decode_tokens_per_s, "tokens"))]
    else:
        rows = [("latency per request", _seconds(result.latency_s)),
                ("batch latency", _seconds(result.batch_latency_s)),
                ("throughput", _rate(result.throughput_per_s, "samples"))]
    memory_text = (f"{_bytes(m.total_bytes)} of {_bytes(m.capacity_bytes)} "
                   f"({m.total_bytes / m.capacity_bytes:.0%}): weights {_bytes(m.weight_bytes)}")
    if m.kv_cache_bytes:
        memory_text += f", KV cache {_bytes(m.kv_cache_bytes)}"
    memory_text += f", activations {_bytes(m.activation_bytes)}"
    cost_text = f"{result.usd_per_request:.3g} USD, {result.joules_per_request:.3g} J per request"
    if result.usd_per_mtok is not None:
        cost_text += (f"; {result.usd_per_mtok:.3g} USD per 1M tokens, "
                      f"{result.joules_per_token:.3g} J per token")
    rows += [("requests", _rate(result.requests_per_s, "req")),
             ("bound", result.bound),
             ("cost (busy chips)", cost_text),
             ("memory", memory_text + ("" if result.layout.is_single else " per chip"))]
    rows += [("warning", text) for text in _warnings(result)]
    return rows


def _breakdown_for_people(row) -> dict[str, str]:
    return {"phase": row.phase, "op kind": row.kind, "time": _seconds(row.time_s),
            "share": f"{row.share:.1%}", "flops": units.format_quantity(row.flops, "FLOP"),
            "bytes": _bytes(row.bytes), "bound": row.bound}
