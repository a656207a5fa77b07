"""The ``seedchip`` command line: one click group, one module per command family.

Only the commands format numbers for people. The model path (chips, estimate, compare,
sweep) never imports numba; commands that run kernels import them inside the command.
"""

from __future__ import annotations

import signal
import sys
from typing import Any

import click

from benches.commands.bench import bench_command
from benches.commands.calibrate import calibrate_command
from benches.commands.chips import chip_command, chips_command
from benches.commands.compare import compare_command
from benches.commands.estimate import estimate_command, workloads_command
from benches.commands.memory import memory_command
from benches.commands.plan import plan_command
from benches.commands.roofline import roofline_command
from benches.commands.run import run_command
from benches.commands.sweep import sweep_command
from benches.commands.validate import validate_command
from perfmodel.errors import SeedchipError


class Terminated(Exception):
    """SIGTERM arrived: unwind like Ctrl-C so no half-written file is left behind."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


def _fail(message: str) -> None:
    """One line on stderr, exit status 2; a line break the user typed shows as \\n."""
    click.echo(f"seedchip: error: {message.strip()}".replace("\n", "\\n"), err=True)
    sys.exit(2)


class SeedchipGroup(click.Group):
    """A group whose user errors (bad options, bad values, SeedchipError) are one line + exit 2.

    Any other exception is a bug in seedchip and keeps its traceback (exit 1).
    """

    def main(self, args: Any = None, prog_name: str | None = None, **extra: Any) -> Any:
        extra.pop("standalone_mode", None)
        try:
            result = super().main(args, prog_name or "seedchip", standalone_mode=False, **extra)
        except SeedchipError as error:
            _fail(str(error))
        except click.UsageError as error:
            command = error.ctx.command_path if error.ctx else "seedchip"
            _fail(f"{error.format_message()} (see '{command} --help')")
        except click.ClickException as error:
            _fail(error.format_message())
        except (click.Abort, KeyboardInterrupt):
            click.echo("seedchip: interrupted; results files were left as they were", err=True)
            sys.exit(130)
        except Terminated:
            click.echo("seedchip: terminated; results files were left as they were", err=True)
            sys.exit(143)
        sys.exit(result if isinstance(result, int) else 0)


@click.group(cls=SeedchipGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """seedchip: latency, throughput, $ and joules of inference on real and hypothetical chips.

    Example: seedchip chips
    """


cli.add_command(chips_command)
cli.add_command(chip_command)
cli.add_command(memory_command)
cli.add_command(workloads_command)
cli.add_command(estimate_command)
cli.add_command(plan_command)
cli.add_command(compare_command)
cli.add_command(sweep_command)
cli.add_command(roofline_command)
cli.add_command(run_command)
cli.add_command(calibrate_command)
cli.add_command(validate_command)
cli.add_command(bench_command)


def main() -> None:
    """Console entry point; SIGTERM stops a run as cleanly as Ctrl-C."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    cli.main(prog_name="seedchip")
