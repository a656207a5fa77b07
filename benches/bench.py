"""``seedchip bench``: run the kernel benchmark suite, keep its results with the machine they
ran on, predict each with the host chip, and compare with an earlier run to gate changes.

The suite is the same pytest-benchmark suite as ``pytest benches --benchmark-only``.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benches.opjson import op_from_dict
from benches.system import git_revision, system_info
from perfmodel.chip import Chip
from perfmodel.errors import SeedchipError
from perfmodel.ops import Node
from perfmodel.roofline import time_graph

BENCH_DIR = Path(__file__).parent
RESULTS_FORMAT = "seedchip-bench/1"


@dataclass(frozen=True)
class BenchResult:
    name: str
    kernel: str
    shape: str
    median_s: float
    achieved: float
    unit: str
    predicted_s: float | None

    @property
    def share_of_model(self) -> float | None:
        """Predicted over measured time: the share of the roofline the kernel reaches."""
        return self.predicted_s / self.median_s if self.predicted_s else None


def run_suite(expression: str | None = None) -> dict[str, Any]:
    """Run the benchmark suite in a subprocess and return pytest-benchmark's JSON."""
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "bench.json"
        command = [sys.executable, "-m", "pytest", str(BENCH_DIR), "--benchmark-only", "-q",
                   "-p", "no:cacheprovider", f"--benchmark-json={output}",
                   "--rootdir", str(BENCH_DIR.parent), "-o", "python_files=bench_*.py"]
        if expression:
            command += ["-k", expression]
        process = subprocess.run(command, capture_output=True, text=True)
        if process.returncode != 0 or not output.is_file():
            tail = (process.stdout + process.stderr).strip().splitlines()[-5:]
            raise SeedchipError("the benchmark suite failed: " + " | ".join(tail))
        return json.loads(output.read_text(encoding="utf-8"))


def results(raw: dict[str, Any], chip: Chip) -> list[BenchResult]:
    """One result per benchmark, with the chip's prediction where the benchmark names its op."""
    rows = []
    for bench in raw.get("benchmarks", []):
        info = bench.get("extra_info", {})
        op = info.get("op")
        predicted = float(time_graph([Node(op_from_dict(op))], chip).total_s) if op else None
        rows.append(BenchResult(bench["name"], info.get("kernel", bench["name"]),
                                info.get("shape", ""), bench["stats"]["median"],
                                info.get("achieved", float("nan")), info.get("unit", ""),
                                predicted))
    return rows


def machine() -> dict[str, Any]:
    """Where the run happened: CPU, caches, library versions, code revision, date."""
    import numba
    import numpy

    info = system_info()
    return {"cpu_model": info.cpu_model, "cpus": info.cpus,
            "caches": [asdict(cache) for cache in info.caches],
            "memory_bytes": info.memory_bytes, "numba": numba.__version__,
            "numpy": numpy.__version__, "python": sys.version.split()[0],
            "git_revision": git_revision(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def results_document(rows: list[BenchResult], chip: Chip) -> dict[str, Any]:
    return {"format": RESULTS_FORMAT, "machine": machine(), "chip": chip.name,
            "results": [{**asdict(row), "share_of_model": row.share_of_model} for row in rows]}


def load_previous(path: str) -> dict[str, float]:
    """Benchmark medians of an earlier ``seedchip bench -o`` file, by name."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise SeedchipError(f"cannot read {path}: {error.strerror or error}") from None
    except ValueError:
        raise SeedchipError(f"{path}: not JSON") from None
    if not isinstance(document, dict) or document.get("format") != RESULTS_FORMAT:
        raise SeedchipError(f"{path}: not a seedchip bench results file")
    return {row["name"]: row["median_s"] for row in document.get("results", [])}


@dataclass(frozen=True)
class Change:
    name: str
    previous_s: float
    current_s: float

    @property
    def change(self) -> float:
        """Relative change of the median time: + is slower."""
        return self.current_s / self.previous_s - 1.0


def compare(rows: list[BenchResult], previous: dict[str, float]) -> list[Change]:
    """Changes of every benchmark present in both runs."""
    return [Change(row.name, previous[row.name], row.median_s) for row in rows
            if row.name in previous]
