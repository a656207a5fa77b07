"""``seedchip sweep``: a grid of chip parameters against a workload or a mix; top points by
one objective or the Pareto frontier of two, as a table, JSON or CSV, and a plot."""

from __future__ import annotations

from typing import Any, Sequence

import click
import numpy as np

from benches.atomic import check_replaceable, has_json_format, write_atomically
from benches.commands.estimate import DEFAULT_OUTPUT, DEFAULT_PROMPT
from benches.commands.plan import cost_options, parse_cost
from benches.output import format_option, parse_settings, render_rows, set_option, to_json
from benches.plots import HeatmapAxis, check_plot_path, heatmap, pareto_scatter
from perfmodel import units
from perfmodel.chip import Chip, load_chip
from perfmodel.errors import SeedchipError
from perfmodel.grid import SYNTAX, Axis, Grid, build_grid, parse_vary
from perfmodel.sweep import (OBJECTIVES, SweepResult, Workload, frontier, objective, sweep,
                             top)
from workloads.config import DTYPE_CHOICES, LlmConfig, load_workload
from workloads.sweep import sweep_workload

DEFAULT_PARETO = ("latency", "usd_per_unit")
_SUFFIX = {units.BYTES: "bytes", units.BYTES_PER_S: "bytes_per_s", units.FLOP_PER_S: "flop_per_s",
           units.SECONDS: "s", units.WATTS: "w", units.USD: "usd", units.HERTZ: "hz",
           units.JOULES_PER_BIT: "j_per_bit"}


def _workloads(chip: Chip, workload_name: str | None, mix: str | None, batch: int | None,
               dtype: str, prompt: int | None, output: int | None) -> list[Workload]:
    """The one workload, or the mix ``name:weight[:batch],...`` (each at its own batch)."""
    if (workload_name is None) == (mix is None):
        raise SeedchipError("give exactly one of --workload and --mix")
    if workload_name is not None:
        return [_workload(chip, workload_name, 1.0, batch, dtype, prompt, output, False)]
    if batch is not None:
        raise SeedchipError("--batch applies to --workload; give a mix's batches as "
                            "name:weight:batch")
    result = []
    for item in mix.split(","):
        name, weight_text, batch_text = ([*item.strip().split(":"), ""])[:3]
        try:
            weight = float(weight_text)
            item_batch = int(batch_text) if batch_text else None
        except ValueError:
            raise SeedchipError(f"--mix {item!r}: expected name:weight or name:weight:batch, "
                                "e.g. dlrm-dcnv2:0.7,llama3-8b:0.3:32") from None
        if not weight > 0 or (item_batch is not None and item_batch < 1):
            raise SeedchipError(f"--mix {item!r}: weight and batch must be positive")
        result.append(_workload(chip, name, weight, item_batch, dtype, prompt, output, True))
    if len({w.name for w in result}) < len(result):
        raise SeedchipError("--mix lists a workload twice")
    return result


def _workload(chip: Chip, name: str, weight: float, batch: int | None, dtype: str,
              prompt: int | None, output: int | None, mixed: bool) -> Workload:
    """Defaults as `seedchip estimate`: one request's candidates, or batch 1 with a
    1024-token prompt and 256 output tokens. In a mix, --prompt and --output are for its
    generation workloads."""
    config = load_workload(name)
    if isinstance(config, LlmConfig):
        return sweep_workload(config, chip, batch or 1, dtype, prompt or DEFAULT_PROMPT,
                              output or DEFAULT_OUTPUT, weight)
    if mixed:
        prompt = output = None
    return sweep_workload(config, chip, batch or config.candidates, dtype, prompt, output,
                          weight)


def _pair(text: str) -> tuple[str, str]:
    names = tuple(name.strip() for name in text.split(","))
    if len(names) != 2:
        raise SeedchipError(f"--pareto {text!r}: name two objectives, e.g. latency,usd_per_unit")
    for name in names:
        objective(name)
    return names


def _axis_column(axis: Axis) -> str:
    suffix = _SUFFIX.get(axis.dimension or "")
    return f"{axis.name}_{suffix}" if suffix else axis.name


def _number(value: float) -> float | int:
    """Whole numbers (counts, byte sizes) as integers."""
    return int(value) if float(value).is_integer() else value


