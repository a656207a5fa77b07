"""CLI: seedchip chips / chip through click's runner and a real subprocess; errors are one line."""

import json
import subprocess
import sys

from click.testing import CliRunner

from benches.cli import cli
from perfmodel.chip import preset_names


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_chips_table_lists_every_preset():
    result = invoke("chips")
    assert result.exit_code == 0, result.output
    for name in preset_names():
        assert name in result.stdout
    assert "TFLOP/s" in result.stdout and "source" in result.stdout


def test_chips_json_and_csv():
    rows = json.loads(invoke("chips", "--format", "json").stdout)
    assert {row["name"] for row in rows} == set(preset_names())
    h100 = next(row for row in rows if row["name"] == "h100-sxm")
    assert h100["bf16_flops_per_s"] == 989.4e12 and h100["memory_bytes_per_s"] == 3.35e12
    csv_lines = invoke("chips", "--format", "csv").stdout.strip().splitlines()
    assert csv_lines[0].startswith("name,kind,") and len(csv_lines) == len(rows) + 1


def test_chip_shows_fields_with_overrides():
    result = invoke("chip", "h100-sxm", "--set", "hbm_bandwidth=4TB/s", "--format", "json")
    fields = {row["field"]: row["value"] for row in json.loads(result.stdout)}
    assert fields["memory.HBM3.bandwidth_bytes_per_s"] == 4e12
    assert fields["tdp_w"] == 700


def _assert_one_line_error(result, fragment):
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("seedchip: error:") and fragment in lines[0]
    assert "Traceback" not in result.output


def test_unknown_chip_is_one_line_exit_2():
    _assert_one_line_error(invoke("chip", "h9000"), "unknown chip 'h9000'")
    # a line break in the name stays on the one line, escaped (found by the CLI fuzzer)
    _assert_one_line_error(invoke("compare", "--chips", "0\n0"), "unknown chip '0\\n0'")


def test_bad_override_is_one_line_exit_2():
    _assert_one_line_error(invoke("chip", "h100-sxm", "--set", "hbm_bandwidth"), "FIELD=VALUE")
    _assert_one_line_error(invoke("chip", "h100-sxm", "--set", "tdp=-5W"), "must be positive")


def test_bad_option_is_one_line_exit_2():
    _assert_one_line_error(invoke("chips", "--format", "xml"), "xml")
    _assert_one_line_error(invoke("nonsense"), "nonsense")


def test_malformed_chip_file_is_one_line_exit_2(chip_file):
    path = chip_file(('bandwidth = "1 TB/s"', 'bandwidth = "1 TB/s'))
    _assert_one_line_error(invoke("chip", path), "not valid TOML")


def test_subprocess_error_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [", encoding="utf-8")
    process = subprocess.run([sys.executable, "-c", "from benches.cli import main; main()",
                              "chip", str(bad)], capture_output=True, text=True, timeout=60)
    assert process.returncode == 2
    assert process.stderr.count("\n") == 1 and "not valid TOML" in process.stderr
