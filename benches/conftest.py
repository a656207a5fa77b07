"""Benchmark plumbing: a ``report`` fixture that records achieved rates against peers
measured in the same run, and a summary table printed at the end of the session."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from tabulate import tabulate

from benches.opjson import op_to_dict
from perfmodel.ops import Op

_ROWS = pytest.StashKey[list]()


@dataclass(frozen=True)
class Comparison:
    """One kernel measurement against one peer, in the same unit."""

    kernel: str
    shape: str
    unit: str
    achieved: float
    peer: str
    peer_rate: float

    @property
    def ratio(self) -> float:
        return self.achieved / self.peer_rate


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_ROWS] = []


class Reporter:
    """Turns a median time into a rate, stores it in ``benchmark.extra_info`` and the summary."""

    def __init__(self, rows: list[Comparison]) -> None:
        self._rows = rows

    def __call__(self, benchmark, kernel: str, shape: str, unit: str, amount: float,
                 peers: dict[str, float], op: Op | None = None) -> None:
        """``amount`` is the flops (unit GFLOP/s) or bytes (unit GB/s) of one kernel call;
        ``peers`` maps a peer's name to its rate in the same unit; ``op`` is the perfmodel op
        that predicts the call (``seedchip bench`` prints its predicted time)."""
        achieved = amount / benchmark.stats.stats.median / 1e9
        benchmark.extra_info.update(kernel=kernel, shape=shape, unit=unit, achieved=round(achieved, 2))
        if op is not None:
            benchmark.extra_info["op"] = op_to_dict(op)
        for peer, rate in peers.items():
            row = Comparison(kernel, shape, unit, achieved, peer, rate)
            benchmark.extra_info[f"peer {peer}"] = round(rate, 2)
            benchmark.extra_info[f"ratio to {peer}"] = round(row.ratio, 3)
            self._rows.append(row)


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Reporter:
    return Reporter(request.config.stash[_ROWS])


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    rows = config.stash.get(_ROWS, [])
    if not rows:
        return
    table = [(r.kernel, r.shape, r.unit, f"{r.achieved:.1f}", r.peer, f"{r.peer_rate:.1f}", f"{r.ratio:.2f}")
             for r in rows]
    terminalreporter.write_sep("=", "kernel rates vs peers measured in the same run (medians)")
    terminalreporter.write_line(tabulate(table, headers=("kernel", "shape", "unit", "achieved", "peer",
                                                         "peer rate", "ratio"), disable_numparse=True))
