"""seedchip sweep through click's runner: formats, -o, plots, errors, no numba."""

import csv
import io
import json
import struct

import pytest
from click.testing import CliRunner

from benches.cli import cli

BASE = ["sweep", "--chip", "seedchip-rec", "--workload", "dlrm-dcnv2-small", "--batch", "256",
        "--vary", "sram=32MiB..128MiB:x2", "--vary", "memory_bandwidth=0.5,1,2TB/s"]


def _run(*extra):
    return CliRunner().invoke(cli, [*BASE, *extra])


def _png_size(path):
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_table_lists_the_top_points_with_units():
    result = _run("--top", "4", "--sort", "latency")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "best 4 by latency (s, min)" in lines[0] and "9 points, 9 fit memory" in lines[0]
    assert "sram" in lines[1] and "memory_bandwidth" in lines[1]
    assert len(lines) == 3 + 4 and "MiB" in lines[3] and "TB/s" in lines[3]


def test_json_and_csv_carry_base_units():
    document = json.loads(_run("--format", "json", "--top", "0").stdout)
    assert document["format"] == "seedchip-sweep" and document["points"] == 9
    assert len(document["rows"]) == 9
    row = document["rows"][0]
    assert {"sram_bytes", "memory_bandwidth_bytes_per_s", "latency_s", "requests_per_s",
            "usd_per_request", "joules_per_request", "chip_usd", "power_w", "fits"} == set(row)
    latencies = [r["latency_s"] for r in document["rows"]]
    usd = [r["usd_per_request"] for r in document["rows"]]
    assert usd == sorted(usd) and len(set(latencies)) > 1
    rows = list(csv.DictReader(io.StringIO(_run("--format", "csv", "--top", "3").stdout)))
    assert len(rows) == 3 and float(rows[0]["sram_bytes"]) in (32 * 2**20, 64 * 2**20, 128 * 2**20)


def test_pareto_lists_the_frontier(tmp_path):
    result = _run("--pareto", "latency,power", "--format", "json")
    document = json.loads(result.stdout)
    assert document["selection"] == {"kind": "pareto", "objectives": ["latency", "power"]}
    latency = [row["latency_s"] for row in document["rows"]]
    power = [row["power_w"] for row in document["rows"]]
    assert latency == sorted(latency) and power == sorted(power, reverse=True)


def test_out_file_is_written_and_stdout_stays_empty(tmp_path):
    out = tmp_path / "sweep.csv"
    result = _run("--format", "csv", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text().startswith("sram_bytes,memory_bandwidth_bytes_per_s,")
    assert not list(tmp_path.glob(".*tmp"))


def test_mix_reports_values_relative_to_the_base_chip():
    result = CliRunner().invoke(cli, ["sweep", "--chip", "seedchip-rec", "--mix",
                                      "dlrm-dcnv2-small:0.7:256,llama-tiny:0.3:2",
                                      "--prompt", "32", "--output", "4",
                                      "--vary", "sram=128MiB,256MiB", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["relative_to_base_chip"] and "latency_x_base" in document["rows"][0]


@pytest.mark.parametrize("extra, size", [((), (700, 500)), (("--vary", "bf16=128,256TFLOP/s"),
                                                            (700, 500))])
def test_plot_is_a_png_of_the_expected_size(tmp_path, extra, size):
    """Two parameters: a heatmap; three: a Pareto scatter."""
    out = tmp_path / "sweep.png"
    result = _run(*extra, "--plot", str(out))
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 5_000 and _png_size(out) == size


@pytest.mark.parametrize("extra, message", [
    (("--vary", "warp=1,2"), "unknown parameter"),
    (("--vary", "sram=1..2"), "number of points"),
    (("--pareto", "latency"), "two objectives"),
    (("--pareto", "latency,beauty"), "unknown objective"),
    (("--pareto", "latency,latency"), "two different objectives"),
    (("--plot", "x.jpg"), ".png or .svg"),
    (("--mix", "llama-tiny:1"), "exactly one of --workload and --mix"),
    (("--prompt", "10"), "recommendation model"),
])
def test_bad_input_is_one_line_and_exit_2(extra, message):
    result = _run(*extra)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_no_point_fitting_memory_is_an_error():
    result = CliRunner().invoke(cli, ["sweep", "--chip", "seedchip-gen", "--workload",
                                      "llama3-70b", "--vary", "memory_count=1,2"])
    assert result.exit_code == 2 and "no grid point's main memory holds" in result.stderr


def test_help_has_an_example():
    result = CliRunner().invoke(cli, ["sweep", "--help"])
    assert "Example: seedchip sweep --chip seedchip-rec" in result.stdout


@pytest.mark.parametrize("output_format", ["table", "json", "csv"])
def test_out_file_replaces_a_previous_sweep_but_never_a_foreign_file(tmp_path, output_format):
    out = tmp_path / "sweep.out"
    assert _run("--format", output_format, "-o", str(out)).exit_code == 0
    first = out.read_text()
    again = _run("--format", output_format, "--top", "2", "-o", str(out))
    assert again.exit_code == 0 and out.read_text() != first
    out.write_text("my notes\n")
    refused = _run("--format", output_format, "-o", str(out))
    assert refused.exit_code == 2 and "not overwriting it" in refused.stderr
    assert out.read_text() == "my notes\n"
