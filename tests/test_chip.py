"""Chip presets and files: every preset loads and cites a source; bad files give clear errors."""

import math

import pytest

from perfmodel.chip import load_chip, override_keys, preset_names
from perfmodel.errors import SeedchipError

REQUIRED_PRESETS = {
    "h100-sxm", "h100-pcie", "h200", "h20", "a100-sxm-80g", "l4", "l40s", "mi300x", "tpu-v5e",
    "inferentia2", "gaudi3", "seedchip-rec", "seedchip-gen", "seedchip-gen-lite", "host-cpu",
}


def test_required_presets_exist():
    assert REQUIRED_PRESETS <= set(preset_names())


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_loads_and_cites_a_source(name):
    chip = load_chip(name)
    assert chip.name == name
    assert len(chip.source) > 20
    if chip.hypothetical:
        assert "hypothetical" in chip.source.lower()
    else:
        assert "hypothetical" not in chip.source.lower()
    if chip.price_is_estimate:
        assert chip.sources.get("price"), "an estimated price must state its basis"
    assert chip.main_memory.capacity_bytes > 1e9
    assert chip.idle_w <= chip.tdp_w
    assert all(math.isfinite(v) and v > 0 for v in chip.matrix_flops_per_s.values())


def test_minimal_file_loads(chip_file):
    chip = load_chip(chip_file())
    assert chip.peak_flops_per_s("bf16") == 100e12
    assert chip.sram.capacity_bytes == 64 * 2**20
    assert chip.main_memory.achievable_bytes_per_s == pytest.approx(0.8e12)
    assert chip.main_memory.gather_efficiency == 0.5  # documented default
    assert chip.link.max_chips == 8


def test_missing_dtype_is_a_clear_error(chip_file):
    chip = load_chip(chip_file())
    with pytest.raises(SeedchipError, match="no fp8 matrix support"):
        chip.peak_flops_per_s("fp8")


@pytest.mark.parametrize("replacement, fragment", [
    (('bf16 = "100 TFLOP/s"', 'bf16 = "100 TFLOP/s"\nbf17 = "1 TFLOP/s"'), "unknown key 'bf17'"),
    (('tdp = "300 W"', 'tdp = "-300 W"'), "power.tdp must be positive"),
    (('tdp = "300 W"', 'tdp = "0 W"'), "power.tdp must be positive"),
    (('tdp = "300 W"', 'tdp = "300 GB"'), "power.tdp"),
    (('tdp = "300 W"\n', ''), "needs exactly one of tdp"),
    (('efficiency = 0.5\noverhead', 'efficiency = 1.5\noverhead'),
     "compute.efficiency must be in (0, 1]"),
    (('kind = "hbm"', 'kind = "tape"'), "kind 'tape'"),
    (('capacity = "64 MiB"', 'capacity = "64 GB"'), "must be larger than"),
    (('idle = "50 W"', 'idle = "500 W"'), "exceeds power.tdp"),
    (('hypothetical = true', 'hypothetical = "yes"'), "chip.hypothetical must be true or false"),
    (('max_chips = 8', 'max_chips = 0'), "link.max_chips must be a positive integer"),
    (('name = "toy"', 'name = ""'), "chip.name must be a non-empty string"),
    (('bandwidth = "1 TB/s"', 'bandwidth = "1 TB/s'), "not valid TOML"),
])
def test_bad_files_name_the_file_and_field(chip_file, replacement, fragment):
    path = chip_file(replacement)
    with pytest.raises(SeedchipError) as error:
        load_chip(path)
    assert fragment in str(error.value)
    assert path in str(error.value)


def test_on_chip_level_after_off_chip_is_rejected(chip_file):
    path = chip_file(('kind = "sram"', 'kind = "ddr"'))
    with pytest.raises(SeedchipError, match="on-chip levels first"):
        load_chip(path)


def test_non_utf8_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_bytes(b"name = \"\xff\xfe\"\n")
    with pytest.raises(SeedchipError, match="not UTF-8"):
        load_chip(str(path))


def test_unknown_chip_lists_presets():
    with pytest.raises(SeedchipError, match="unknown chip 'h9000'.*h100-sxm"):
        load_chip("h9000")


def test_missing_file():
    with pytest.raises(SeedchipError, match="does not exist"):
        load_chip("/nonexistent/chip.toml")


def test_overrides_replace_single_fields(chip_file):
    chip = load_chip(chip_file(), {"hbm_bandwidth": "2 TB/s", "sram": "128 MiB",
                                   "bf16": "200 TFLOP/s", "tdp": "400 W",
                                   "dram_efficiency": "0.9", "SRAM_transaction": "64 B"})
    assert chip.main_memory.bandwidth_bytes_per_s == 2e12
    assert chip.main_memory.efficiency == 0.9
    assert chip.sram.capacity_bytes == 128 * 2**20
    assert chip.sram.transaction_bytes == 64
    assert chip.peak_flops_per_s("bf16") == 200e12
    assert chip.tdp_w == 400


def test_overrides_are_validated(chip_file):
    with pytest.raises(SeedchipError, match="memory\\[1\\].bandwidth"):
        load_chip(chip_file(), {"hbm_bandwidth": "-1 TB/s"})
    with pytest.raises(SeedchipError, match="unknown field"):
        load_chip(chip_file(), {"warp_drive": "9"})


def test_override_keys_are_listed():
    keys = override_keys()
    assert {"hbm_bandwidth", "sram", "bf16", "price", "tdp"} <= set(keys)


def test_transcendental_rate_default_and_override(chip_file):
    path = chip_file()
    assert load_chip(path).transcendental_per_s == pytest.approx(10e12 / 8)
    assert load_chip(path, {"transcendental": "3 TOP/s"}).transcendental_per_s == 3e12


def test_gather_fields_can_be_overridden_per_level(chip_file):
    chip = load_chip(chip_file(), {"hbm_gather_efficiency": "0.3",
                                   "sram_gather_tail_efficiency": "0.6"})
    sram, hbm = chip.memory
    assert hbm.gather_efficiency == 0.3 and hbm.efficiency == 0.8
    assert sram.gather_tail_efficiency == 0.6 and sram.gather_efficiency == 0.5
    assert hbm.gather_tail_efficiency == 1.0  # the default: the rest of a row streams
