"""``seedchip validate``: predicted vs measured on this host, per case and per op kind."""

from __future__ import annotations

import sys

from pathlib import Path

import click

from benches.atomic import check_replaceable, has_json_format, write_atomically
from benches.commands.calibrate import DEFAULT_HOST_FILE
from benches.hostfile import state_path
from benches.output import emit_rows, format_option, to_json
from benches.timing import HOST_TOLERANCE
from perfmodel import units
from perfmodel.chip import Chip, load_chip
from perfmodel.errors import SeedchipError

RESULTS_FORMAT = "seedchip-validate/1"
FULL_ROUNDS = 21
QUICK_ROUNDS = 7
"""Interleaved rounds per case: enough that each median spans minutes of a shared machine
whose speed changes in phases of tens of seconds (see the README's measurement notes)."""


def _case_row(result) -> dict:
    return {"group": result.group, "kind": result.kind, "case": result.name,
            "predicted_s": result.predicted_s, "measured_s": result.measured_s,
            "spread": result.spread, "ratio": result.ratio, "error": result.error,
            "bound": result.bound, "rounds": result.rounds}


def _case_for_people(row: dict) -> dict:
    return {"kind": row["kind"], "case": row["case"],
            "predicted": units.format_quantity(row["predicted_s"], units.SECONDS),
            "measured": units.format_quantity(row["measured_s"], units.SECONDS),
            "spread": f"{row['spread']:.0%}", "ratio": f"{row['ratio']:.2f}",
            "error": f"{row['error']:+.0%}", "bound": row["bound"]}


def _summary_row(summary) -> dict:
    return {"group": summary.group, "kind": summary.kind, "cases": summary.cases,
            "median_abs_error": summary.median_abs_error,
            "max_abs_error": summary.max_abs_error, "within_10": summary.within_10,
            "within_20": summary.within_20, "within_50": summary.within_50}


DRIFT_CEILINGS = ("gemm", "vector", "transcendental", "dram_read", "overhead")


def _drift_row(when: str, drift) -> dict:
    return {"when": when, **{ceiling: getattr(drift, ceiling) for ceiling in DRIFT_CEILINGS}}


def drift_warning(drifts: list[dict]) -> str | None:
    """A line for the reader when the host ran more than HOST_TOLERANCE away from its
    calibrated speed on some ceiling, naming the range: errors of the cases bound by that
    ceiling include the machine's change, not only the model's."""
    moved = []
    for ceiling in DRIFT_CEILINGS:
        values = [row[ceiling] for row in drifts]
        if any(abs(value - 1.0) > HOST_TOLERANCE for value in values):
            moved.append(f"{ceiling} {min(values):.2f}-{max(values):.2f}x")
    if not moved:
        return None
    return ("note: this host ran away from its calibrated speed during validation ("
            + ", ".join(moved) + "); errors of the cases bound by it include that change")


def _host_states(chip_name: str) -> list[Chip]:
    """The chip file and the other host states calibrated with it (``state_path``: written
    by the same calibration, so with the same source line), the first first."""
    chips = [load_chip(chip_name)]
    state = 2
    while Path(state_path(chip_name, state)).is_file():
        other = load_chip(state_path(chip_name, state))
        if other.source != chips[0].source:  # left by an earlier calibration
            break
        chips.append(other)
        state += 1
    return chips


def rounds_line(speeds: list[float], used: int, rounds: int) -> str:
    """What the medians are over: the rounds run on the host as calibrated, or all."""
    read = (f"DRAM read between rounds {min(speeds):.2f}-{max(speeds):.2f}x of the chip file"
            if speeds else "no DRAM reads between rounds")
    if used < rounds:
        return (f"{read}; medians over the {used} of {rounds} rounds that began and ended "
                f"within {HOST_TOLERANCE:.0%} of it")
    return f"{read}; medians over all {rounds} rounds"


def _summary_for_people(row: dict) -> dict:
    return {"group": row["group"], "kind": row["kind"], "cases": str(row["cases"]),
            "median |error|": f"{row['median_abs_error']:.0%}",
            "max |error|": f"{row['max_abs_error']:.0%}",
            **{f"within {limit}%": f"{row[f'within_{limit}']:.0%}" for limit in (10, 20, 50)}}


