"""``seedchip roofline``: a workload's op kinds on the chip's roofline, as a picture."""

from __future__ import annotations

import click

from benches.output import parse_settings, set_option
from benches.plots import RooflinePoint, check_plot_path, roofline
from perfmodel.chip import Chip, load_chip
from perfmodel.errors import SeedchipError
from perfmodel.roofline import GraphTiming, time_graph
from workloads.config import DTYPE_CHOICES, LlmConfig, load_workload
from workloads.graphs import graph
from workloads.precision import precision


def _points(phase: str, timing: GraphTiming) -> list[RooflinePoint]:
    return [RooflinePoint(phase, kind.kind.value, kind.flops / kind.bytes if kind.bytes else 0.0,
                          kind.flops / kind.total_s if kind.total_s else 0.0, kind.bound)
            for kind in timing.by_kind()]


def _ceilings(chip: Chip, compute_dtype: str) -> dict[str, float]:
    ceilings = {"vector": chip.vector_flops_per_s * chip.compute_efficiency}
    if compute_dtype in chip.matrix_flops_per_s:
        ceilings[f"{compute_dtype} matrix"] = (chip.peak_flops_per_s(compute_dtype)
                                               * chip.compute_efficiency)
    return ceilings


@click.command("roofline")
@click.option("--chip", "chip_name", required=True, help="Chip preset or .toml file.")
@set_option
@click.option("--workload", "workload_name", required=True, help="Workload preset or .toml file.")
@click.option("--batch", default=1, show_default=True, type=click.IntRange(1),
              help="Samples (recommendation) or sequences (generation).")
@click.option("--prompt", default=1024, show_default=True, type=click.IntRange(1),
              help="Prompt tokens (generation).")
@click.option("--output", "output_tokens", default=256, show_default=True,
              type=click.IntRange(1), help="Output tokens; decode is drawn at the mid context.")
@click.option("--dtype", type=click.Choice(DTYPE_CHOICES), default="bf16", show_default=True)
@click.option("-o", "--out", "plot_path", required=True, help="A .png or .svg file to write.")
def roofline_command(chip_name: str, settings: tuple[str, ...], workload_name: str, batch: int,
                     prompt: int, output_tokens: int, dtype: str, plot_path: str) -> None:
    """Draw the chip's roofline (compute ceilings, one bandwidth line per memory level) with
    each op kind of the workload at its arithmetic intensity, coloured by what bounds it.

    Example: seedchip roofline --chip seedchip-gen --workload llama3-8b --batch 32 -o roofline.png
    """
    check_plot_path(plot_path)
    chip = load_chip(chip_name, parse_settings(settings))
    config = load_workload(workload_name)
    if isinstance(config, LlmConfig):
        phases = {"prefill": graph(config, batch, dtype, prompt=prompt),
                  "decode": graph(config, batch, dtype, context=prompt + output_tokens // 2)}
    else:
        phases = {"batch": graph(config, batch, dtype)}
    points = [point for phase, nodes in phases.items()
              for point in _points(phase, time_graph(nodes, chip))]
    if not points:
        raise SeedchipError(f"{workload_name}: nothing to draw")
    bandwidths = {level.name: level.achievable_bytes_per_s for level in chip.memory}
    roofline(plot_path, f"{config.name} on {chip.name} ({dtype}, batch {batch})",
             _ceilings(chip, precision(dtype, config.family).compute), bandwidths, points)
    click.echo(f"wrote {plot_path}", err=True)
