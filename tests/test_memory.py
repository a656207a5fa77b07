"""Memory technology: parts compose into a chip's off-chip memory, cost and power."""

import pytest
from click.testing import CliRunner

from benches.cli import cli
from perfmodel.chip import load_chip
from perfmodel.errors import SeedchipError
from perfmodel.memory import load_part, part_names

COMPOSED = ('''[[memory]]
name = "HBM"
kind = "hbm"
capacity = "16 GB"
bandwidth = "1 TB/s"
transaction = "64 B"
efficiency = 0.8''', '''[[memory]]
name = "HBM"
part = "hbm3e-12h"
count = 6
efficiency = 0.8''')
LOGIC = [COMPOSED, ('usd = "10000 USD"', 'logic_usd = "8000 USD"'),
         ('tdp = "300 W"', 'logic_tdp = "250 W"')]


def test_every_part_loads_with_sources():
    for name in part_names():
        part = load_part(name)
        assert part.source and part.energy_source and part.price_source
        assert part.max_per_chip >= 1


def test_composed_capacity_bandwidth_cost_and_power(chip_file):
    chip = load_chip(chip_file(*LOGIC))
    part = load_part("hbm3e-12h")
    memory = chip.main_memory
    assert memory.kind == "hbm" and memory.transaction_bytes == part.transaction_bytes
    assert memory.capacity_bytes == 6 * part.capacity_bytes
    assert memory.bandwidth_bytes_per_s == 6 * part.bandwidth_bytes_per_s
    assert chip.memory_cost_usd == pytest.approx(6 * 36 * part.usd_per_gb)
    assert chip.price_usd == pytest.approx(8000 + chip.memory_cost_usd)
    memory_power = 6 * part.bandwidth_bytes_per_s * 8 * part.energy_j_per_bit
    assert chip.memory_power_w == pytest.approx(memory_power)
    assert chip.tdp_w == pytest.approx(250 + memory_power)


def test_composed_memory_at_another_bandwidth_keeps_capacity_and_cost(chip_file):
    """--set memory_bandwidth on composed memory: the same parts at another data rate."""
    path = chip_file(*LOGIC)
    base = load_chip(path)
    faster = load_chip(path, {"memory_bandwidth": "10 TB/s"})
    assert faster.main_memory.bandwidth_bytes_per_s == 10e12
    assert faster.main_memory.capacity_bytes == base.main_memory.capacity_bytes
    assert faster.price_usd == base.price_usd
    assert faster.memory_power_w == pytest.approx(10e12 * 8 * faster.main_memory.energy_j_per_bit)
    assert faster.tdp_w == pytest.approx(250 + faster.memory_power_w)


def test_changing_the_part_changes_energy_and_cost(chip_file):
    path = chip_file(*LOGIC)
    hbm = load_chip(path)
    lpddr = load_chip(path, {"memory": "lpddr5x-8533:16"})
    part = load_part("lpddr5x-8533")
    assert lpddr.main_memory.kind == "lpddr"
    assert lpddr.main_memory.capacity_bytes == 16 * part.capacity_bytes
    assert lpddr.main_memory.energy_j_per_bit == part.energy_j_per_bit
    assert lpddr.memory_cost_usd == pytest.approx(16 * 32 * part.usd_per_gb)
    assert lpddr.price_usd - 8000 == pytest.approx(lpddr.memory_cost_usd)
    assert lpddr.memory_power_w < hbm.memory_power_w
    fewer = load_chip(path, {"memory_count": "4"})
    assert fewer.main_memory.bandwidth_bytes_per_s == pytest.approx(
        hbm.main_memory.bandwidth_bytes_per_s * 4 / 6)
    assert fewer.price_usd < hbm.price_usd


def test_too_many_stacks_is_a_clear_error(chip_file):
    path = chip_file(*LOGIC)
    with pytest.raises(SeedchipError, match="9 x hbm3e-12h exceeds the 8 stacks one chip package"):
        load_chip(path, {"memory": "hbm3e-12h:9"})


@pytest.mark.parametrize("overrides, fragment", [
    ({"memory": "hbm9:4"}, "unknown memory part 'hbm9'"),
    ({"memory": "hbm3e-12h"}, "expected PART:COUNT"),
    ({"memory_count": "0"}, "count must be a positive integer"),
])
def test_bad_compositions(chip_file, overrides, fragment):
    with pytest.raises(SeedchipError, match=fragment):
        load_chip(chip_file(*LOGIC), overrides)


def test_recomposing_a_raw_chip_is_refused(chip_file):
    with pytest.raises(SeedchipError, match="raw figures"):
        load_chip(chip_file(), {"memory": "hbm3e-12h:4"})


def test_logic_price_needs_composed_memory(chip_file):
    with pytest.raises(SeedchipError, match="needs the off-chip memory composed"):
        load_chip(chip_file(('usd = "10000 USD"', 'logic_usd = "8000 USD"')))
    with pytest.raises(SeedchipError, match="exactly one of usd"):
        load_chip(chip_file(('usd = "10000 USD"', 'usd = "1 USD"\nlogic_usd = "8000 USD"')))


def test_total_price_override_replaces_logic_price(chip_file):
    chip = load_chip(chip_file(*LOGIC), {"price": "50000 USD"})
    assert chip.price_usd == 50000


def test_memory_command_and_chip_shares(chip_file):
    listing = CliRunner().invoke(cli, ["memory"])
    assert listing.exit_code == 0
    assert all(name in listing.stdout for name in part_names())
    shown = CliRunner().invoke(cli, ["chip", chip_file(*LOGIC)])
    assert shown.exit_code == 0
    assert "memory_cost_share" in shown.stdout and "memory_power_share" in shown.stdout


def test_seedchip_presets_are_composed_and_lite_has_fewer_stacks():
    gen, lite, rec = (load_chip(name) for name in ("seedchip-gen", "seedchip-gen-lite",
                                                   "seedchip-rec"))
    assert gen.main_memory.composition.count == 6 and lite.main_memory.composition.count == 4
    assert lite.main_memory.composition.part == gen.main_memory.composition.part
    assert lite.main_memory.bandwidth_bytes_per_s == pytest.approx(
        gen.main_memory.bandwidth_bytes_per_s * 4 / 6)
    assert lite.price_usd < gen.price_usd and lite.tdp_w < gen.tdp_w
    assert lite.matrix_flops_per_s == gen.matrix_flops_per_s
    assert rec.main_memory.kind == "lpddr" and rec.main_memory.capacity_bytes == 512e9