def _rows(result: SweepResult, indices: np.ndarray) -> list[dict[str, Any]]:
    """Raw rows (base units) for JSON and CSV."""
    point = result.grid.values(indices)
    rows = []
    for position, index in enumerate(indices):
        row = {_axis_column(axis): _number(point[axis.name][position].item())
               for axis in result.grid.axes}
        row.update({result.column(name): result.values[name][index].item()
                    for name in OBJECTIVES})
        row["fits"] = bool(result.fits[index])
        rows.append(row)
    return rows


def _show(result: SweepResult, name: str, value: float) -> str:
    unit = OBJECTIVES[name].unit_text(result.relative)
    if unit == "x base":
        return f"{value:.3g}x"
    if unit == "s":
        return units.format_quantity(value, units.SECONDS)
    if unit == "USD":
        return units.format_quantity(value, units.USD)
    return f"{value:.3g} {unit}"


def _table_rows(result: SweepResult, indices: np.ndarray) -> list[dict[str, str]]:
    point = result.grid.values(indices)
    return [{**{axis.name: axis.describe(point[axis.name][position])
                for axis in result.grid.axes},
             **{name: _show(result, name, result.values[name][index]) for name in OBJECTIVES}}
            for position, index in enumerate(indices)]


def _label(result: SweepResult, name: str) -> str:
    meta = OBJECTIVES[name]
    return f"{name} ({meta.unit_text(result.relative)}, {meta.better})"


def _axis_label(axis: Axis) -> str:
    return f"{axis.name} ({axis.dimension})" if axis.dimension else axis.name


def _plot(path: str, result: SweepResult, sort: str, pair: tuple[str, str], title: str) -> None:
    """A heatmap of ``sort`` over two parameters, else the Pareto scatter of ``pair``."""
    grid = result.grid
    if len(grid.axes) == 2:
        x_axis, y_axis = grid.axes[1], grid.axes[0]
        values = np.where(result.fits, result.values[sort], np.nan).reshape(grid.shape)
        heatmap(path, title,
                HeatmapAxis(_axis_label(x_axis), [x_axis.describe(v) for v in x_axis.values]),
                HeatmapAxis(_axis_label(y_axis), [y_axis.describe(v) for v in y_axis.values]),
                values, _label(result, sort))
        return
    chosen = frontier(result, *pair)
    fitting = np.flatnonzero(result.fits)
    xs, ys = (result.values[name] for name in pair)
    pareto_scatter(path, title, _label(result, pair[0]), _label(result, pair[1]),
                   xs[fitting], ys[fitting], xs[chosen], ys[chosen])


SWEEP_FORMAT = "seedchip-sweep"


def _written_by_sweep(text: str) -> bool:
    """A previous sweep's JSON, CSV (its objective columns) or table (its summary line)."""
    first = text.split("\n", 1)[0]
    return (has_json_format(SWEEP_FORMAT)(text)
            or ("chip_usd" in first.split(",") and "fits" in first.split(","))
            or (" on " in first and " points, " in first and first.endswith(" fit memory")))


def _document(result: SweepResult, chip: str, selection: dict[str, Any],
              rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"format": SWEEP_FORMAT, "chip": chip, "workloads": list(result.workloads),
            "relative_to_base_chip": result.relative,
            "axes": [{"name": axis.name, "dimension": axis.dimension,
                      "values": axis.values.tolist()} for axis in result.grid.axes],
            "points": result.grid.size, "points_that_fit": int(result.fits.sum()),
            "objectives": {name: {"column": result.column(name),
                                  "unit": meta.unit_text(result.relative),
                                  "better": meta.better} for name, meta in OBJECTIVES.items()},
            "selection": selection, "rows": rows}


@click.command("sweep")
@click.option("--chip", "chip_name", required=True, help="Base chip preset or .toml file.")
@set_option
@click.option("--workload", "workload_name", default=None, help="One workload preset or file.")
@click.option("--mix", default=None, metavar="NAME:WEIGHT[:BATCH],...",
              help="A weighted mix; weights are shares of the base chip's time, results are "
                   "relative to the base chip (see README, Design-space exploration).")
@click.option("--vary", "varies", multiple=True, required=True, metavar="RANGE",
              help=f"A chip parameter (a --set name) and its values: {SYNTAX}, e.g. "
                   "sram=32MiB..512MiB:x2, hbm_bandwidth=1TB/s..8TB/s:8, memory_count=2,4,6,8. "
                   "Repeat for a grid.")
