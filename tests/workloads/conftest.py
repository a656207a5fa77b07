"""Fixtures for workload tests: the h100-sxm preset and the toy chip of tests/conftest.py
with fp8/int8 engines and 32 GB of HBM, written to tmp_path."""

import pytest

from perfmodel.chip import load_chip


@pytest.fixture(scope="session")
def h100():
    return load_chip("h100-sxm")


@pytest.fixture
def toy_chip_path(chip_file):
    return chip_file(('bf16 = "100 TFLOP/s"',
                      'bf16 = "100 TFLOP/s"\nfp8 = "200 TFLOP/s"\nint8 = "200 TFLOP/s"'),
                     ('capacity = "16 GB"', 'capacity = "32 GB"'))


@pytest.fixture
def toy(toy_chip_path):
    return load_chip(toy_chip_path)