@click.command("validate")
@click.option("--chip", "chip_name", default=DEFAULT_HOST_FILE, show_default=True,
              help="The calibrated host chip file (from seedchip calibrate).")
@click.option("--quick", is_flag=True, help="Fewer cases and rounds (under 3 minutes).")
@click.option("-o", "--output", "output_path", default=None,
              help="Also write the results as JSON (atomically).")
@click.option("--plot", "plot_path", default=None,
              help="Draw predicted vs measured on log axes to a .png or .svg file.")
@format_option
def validate_command(chip_name: str, quick: bool, output_path: str | None,
                     plot_path: str | None, output_format: str) -> None:
    """Run kernels and workloads on this host at shapes calibration never used, predict each
    with the calibrated chip, and print predicted, measured, ratio and error per case, then
    median and max |error| per op kind and per workload.

    Example: seedchip calibrate && seedchip validate --quick --plot validation.png
    """
    if chip_name == DEFAULT_HOST_FILE and not Path(chip_name).is_file():
        raise SeedchipError(f"no calibrated host chip at {chip_name}: run `seedchip calibrate` "
                            "first, or pass --chip")
    chips = _host_states(chip_name)
    if output_path:
        check_replaceable(output_path, has_json_format(RESULTS_FORMAT),
                          "seedchip validate results file")
    if plot_path:
        from benches.plots import check_plot_path
        check_plot_path(plot_path)
    from benches.calibrate import dram_speed, drift
    from benches.validate import all_cases, run_cases, speeds_against, summarize  # imports numba

    cases = all_cases(quick)
    rounds = QUICK_ROUNDS if quick else FULL_ROUNDS
    before = drift(chips)  # measured once, against each state
    with click.progressbar(length=len(cases) + rounds, label="validating", file=sys.stderr,
                           item_show_func=lambda label: label) as bar:
        validation = run_cases(cases, chips, rounds, lambda label: bar.update(1, label),
                               dram_speed(chips[0]))
    rounds = len(validation.speeds) - 1  # more than asked when too few ran as calibrated
    chip, results = chips[validation.chip_index], validation.results
    speeds = speeds_against(validation.speeds, chips, chip)
    drifts = [_drift_row("before", before[validation.chip_index]),
              _drift_row("after", drift([chip])[0])]
    rows = [_case_row(result) for result in results]
    summary = [_summary_row(item) for item in summarize(results)]
    document = {"format": RESULTS_FORMAT, "chip": chip.name, "source": chip.source,
                "chip_file": state_path(chip_name, validation.chip_index + 1),
                "chip_files": len(chips),
                "cases": rows, "summary": summary, "drift": drifts,
                "dram_read_by_round": speeds, "rounds": rounds,
                "rounds_used": results[0].rounds if results else 0}
    if output_format == "json":
        click.echo(to_json(document))
    else:
        emit_rows(rows, output_format, [_case_for_people(row) for row in rows])
        click.echo()
        emit_rows(summary, output_format, [_summary_for_people(row) for row in summary])
        click.echo()
        click.echo("host speed against the chip file (1.00 = as calibrated; the machine's own "
                   "noise, not model error):")
        emit_rows(drifts, output_format, [{key: value if key == "when" else f"{value:.2f}"
                                           for key, value in row.items()} for row in drifts])
        warning = drift_warning(drifts)
        if warning:
            click.echo(warning)
        click.echo(rounds_line(speeds, document["rounds_used"], rounds))
        if len(chips) > 1:
            click.echo(f"compared with {document['chip_file']}, the calibrated host state most "
                       f"rounds ran in (of {len(chips)})")
    if output_path:
        write_atomically(output_path, to_json(document) + "\n")
    if plot_path:
        from benches.plots import predicted_vs_measured
        predicted_vs_measured(plot_path, [row["kind"] for row in rows],
                              [row["predicted_s"] for row in rows],
                              [row["measured_s"] for row in rows],
                              f"seedchip validate on {chip.name}: predicted vs measured")