@click.option("--batch", type=click.IntRange(1), default=None,
              help="Samples (recommendation; default one request) or sequences (generation; "
                   "default 1).")
@click.option("--prompt", type=click.IntRange(1), default=None,
              help=f"Prompt tokens (generation; default {DEFAULT_PROMPT}).")
@click.option("--output", "output_tokens", type=click.IntRange(1), default=None,
              help=f"Output tokens (generation; default {DEFAULT_OUTPUT}).")
@click.option("--dtype", type=click.Choice(DTYPE_CHOICES), default="bf16", show_default=True)
@click.option("--sort", "sort", type=click.Choice(list(OBJECTIVES)), default="usd_per_unit",
              show_default=True, help="Objective for --top and the heatmap.")
@click.option("--top", "top_count", type=click.IntRange(0), default=10, show_default=True,
              help="Rows to list, best first by --sort (0: every point).")
@click.option("--pareto", default=None, metavar="A,B",
              help=f"List the Pareto frontier of two objectives instead "
                   f"({', '.join(OBJECTIVES)}).")
@click.option("--plot", "plot_path", default=None,
              help="A .png or .svg: heatmap of --sort when two parameters vary, else the "
                   "Pareto scatter of --pareto (default latency,usd_per_unit).")
@cost_options
@format_option
@click.option("-o", "--out", "out_path", default=None, help="Write the results to this file.")
def sweep_command(chip_name: str, settings: tuple[str, ...], workload_name: str | None,
                  mix: str | None, varies: Sequence[str], batch: int | None,
                  prompt: int | None, output_tokens: int | None, dtype: str, sort: str,
                  top_count: int, pareto: str | None, plot_path: str | None,
                  price: float | None, years: float, usd_per_kwh: float, pue: float,
                  output_format: str, out_path: str | None) -> None:
    """Evaluate every combination of chip parameter values at once (numpy broadcasting) for
    latency, throughput, $ and J per request, chip price and power; list the best points
    or the Pareto frontier of two objectives. Points whose main memory cannot hold the
    workload are left out of rankings. One chip, no multi-chip layouts.

    Example: seedchip sweep --chip seedchip-rec --workload dlrm-dcnv2 --vary sram=32MiB..512MiB:x2 --vary memory_bandwidth=0.25TB/s..4TB/s:16 --pareto latency,power
    """
    if plot_path:
        check_plot_path(plot_path)
    if out_path:
        check_replaceable(out_path, _written_by_sweep, "seedchip sweep results file")
    axes = [parse_vary(text) for text in varies]
    pair = _pair(pareto) if pareto else None
    overrides = parse_settings(settings)
    chip = load_chip(chip_name, overrides)
    workloads = _workloads(chip, workload_name, mix, batch, dtype, prompt, output_tokens)
    grid: Grid = build_grid(chip_name, axes, overrides)
    result = sweep(grid, workloads, chip, parse_cost(price, years, usd_per_kwh, pue))
    if not result.fits.any():
        raise SeedchipError(f"no grid point's main memory holds {', '.join(result.workloads)}")
    if pair:
        indices = frontier(result, *pair)
        selection = {"kind": "pareto", "objectives": list(pair)}
        heading = f"Pareto frontier of {_label(result, pair[0])} and {_label(result, pair[1])}"
    else:
        indices = top(result, sort, top_count)
        selection = {"kind": "top", "objective": sort, "count": top_count}
        heading = f"best {len(indices)} by {_label(result, sort)}"
    title = f"{' + '.join(result.workloads)} on {chip.name} ({dtype})"
    summary = (f"{title}: {heading}; {result.grid.size:,} points, "
               f"{int(result.fits.sum()):,} fit memory")
    rows = _rows(result, indices)
    if output_format == "json":
        text = to_json(_document(result, chip.name, selection, rows)) + "\n"
    elif output_format == "csv":
        text = render_rows(rows, "csv")
    else:
        text = summary + "\n" + render_rows(rows, "table", _table_rows(result, indices))
    if out_path:
        write_atomically(out_path, text)
        click.echo(f"wrote {out_path}", err=True)
    else:
        click.echo(text, nl=False)
    if plot_path:
        _plot(plot_path, result, sort, pair or DEFAULT_PARETO, title)
        click.echo(f"wrote {plot_path}", err=True)
