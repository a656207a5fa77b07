"""Shared test fixtures: a small valid chip file to mutate."""

import pytest

MINIMAL_CHIP = """\
name = "toy"
description = "A toy chip for tests"
hypothetical = true
source = "hypothetical: test fixture"

[compute]
bf16 = "100 TFLOP/s"
fp32 = "10 TFLOP/s"
vector = "10 TFLOP/s"
efficiency = 0.5
overhead = "1 us"

[[memory]]
name = "SRAM"
kind = "sram"
capacity = "64 MiB"
bandwidth = "10 TB/s"
transaction = "32 B"
efficiency = 1.0
gather_efficiency = 0.5

[[memory]]
name = "HBM"
kind = "hbm"
capacity = "16 GB"
bandwidth = "1 TB/s"
transaction = "64 B"
efficiency = 0.8

[link]
bandwidth = "100 GB/s"
latency = "1 us"
max_chips = 8

[power]
tdp = "300 W"
idle = "50 W"

[price]
usd = "10000 USD"
estimate = true
"""


@pytest.fixture
def chip_file(tmp_path):
    """Write MINIMAL_CHIP with text replacements; returns its path as a string."""
    def write(*replacements: tuple[str, str], text: str = MINIMAL_CHIP) -> str:
        for old, new in replacements:
            assert old in text, old
            text = text.replace(old, new)
        path = tmp_path / "toy.toml"
        path.write_text(text, encoding="utf-8")
        return str(path)
    return write


_FUZZ_SECONDS = {"total": 0.0}


def pytest_runtest_logreport(report):
    """Add up the time of the fuzz tests (modules named test_fuzz_*)."""
    if report.when == "call" and "test_fuzz_" in report.nodeid:
        _FUZZ_SECONDS["total"] += report.duration


def pytest_terminal_summary(terminalreporter):
    from tests.fuzzing import CASES
    if CASES["count"]:
        terminalreporter.write_line(f"fuzz: {CASES['count']} generated cases in "
                                    f"{_FUZZ_SECONDS['total']:.1f} s")
