"""Parse and format physical quantities: "3.35 TB/s", "989 TFLOP/s", "80 GiB", "20 ms".

Inside seedchip every quantity is a plain float in base units (bytes, seconds, flop/s,
bytes/s, watts, USD, hertz, joules per bit, USD per joule). Strings with units are
accepted only at the edges (preset files, command-line options) and produced only when
printing.
"""

from __future__ import annotations

import math
import re

from perfmodel.errors import SeedchipError

BYTES = "bytes"
BYTES_PER_S = "bytes/s"
FLOP_PER_S = "flop/s"
SECONDS = "seconds"
WATTS = "watts"
USD = "USD"
HERTZ = "hertz"
JOULES_PER_BIT = "joules/bit"
USD_PER_HOUR = "USD/hour"
USD_PER_JOULE = "USD/joule"
RATIO = "ratio"

# Unit symbol -> (dimension, factor to base units). Prefixed forms are derived below.
_BASE_UNITS: dict[str, tuple[str, float]] = {
    "B": (BYTES, 1.0),
    "B/s": (BYTES_PER_S, 1.0),
    "FLOP/s": (FLOP_PER_S, 1.0),
    "FLOPS": (FLOP_PER_S, 1.0),
    "OP/s": (FLOP_PER_S, 1.0),
    "OPS": (FLOP_PER_S, 1.0),
    "s": (SECONDS, 1.0),
    "W": (WATTS, 1.0),
    "USD": (USD, 1.0),
    "Hz": (HERTZ, 1.0),
    "J/bit": (JOULES_PER_BIT, 1.0),
}
_FIXED_UNITS: dict[str, tuple[str, float]] = {
    "min": (SECONDS, 60.0),
    "h": (SECONDS, 3600.0),
    "USD/h": (USD_PER_HOUR, 1.0),
    "USD/kWh": (USD_PER_JOULE, 1.0 / 3.6e6),
    "%": (RATIO, 0.01),
}
_SI_PREFIXES = {
    "p": 1e-12, "n": 1e-9, "u": 1e-6, "µ": 1e-6, "m": 1e-3,
    "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
}
_BINARY_PREFIXES = {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50}

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*(\S*)\s*$")

EXAMPLES = {
    BYTES: "80 GiB",
    BYTES_PER_S: "3.35 TB/s",
    FLOP_PER_S: "989 TFLOP/s",
    SECONDS: "20 ms",
    WATTS: "700 W",
    USD: "30000 USD",
    HERTZ: "1.2 GHz",
    JOULES_PER_BIT: "3.9 pJ/bit",
    USD_PER_HOUR: "2.5 USD/h",
    USD_PER_JOULE: "0.08 USD/kWh",
    RATIO: "0.8",
}


def _unit_factor(symbol: str) -> tuple[str, float] | None:
    """Dimension and factor of a unit symbol such as 'TB/s' or 'GiB', or None if unknown."""
    if symbol in _FIXED_UNITS:
        return _FIXED_UNITS[symbol]
    if symbol in _BASE_UNITS:
        return _BASE_UNITS[symbol]
    for prefix, factor in _BINARY_PREFIXES.items():
        rest = symbol[len(prefix):]
        if symbol.startswith(prefix) and rest in ("B", "B/s"):
            return _BASE_UNITS[rest][0], factor
    prefix, rest = symbol[:1], symbol[1:]
    if prefix in _SI_PREFIXES and rest in _BASE_UNITS:
        dimension, factor = _BASE_UNITS[rest]
        return dimension, factor * _SI_PREFIXES[prefix]
    return None


def parse_quantity(value: object, dimension: str, field: str) -> float:
    """Return ``value`` in base units of ``dimension``.

    A bare number (int, float or a numeric string) is taken as already in base units.
    Anything else must carry a unit of the right dimension. Raises SeedchipError
    naming ``field`` when the value is malformed, of another dimension, or not finite.
    """
    example = EXAMPLES.get(dimension, "")
    if isinstance(value, bool):
        raise SeedchipError(f"{field}: expected a quantity such as '{example}', got {value!r}")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        match = _QUANTITY.match(value)
        if not match:
            raise SeedchipError(
                f"{field}: cannot parse {value!r} as {dimension}; write it like '{example}'")
        number = float(match.group(1))
        symbol = match.group(2)
        if symbol:
            unit = _unit_factor(symbol)
            if unit is None:
                raise SeedchipError(
                    f"{field}: unknown unit {symbol!r} in {value!r}; write it like '{example}'")
            unit_dimension, factor = unit
            if unit_dimension != dimension:
                raise SeedchipError(
                    f"{field}: {value!r} is {unit_dimension}, expected {dimension} "
                    f"(like '{example}')")
            number *= factor
    else:
        raise SeedchipError(f"{field}: expected a quantity such as '{example}', got {value!r}")
    if not math.isfinite(number):
        raise SeedchipError(f"{field}: {value!r} is not a finite number")
    return number


