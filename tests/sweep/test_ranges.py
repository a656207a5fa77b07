"""--vary parsing: linear, geometric and listed values, units, and clear errors."""

import numpy as np
import pytest

from perfmodel.errors import SeedchipError
from perfmodel.grid import MAX_POINTS, parse_vary

MIB = 2.0**20


def test_geometric_range_with_binary_units():
    axis = parse_vary("sram=32MiB..512MiB:x2")
    assert axis.name == "sram" and axis.dimension == "bytes"
    np.testing.assert_array_equal(axis.values, [32 * MIB, 64 * MIB, 128 * MIB, 256 * MIB, 512 * MIB])


def test_geometric_range_stops_at_or_below_high():
    np.testing.assert_allclose(parse_vary("sram=1MiB..10MiB:x3").values, [MIB, 3 * MIB, 9 * MIB])


def test_linear_range_includes_both_ends():
    axis = parse_vary("hbm_bandwidth=1TB/s..8TB/s:8")
    assert axis.dimension == "bytes/s"
    np.testing.assert_allclose(axis.values, np.arange(1, 9) * 1e12)


def test_low_without_unit_takes_highs_unit():
    np.testing.assert_allclose(parse_vary("hbm_bandwidth=1..8TB/s:8").values, np.arange(1, 9) * 1e12)


def test_listed_values_plain_and_with_units():
    axis = parse_vary("memory_count=2,4,6,8")
    assert axis.dimension is None
    np.testing.assert_array_equal(axis.values, [2, 4, 6, 8])
    np.testing.assert_allclose(parse_vary("bf16=100,200TFLOP/s").values, [100e12, 200e12])


@pytest.mark.parametrize("text, message", [
    ("sram", "expected NAME=LOW"),
    ("sram=", "expected NAME=LOW"),
    ("warp_drive=1,2", "unknown parameter"),
    ("memory=hbm3e-8h:4", "not a number"),
    ("sram=1MiB..2MiB", "number of points"),
    ("sram=2MiB..1MiB:4", "empty range"),
    ("sram=1MiB..1MiB:4", "empty range"),
    ("sram=1MiB..2MiB:1", "whole number >= 2"),
    ("sram=1MiB..2MiB:2.5", "whole number >= 2"),
    ("sram=1MiB..2MiB:x1", "factor above 1"),
    ("sram=0..2MiB:x2", "LOW > 0"),
    ("sram=-1,2", "not be negative"),
    ("sram=1MiB..2TB/s:4", "different units"),
    ("sram=1MiB,2TB/s", "different units"),
    ("sram=1MiB,1MiB", "listed twice"),
    ("sram=1 parsec,2", "unknown unit"),
    ("sram=lots..more:3", "cannot parse"),
    ("sram=1..1e12:x1.000001", f"at most {MAX_POINTS:,}"),
    (f"sram=1..2MiB:{MAX_POINTS + 1}", f"at most {MAX_POINTS:,}"),
])
def test_bad_ranges_are_one_line_errors(text, message):
    with pytest.raises(SeedchipError, match=message) as error:
        parse_vary(text)
    assert "\n" not in str(error.value)
