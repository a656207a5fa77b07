"""Plots for people (matplotlib, Agg backend, PNG or SVG by the file's extension)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from perfmodel import units
from perfmodel.errors import SeedchipError

PLOT_SUFFIXES = (".png", ".svg")


def _pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed), imported only when plotting."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def check_plot_path(path: str) -> None:
    """A clear error for an output path matplotlib cannot write, before any work is done."""
    target = Path(path)
    if target.suffix.lower() not in PLOT_SUFFIXES:
        raise SeedchipError(f"plot {path}: use a .png or .svg file name")
    if not target.parent.is_dir() and str(target.parent):
        raise SeedchipError(f"plot {path}: folder {target.parent} does not exist")


def predicted_vs_measured(path: str, labels: Sequence[str], predicted_s: Sequence[float],
                          measured_s: Sequence[float], title: str) -> None:
    """Log-log scatter of predicted against measured seconds, one colour and marker per
    label (up to 20 labels stay distinct), with the y = x line and +-20% band."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7, 6), dpi=120)
    colours = plt.get_cmap("tab20").colors
    for index, label in enumerate(dict.fromkeys(labels)):
        chosen = [i for i, name in enumerate(labels) if name == label]
        axes.scatter([measured_s[i] * 1e3 for i in chosen], [predicted_s[i] * 1e3 for i in chosen],
                     label=label, s=28, color=colours[index % len(colours)],
                     marker=PHASE_MARKERS[index // 10 % len(PHASE_MARKERS)])
    values = [v * 1e3 for v in (*predicted_s, *measured_s) if v > 0]
    low, high = min(values) / 1.5, max(values) * 1.5
    axes.plot([low, high], [low, high], color="black", linewidth=1, label="exact")
    axes.fill_between([low, high], [low * 0.8, high * 0.8], [low * 1.2, high * 1.2],
                      color="grey", alpha=0.2, label="±20%")
    axes.set(xscale="log", yscale="log", xlim=(low, high), ylim=(low, high),
             xlabel="measured time per call (ms)", ylabel="predicted time per call (ms)",
             title=title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


BOUND_COLOURS = {"compute": "tab:red", "memory": "tab:blue", "overhead": "tab:grey",
                 "network": "tab:green"}
PHASE_MARKERS = ("o", "^", "s", "D")


@dataclass(frozen=True)
class RooflinePoint:
    """An op kind of a phase: its arithmetic intensity and the flop rate the model gives it."""

    phase: str
    kind: str
    intensity_flops_per_byte: float
    flops_per_s: float
    bound: str


def roofline(path: str, title: str, ceilings_flops_per_s: dict[str, float],
             bandwidths_bytes_per_s: dict[str, float], points: Sequence[RooflinePoint]) -> None:
    """Log-log roofline: a horizontal line per compute ceiling, a diagonal per memory level,
    and each op kind at its intensity and modelled flop rate, coloured by bound."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8, 6), dpi=120)
    intensities = [p.intensity_flops_per_byte for p in points if p.intensity_flops_per_byte > 0]
    low = min([*intensities, 0.1]) / 4
    high = max([*intensities, 1000.0]) * 4
    top = max(ceilings_flops_per_s.values())
    for name, bandwidth in bandwidths_bytes_per_s.items():
        ridge = top / bandwidth
        xs = [low, min(ridge, high)]
        axes.plot(xs, [x * bandwidth for x in xs], linestyle="--", linewidth=1,
                  label=f"{name} {units.format_quantity(bandwidth, units.BYTES_PER_S)}")
    for name, ceiling in ceilings_flops_per_s.items():
        axes.axhline(ceiling, linewidth=1, color="black", alpha=0.6)
        axes.annotate(f"{name} {units.format_quantity(ceiling, units.FLOP_PER_S)}",
                      (low, ceiling), ha="left", va="bottom", fontsize=7)
    phases = list(dict.fromkeys(p.phase for p in points))
    for point in points:
        if point.intensity_flops_per_byte <= 0 or point.flops_per_s <= 0:
            continue
        marker = PHASE_MARKERS[phases.index(point.phase) % len(PHASE_MARKERS)]
        axes.scatter(point.intensity_flops_per_byte, point.flops_per_s, marker=marker, s=40,
                     color=BOUND_COLOURS.get(point.bound, "black"), zorder=3)
        axes.annotate(f"{point.kind} ({point.phase})", (point.intensity_flops_per_byte,
                                                       point.flops_per_s),
                      fontsize=7, xytext=(4, 2), textcoords="offset points")
    for bound, colour in BOUND_COLOURS.items():
        if any(p.bound == bound for p in points):
            axes.scatter([], [], color=colour, label=f"{bound}-bound")
    for index, phase in enumerate(phases):
        axes.scatter([], [], color="black", marker=PHASE_MARKERS[index % len(PHASE_MARKERS)],
                     label=phase)
    axes.set(xscale="log", yscale="log", xlim=(low, high),
             xlabel="arithmetic intensity (flop per byte of memory traffic)",
             ylabel="attained flop/s (model)", title=title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


SWEEP_FIGSIZE_IN, SWEEP_DPI = (7, 5), 100  # 700 x 500 pixels, small PNGs for docs/
MAX_TICK_LABELS = 12


@dataclass(frozen=True)
class HeatmapAxis:
    """A grid axis as drawn: its label (with unit) and one tick label per value."""

    label: str
    ticks: Sequence[str]


def heatmap(path: str, title: str, x: HeatmapAxis, y: HeatmapAxis, values: np.ndarray,
            colour_label: str) -> None:
    """One cell per (x, y) grid point coloured by ``values`` (shape len(y) x len(x)); NaN
    cells (points that do not fit memory) are left grey."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=SWEEP_FIGSIZE_IN, dpi=SWEEP_DPI)
    colours = plt.get_cmap("viridis").with_extremes(bad="lightgrey")
    image = axes.imshow(np.ma.masked_invalid(values), origin="lower", aspect="auto",
                        cmap=colours, interpolation="nearest")
    for set_ticks, labels in ((axes.set_xticks, x.ticks), (axes.set_yticks, y.ticks)):
        step = max(1, -(-len(labels) // MAX_TICK_LABELS))
        positions = list(range(0, len(labels), step))
        set_ticks(positions, [labels[i] for i in positions])
    axes.tick_params(axis="x", labelrotation=45)
    axes.set(xlabel=x.label, ylabel=y.label, title=title)
    figure.colorbar(image, ax=axes, label=colour_label, format="%.3g")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def pareto_scatter(path: str, title: str, x_label: str, y_label: str, xs: Sequence[float],
                   ys: Sequence[float], frontier_xs: Sequence[float],
                   frontier_ys: Sequence[float]) -> None:
    """Every point in grey, the Pareto frontier highlighted and joined; log axes where the
    values span more than two decades."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=SWEEP_FIGSIZE_IN, dpi=SWEEP_DPI)
    axes.scatter(xs, ys, s=10, color="lightgrey", label="grid points", rasterized=True)
    axes.plot(frontier_xs, frontier_ys, color="tab:red", marker="o", markersize=5,
              linewidth=1.5, label=f"Pareto frontier ({len(frontier_xs)} points)")
    for values, set_scale in ((xs, axes.set_xscale), (ys, axes.set_yscale)):
        positive = [value for value in values if value > 0]
        if positive and len(positive) == len(values) and max(positive) > 100 * min(positive):
            set_scale("log")
    axes.set(xlabel=x_label, ylabel=y_label, title=title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