_FORMAT_SYMBOL = {
    BYTES: "B", BYTES_PER_S: "B/s", FLOP_PER_S: "FLOP/s", WATTS: "W", HERTZ: "Hz", USD: "USD",
    JOULES_PER_BIT: "J/bit",
}


def format_quantity(value: float, dimension: str, digits: int = 3, binary: bool = False) -> str:
    """Format a base-unit value for people: 3.35e12 bytes/s -> '3.35 TB/s'.

    Bytes use SI prefixes as memory vendors do ('80 GB'), or binary ones with
    ``binary=True`` ('50 MiB', for caches); seconds use s/ms/us/ns; USD are written
    in full; everything else uses SI prefixes.
    """
    if not math.isfinite(value):
        return str(value)
    if dimension == BYTES and binary:
        return _format_prefixed(value, "B", [(2.0**(10 * i), p) for i, p in
                                             enumerate(["", "Ki", "Mi", "Gi", "Ti", "Pi"])],
                                digits)
    if dimension == USD:
        return f"{value:,.0f} USD" if abs(value) >= 100 else f"{value:.{digits}g} USD"
    if dimension == SECONDS:
        return _format_prefixed(value, "s", [(1e-9, "n"), (1e-6, "u"), (1e-3, "m"), (1.0, "")],
                                digits)
    if dimension == RATIO:
        return f"{value:.{digits}g}"
    symbol = _FORMAT_SYMBOL.get(dimension, dimension)
    scales = [(1e-12, "p"), (1e-9, "n"), (1e-6, "u"), (1e-3, "m"), (1.0, ""), (1e3, "k"),
              (1e6, "M"), (1e9, "G"), (1e12, "T"), (1e15, "P"), (1e18, "E")]
    if dimension == BYTES:
        scales = [scale for scale in scales if scale[0] >= 1.0]
    return _format_prefixed(value, symbol, scales, digits)


def _format_prefixed(value: float, symbol: str, scales: list[tuple[float, str]],
                     digits: int) -> str:
    """Pick the largest scale not above |value| rounded to ``digits`` significant digits
    (so 0.0009999 s is '1 ms', not '1e+03 us'), or the smallest, and format with it."""
    magnitude = abs(float(f"{value:.{digits}g}"))
    factor, prefix = scales[0]
    for scale, name in scales:
        if magnitude >= scale:
            factor, prefix = scale, name
    if value == 0:
        factor, prefix = next((s, p) for s, p in scales if s == 1.0)
    return f"{value / factor:.{digits}g} {prefix}{symbol}"


def parse_any(text: str, field: str) -> tuple[float, str | None, str]:
    """A quantity of whatever dimension its unit names: ``"32MiB"`` -> (33554432.0, "bytes",
    "MiB"); a bare number gives (value, None, "")."""
    match = _QUANTITY.match(text)
    if not match:
        raise SeedchipError(f"{field}: cannot parse {text!r} as a quantity such as '80 GiB'")
    symbol = match.group(2)
    if not symbol:
        return parse_quantity(text, RATIO, field), None, ""
    unit = _unit_factor(symbol)
    if unit is None:
        raise SeedchipError(f"{field}: unknown unit {symbol!r} in {text!r}")
    return parse_quantity(text, unit[0], field), unit[0], symbol


_EXACT_SYMBOL = {BYTES: "B", BYTES_PER_S: "B/s", FLOP_PER_S: "FLOP/s", SECONDS: "s", WATTS: "W",
                 USD: "USD", HERTZ: "Hz", JOULES_PER_BIT: "J/bit", USD_PER_HOUR: "USD/h"}


def exact_text(value: float, dimension: str | None) -> str:
    """A base-unit value as text that `parse_quantity` reads back exactly, with its base
    unit (so a field of another dimension refuses it); whole numbers without a decimal
    point (counts)."""
    number = float(value)
    text = str(int(number)) if number.is_integer() else repr(number)
    symbol = _EXACT_SYMBOL.get(dimension or "")
    return f"{text} {symbol}" if symbol else text
