"""Plots for people (matplotlib, Agg backend, PNG or SVG by the file's extension)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

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
    """Log-log scatter of predicted against measured seconds, one colour per label, with the
    y = x line and +-20% band."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7, 6), dpi=120)
    for label in dict.fromkeys(labels):
        chosen = [i for i, name in enumerate(labels) if name == label]
        axes.scatter([measured_s[i] * 1e3 for i in chosen], [predicted_s[i] * 1e3 for i in chosen],
                     label=label, s=28)
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
