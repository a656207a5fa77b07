"""Units: parse quantities with SI and binary prefixes, reject malformed or wrong-dimension text."""

import math

import pytest

from perfmodel import units
from perfmodel.errors import SeedchipError


@pytest.mark.parametrize("text, dimension, expected", [
    ("3.35 TB/s", units.BYTES_PER_S, 3.35e12),
    ("989 TFLOP/s", units.FLOP_PER_S, 989e12),
    ("1978.9 TOPS", units.FLOP_PER_S, 1978.9e12),
    ("80 GiB", units.BYTES, 80 * 2**30),
    ("50 MiB", units.BYTES, 50 * 2**20),
    ("80 GB", units.BYTES, 80e9),
    ("700 W", units.WATTS, 700.0),
    ("30000 USD", units.USD, 30000.0),
    ("1.2 GHz", units.HERTZ, 1.2e9),
    ("20ms", units.SECONDS, 0.02),
    ("4 us", units.SECONDS, 4e-6),
    ("3.9 pJ/bit", units.JOULES_PER_BIT, 3.9e-12),
    ("2.5 USD/h", units.USD_PER_HOUR, 2.5),
    ("0.36 USD/kWh", units.USD_PER_JOULE, 1e-7),
    ("1e3 B", units.BYTES, 1000.0),
    ("64", units.BYTES, 64.0),
])
def test_parse_known_quantities(text, dimension, expected):
    assert math.isclose(units.parse_quantity(text, dimension, "f"), expected, rel_tol=1e-12)


def test_bare_numbers_are_base_units():
    assert units.parse_quantity(3.5e12, units.BYTES_PER_S, "f") == 3.5e12
    assert units.parse_quantity(7, units.WATTS, "f") == 7.0


@pytest.mark.parametrize("value, fragment", [
    ("3.35 TB", "expected bytes/s"),
    ("fast", "cannot parse"),
    ("3 furlongs", "unknown unit"),
    ("", "cannot parse"),
    (True, "expected a quantity"),
    ([1], "expected a quantity"),
    ("nan GB", "cannot parse"),
    (float("inf"), "not a finite"),
    ("1e999 B", "not a finite"),
])
def test_malformed_values_name_the_field(value, fragment):
    with pytest.raises(SeedchipError) as error:
        units.parse_quantity(value, units.BYTES_PER_S if "TB" in str(value) else units.BYTES,
                             "memory.bandwidth")
    assert "memory.bandwidth" in str(error.value)
    assert fragment in str(error.value)


@pytest.mark.parametrize("value, dimension, expected", [
    (3.35e12, units.BYTES_PER_S, "3.35 TB/s"),
    (989.4e12, units.FLOP_PER_S, "989 TFLOP/s"),
    (80e9, units.BYTES, "80 GB"),
    (0.0123, units.SECONDS, "12.3 ms"),
    (4e-6, units.SECONDS, "4 us"),
    (30000.0, units.USD, "30,000 USD"),
    (0.0, units.WATTS, "0 W"),
])
def test_format(value, dimension, expected):
    assert units.format_quantity(value, dimension) == expected


def test_format_binary_bytes():
    assert units.format_quantity(50 * 2**20, units.BYTES, binary=True) == "50 MiB"


def test_format_then_parse_round_trips():
    for value in (1.0, 2.5e3, 3.35e12, 7.1e-5):
        text = units.format_quantity(value, units.BYTES_PER_S, digits=12)
        assert math.isclose(units.parse_quantity(text, units.BYTES_PER_S, "f"), value, rel_tol=1e-9)


@pytest.mark.parametrize("value, dimension, text", [
    (0.0009999, "seconds", "1 ms"), (999.96e9, "bytes/s", "1 TB/s"), (0.9999999, "seconds", "1 s"),
    (0.00123, "seconds", "1.23 ms"), (0.0, "seconds", "0 s")])
def test_formatting_rounds_before_choosing_the_prefix(value, dimension, text):
    assert units.format_quantity(value, dimension) == text
