"""``seedchip bench``: kernel benchmarks with the model's prediction beside each; gates changes."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from benches.atomic import check_replaceable, has_json_format, write_atomically
from benches.commands.calibrate import DEFAULT_HOST_FILE
from benches.output import emit_rows, format_option, to_json
from perfmodel import units
from perfmodel.chip import load_chip


def _for_people(row) -> dict:
    share = row.share_of_model
    return {"kernel": row.kernel, "shape": row.shape,
            "median": units.format_quantity(row.median_s, units.SECONDS),
            "achieved": f"{row.achieved:.1f} {row.unit}",
            "predicted": (units.format_quantity(row.predicted_s, units.SECONDS)
                          if row.predicted_s else "-"),
            "of roofline": f"{share:.0%}" if share else "-"}


@click.command("bench")
@click.option("--chip", "chip_name", default=DEFAULT_HOST_FILE, show_default=True,
              help="Chip that predicts each benchmark (the calibrated host).")
@click.option("-o", "--output", "output_path", default=None,
              help="Write results with machine info as JSON (atomically).")
@click.option("--compare", "previous_path", default=None,
              help="An earlier -o file: flag benchmarks whose median got slower.")
@click.option("--threshold", default=0.10, show_default=True, type=click.FloatRange(0, 10),
              help="Relative slowdown of a median that counts as a regression.")
@click.option("-k", "expression", default=None, help="Only benchmarks matching this pytest -k.")
@format_option
def bench_command(chip_name: str, output_path: str | None, previous_path: str | None,
                  threshold: float, expression: str | None, output_format: str) -> None:
    """Run the kernel benchmark suite (the one `pytest benches --benchmark-only` runs), print
    achieved GFLOP/s or GB/s with the model's predicted time and the share of that roofline
    reached, and with --compare exit 1 when any median is slower by more than --threshold.

    Example: seedchip bench -o before.json && seedchip bench --compare before.json
    """
    from benches.bench import (RESULTS_FORMAT, compare, load_previous, results,
                               results_document, run_suite)

    if output_path:
        check_replaceable(output_path, has_json_format(RESULTS_FORMAT),
                          "seedchip bench results file")
    previous = load_previous(previous_path) if previous_path else None
    if chip_name == DEFAULT_HOST_FILE and not Path(chip_name).is_file():
        click.echo(f"no {chip_name} yet (seedchip calibrate): predicting with the nominal "
                   "host-cpu preset", err=True)
        chip_name = "host-cpu"
    chip = load_chip(chip_name)
    click.echo("running the benchmark suite...", err=True)
    rows = results(run_suite(expression), chip)
    document = results_document(rows, chip)
    if output_format == "json":
        click.echo(to_json(document))
    else:
        emit_rows(document["results"], output_format, [_for_people(row) for row in rows])
    if output_path:
        write_atomically(output_path, to_json(document) + "\n")
    if previous is None:
        return
    changes = compare(rows, previous)
    regressions = [c for c in changes if c.change > threshold]
    for change in changes:
        flag = "REGRESSION" if change in regressions else "ok"
        click.echo(f"{flag:>10}  {change.name}: {change.change:+.1%} "
                   f"({units.format_quantity(change.previous_s, units.SECONDS)} -> "
                   f"{units.format_quantity(change.current_s, units.SECONDS)})", err=True)
    if regressions:
        click.echo(f"seedchip: {len(regressions)} benchmark(s) slower by more than "
                   f"{threshold:.0%}", err=True)
        sys.exit(1)
