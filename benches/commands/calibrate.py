"""``seedchip calibrate``: measure the host with microbenchmarks and write its chip file."""

from __future__ import annotations

import sys

import click

from benches.atomic import check_replaceable, write_atomically
from benches.output import emit_rows, format_option
from benches.timing import HOST_TOLERANCE
from perfmodel import units

DEFAULT_HOST_FILE = "host.toml"


@click.command("calibrate")
@click.option("-o", "--output", "output_path", default=DEFAULT_HOST_FILE, show_default=True,
              help="Chip file to write (atomically).")
@format_option
def calibrate_command(output_path: str, output_format: str) -> None:
    """Measure this host (GEMM peak, vector peak, cache and DRAM bandwidth, random-row gathers,
    per-call overhead) and write a chip file that every command accepts as --chip.

    Microbenchmarks only: validation shapes never feed back into this file. When the host
    ran in more than one state (this one moves its CPUs between core complexes, and its
    DRAM reads with them), each further state with enough rounds gets a file of its own
    beside it (host.state2.toml), and validate compares with the state it runs in.

    Example: seedchip calibrate -o host.toml && seedchip validate --chip host.toml
    """
    from benches.calibrate import calibrate, calibration_steps  # imports numba
    from benches.hostfile import HEADER, host_chip_toml, state_name, state_path
    from perfmodel.chip import load_chip

    def check(path: str) -> None:
        check_replaceable(path, lambda text: text.startswith(HEADER),
                          "host chip file written by seedchip calibrate")

    check(output_path)
    check(state_path(output_path, 2))  # the second state's, the usual most
    with click.progressbar(length=calibration_steps(), label="calibrating", file=sys.stderr,
                           item_show_func=lambda name: name) as bar:
        calibrations = calibrate(lambda name: bar.update(1, name))
    for calibration in calibrations:
        path = state_path(output_path, calibration.state)
        check(path)
        write_atomically(path, host_chip_toml(calibration, load_chip("host-cpu")))
        load_chip(path)  # the file must load like any preset
    calibration = calibrations[0]
    rows = [{"measurement": m.name, "value": m.value, "dimension": m.dimension,
             "spread": m.spread, "detail": m.detail} for m in calibration.measurements]
    emit_rows(rows, output_format, [
        {"measurement": row["measurement"],
         "value": units.format_quantity(row["value"], row["dimension"]),
         "spread": f"{row['spread']:.0%}", "detail": row["detail"]} for row in rows])
    for calibration in calibrations:
        path = state_path(output_path, calibration.state)
        click.echo(f"wrote {path}: medians over the {calibration.rounds_kept} of "
                   f"{calibration.rounds} rounds run in {state_name(calibration)} (DRAM "
                   f"reads within {HOST_TOLERANCE:.0%} of one rate, "
                   f"{units.format_quantity(calibration.value('dram_read'), units.BYTES_PER_S)})",
                   err=True)
