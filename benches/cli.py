"""The ``seedchip`` command line: one click group, one subcommand per job.

Only this module formats numbers for people. The model path (chips, estimate, compare,
sweep) never imports numba; commands that run kernels import them inside the command.
"""

from __future__ import annotations

import sys

import click

from benches.commands.chips import chip_command, chips_command
from benches.commands.estimate import estimate_command, workloads_command
from perfmodel.errors import SeedchipError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """seedchip: latency, throughput, $ and joules of inference on real and hypothetical chips."""


cli.add_command(chips_command)
cli.add_command(chip_command)
cli.add_command(workloads_command)
cli.add_command(estimate_command)


def main() -> None:
    """Console entry point: user errors become one line on stderr and exit status 2."""
    try:
        cli.main(standalone_mode=False)
    except SeedchipError as error:
        click.echo(f"seedchip: error: {error}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("seedchip: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(2 if error.exit_code == 2 else error.exit_code)
