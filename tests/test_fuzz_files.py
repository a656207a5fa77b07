"""Fuzzing the file and value parsers: every input ends in a valid result or SeedchipError.

Random mutations of real preset files (keys, types, units, huge/negative/NaN/inf values,
truncation, bad encodings) and random quantity strings. Anything else escaping (KeyError,
TypeError, ZeroDivisionError, ...) is a bug.
"""

import math
import tomllib

from hypothesis import given, strategies as st

from perfmodel import units
from perfmodel.chip import PRESET_DIR, load_chip, preset_names
from perfmodel.errors import SeedchipError
from workloads.config import PRESET_DIR as WORKLOAD_DIR, load_workload
from workloads.config import preset_names as workload_names
from tests.fuzzing import FUZZ, counted


values = st.one_of(
    st.integers(min_value=-10**20, max_value=10**20), st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "0", "-1 W", "1e400 B", "nan", "inf TB/s", "3.35 TB/s", "80 GiB",
                     "989 TFLOP/s", "7 furlongs", "hbm3e-8h", "1.5", "10 us"]),
    st.text(max_size=12), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") \
            if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f'"{k}" = {_toml_value(v)}'
                           for k, v in value.items() if k.isprintable()) + "}"


def _mutate(text: str, data) -> bytes:
    """Replace one value, add a key, truncate, or corrupt the encoding of a preset's text."""
    lines = text.splitlines()
    action = data.draw(st.sampled_from(["replace", "add", "truncate", "encoding", "drop"]))
    assignments = [i for i, line in enumerate(lines) if " = " in line and not line.startswith("#")]
    if action == "replace" and assignments:
        index = data.draw(st.sampled_from(assignments))
        key = lines[index].split(" = ")[0]
        lines[index] = f"{key} = {_toml_value(data.draw(values))}"
    elif action == "add":
        key = data.draw(st.text(alphabet="abcdefghij_", min_size=1, max_size=10))
        lines.insert(data.draw(st.integers(0, len(lines))), f"{key} = {_toml_value(data.draw(values))}")
    elif action == "drop" and assignments:
        del lines[data.draw(st.sampled_from(assignments))]
    elif action == "truncate":
        return "\n".join(lines).encode()[: data.draw(st.integers(0, len(text)))]
    elif action == "encoding":
        return "\n".join(lines).encode("utf-16")
    return "\n".join(lines).encode()


def _check(load, path) -> None:
    try:
        load(str(path))
    except SeedchipError as error:
        assert str(error) and "\n" not in str(error).strip()


@FUZZ
@given(name=st.sampled_from(preset_names()), data=st.data())
@counted
def test_mutated_chip_files_load_or_fail_cleanly(tmp_path, name, data):
    path = tmp_path / "chip.toml"
    path.write_bytes(_mutate((PRESET_DIR / f"{name}.toml").read_text(), data))
    _check(load_chip, path)


@FUZZ
@given(name=st.sampled_from(workload_names()), data=st.data())
@counted
def test_mutated_workload_files_load_or_fail_cleanly(tmp_path, name, data):
    path = tmp_path / "workload.toml"
    path.write_bytes(_mutate((WORKLOAD_DIR / f"{name}.toml").read_text(), data))
    _check(load_workload, path)


@FUZZ
@given(overrides=st.dictionaries(
    st.sampled_from(["hbm_bandwidth", "sram", "bf16", "tdp", "price", "memory", "memory_count",
                     "compute_efficiency", "overhead", "l2_bandwidth", "nonsense", "idle_power"]),
    st.one_of(st.text(max_size=12), st.sampled_from(["2 TB/s", "0", "-1", "hbm3e-8h:4", "nan",
                                                      "1e400", "128 MiB", "0.5"])), max_size=3),
       name=st.sampled_from(["seedchip-gen", "h100-sxm", "host-cpu"]))
@counted
def test_random_overrides_load_or_fail_cleanly(overrides, name):
    try:
        chip = load_chip(name, overrides)
    except SeedchipError:
        return
    assert all(level.capacity_bytes > 0 for level in chip.memory)


@FUZZ
@given(text=st.text(max_size=20), dimension=st.sampled_from(list(units.EXAMPLES)))
@counted
def test_random_quantity_strings(text, dimension):
    try:
        value = units.parse_quantity(text, dimension, "field")
    except SeedchipError:
        return
    assert math.isfinite(value)


def test_presets_are_valid_toml():
    for name in preset_names():
        tomllib.loads((PRESET_DIR / f"{name}.toml").read_text())
