"""The array-valued grid chip: fields set per axis, derived values, and refused grids."""

import numpy as np
import pytest

from perfmodel import units
from perfmodel.chip import load_chip
from perfmodel.errors import SeedchipError
from perfmodel.grid import build_grid, parse_vary


def _grid(*texts, chip="seedchip-rec"):
    return build_grid(chip, [parse_vary(text) for text in texts])


def test_each_axis_lies_along_its_own_dimension():
    grid = _grid("sram=64MiB,128MiB,256MiB", "memory_bandwidth=0.5TB/s,1TB/s")
    assert grid.shape == (3, 2) and grid.size == 6
    assert np.shape(grid.chip.memory[0].capacity_bytes) == (3, 1)
    assert np.shape(grid.chip.main_memory.bandwidth_bytes_per_s) == (1, 2)
    assert grid.describe(5) == "sram=256 MiB, memory_bandwidth=1 TB/s"


@pytest.mark.parametrize("text, key", [("memory_count=4,8,16", "memory_count"),
                                       ("memory_bandwidth=0.3,2TB/s", "memory_bandwidth"),
                                       ("logic_tdp=150,250W", "logic_tdp")])
def test_derived_fields_match_the_loader_at_every_value(text, key):
    """memory_count changes capacity, bandwidth, cost and power; composed bandwidth changes
    power; a logic-only TDP adds the memory's power: all as `--set` gives them."""
    axis = parse_vary(text)
    grid = build_grid("seedchip-rec", [axis])
    for index, value in enumerate(axis.values):
        chip = load_chip("seedchip-rec", {key: units.exact_text(value, axis.dimension)})
        for got, want in ((grid.chip.main_memory.capacity_bytes, chip.main_memory.capacity_bytes),
                          (grid.chip.main_memory.bandwidth_bytes_per_s,
                           chip.main_memory.bandwidth_bytes_per_s),
                          (grid.chip.price_usd, chip.price_usd), (grid.chip.tdp_w, chip.tdp_w)):
            assert np.broadcast_to(got, grid.shape)[index] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("texts, message", [
    (("memory_count=4,8", "memory_bandwidth=1,2TB/s"), "both change"),
    (("sram=64MiB", "sram_capacity=128MiB"), "both change"),
    (("sram=64MiB", "sram=128MiB"), "varied twice"),
    (("sram=64MiB,600GB",), "must be larger than"),
    (("memory_count=1..40:40",), "one chip package can carry"),
    (("sram=1TB/s,2TB/s",), "expected bytes"),
    (("max_chips=1..16:3",), "whole numbers"),
    (("compute_efficiency=0.5,1.5",), r"\(0, 1\]"),
    (("sram=1..4096MiB:4096", "memory_bandwidth=1..8TB/s:4096"), "grid points; at most"),
])
def test_invalid_grids_are_refused(texts, message):
    with pytest.raises(SeedchipError, match=message) as error:
        _grid(*texts)
    assert "\n" not in str(error.value)


def test_no_axis_is_an_error():
    with pytest.raises(SeedchipError, match="at least one --vary"):
        build_grid("seedchip-rec", [])
