"""Fixtures for workload tests: the h100-sxm preset and a small toy chip written to tmp_path."""

import pytest

from perfmodel.chip import load_chip

TOY_CHIP = """\
name = "toy"
description = "A toy chip for workload tests"
hypothetical = true
source = "hypothetical: test fixture"

[compute]
bf16 = "100 TFLOP/s"
fp8 = "200 TFLOP/s"
int8 = "200 TFLOP/s"
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
capacity = "32 GB"
bandwidth = "1 TB/s"
transaction = "64 B"
efficiency = 0.8

[link]
bandwidth = "100 GB/s"
latency = "1 us"

[power]
tdp = "300 W"
idle = "50 W"

[price]
usd = "10000 USD"
estimate = true
"""


@pytest.fixture(scope="session")
def h100():
    return load_chip("h100-sxm")


@pytest.fixture
def toy_chip_path(tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text(TOY_CHIP, encoding="utf-8")
    return str(path)


@pytest.fixture
def toy(toy_chip_path):
    return load_chip(toy_chip_path)
