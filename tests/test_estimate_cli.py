"""`seedchip workloads` and `seedchip estimate` through click and through the console entry."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from benches.cli import cli
from workloads.config import preset_names

ROOT = Path(__file__).resolve().parents[1]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def run_main(*args: str) -> subprocess.CompletedProcess:
    """Run the console entry point `benches.cli.main` in a fresh interpreter."""
    code = "import sys; from benches.cli import main; sys.argv[0] = 'seedchip'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_workloads_lists_every_preset():
    result = invoke("workloads", "--format", "json")
    rows = json.loads(result.output)
    assert [row["name"] for row in rows] == preset_names()
    llama = next(row for row in rows if row["name"] == "llama3-8b")
    assert llama["family"] == "generation" and llama["flops_per_token"] > 1.5e10
    assert llama["weight_bytes"] == pytest.approx(2 * llama["params"])
    assert "dlrm-dcnv2" in invoke("workloads").output


def test_estimate_generation_json_has_the_documented_fields():
    result = invoke("estimate", "--chip", "h100-sxm", "--workload", "llama3-8b", "--batch", "4",
                    "--prompt", "256", "--output", "32", "--format", "json")
    data = json.loads(result.output)
    for key in ("chip", "workload", "family", "batch", "latency_s", "throughput_per_s",
                "throughput_unit", "requests_per_s", "fits_in_memory", "breakdown", "ttft_s",
                "tpot_s", "prompt", "output"):
        assert key in data
    assert data["throughput_unit"] == "tokens" and data["batch"] == 4 and data["fits_in_memory"]
    assert {"phase", "kind", "time_s", "share", "flops", "bytes", "bound"} <= set(data["breakdown"][0])


def test_estimate_recommendation_table_and_json():
    table = invoke("estimate", "--chip", "h100-sxm", "--workload", "dlrm-rm1").output
    assert "latency per request" in table and "embedding_bag" in table
    data = json.loads(invoke("estimate", "--chip", "h100-sxm", "--workload", "dlrm-rm1",
                             "--batch", "800", "--format", "json").output)
    assert data["throughput_unit"] == "samples" and data["candidates"] == 400
    assert data["requests_per_s"] == pytest.approx(data["throughput_per_s"] / 400)
    assert "ttft_s" not in data


def test_estimate_batch_max_and_csv():
    data = json.loads(invoke("estimate", "--chip", "h100-sxm", "--workload", "llama3-8b",
                             "--batch", "max", "--format", "json").output)
    assert data["batch"] > 64 and data["fits_in_memory"]
    csv_text = invoke("estimate", "--chip", "h100-sxm", "--workload", "llama-tiny",
                      "--format", "csv").output
    assert csv_text.splitlines()[0].startswith("chip,workload,dtype,batch")


def test_estimate_warns_when_the_model_does_not_fit():
    result = invoke("estimate", "--chip", "h100-sxm", "--workload", "llama3-70b",
                    "--prompt", "128", "--output", "8", "--tp", "1")
    assert "warning" in result.output and "does not fit" in result.output


def test_estimate_chooses_the_smallest_layout_and_prices_it():
    data = json.loads(invoke("estimate", "--chip", "h100-sxm", "--workload", "llama3-70b",
                             "--prompt", "128", "--output", "8", "--format", "json").output)
    assert data["chips"] == 2 and data["layout"]["tp"] == 2 and data["fits_in_memory"]
    for key in ("usd_per_request", "joules_per_request", "usd_per_mtok", "joules_per_token"):
        assert data[key] > 0
    cheap = json.loads(invoke("estimate", "--chip", "h100-sxm", "--workload", "dlrm-rm1",
                              "--price", "15000", "--usd-per-kwh", "0", "--format", "json").output)
    full = json.loads(invoke("estimate", "--chip", "h100-sxm", "--workload", "dlrm-rm1",
                             "--price", "30000", "--usd-per-kwh", "0", "--format", "json").output)
    assert full["usd_per_request"] == pytest.approx(2 * cheap["usd_per_request"])
    assert full["chips"] == 1 and "usd_per_mtok" not in full


@pytest.mark.parametrize("command", ["workloads", "estimate"])
def test_help_has_an_example(command):
    assert "Example: seedchip " + command in invoke(command, "--help").output


def test_user_errors_are_one_line_in_process():
    result = CliRunner().invoke(cli, ["estimate", "--chip", "h100-sxm", "--workload", "nope"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "unknown workload 'nope'" in result.stderr


BAD_CONFIG = 'name = "x"\nkind = "decoder"\nlayers = [\n'


@pytest.mark.parametrize("args, message", [
    (["--workload", "nope"], "unknown workload 'nope'"),
    (["--workload", "llama3-8b", "--batch", "0"], "--batch must be >= 1"),
    (["--workload", "llama3-8b", "--prompt", "9000"], "exceeds llama3-8b's context of 8192"),
    (["--workload", "BAD"], "not valid TOML"),
    (["--workload", "llama3-8b", "--set", "matrix_overlap=-0.5"], "must be in [0, 1]"),
    (["--workload", "llama3-8b", "--set", "matrix_overlap=2"], "must be in [0, 1]"),
    (["--workload", "llama3-8b", "--set", "reciprocal=0 FLOP/s"], "must be positive"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, args, message):
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD_CONFIG, encoding="utf-8")
    args = [str(bad) if arg == "BAD" else arg for arg in args]
    result = run_main("estimate", "--chip", "h100-sxm", *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("seedchip: error: ")
    assert message in result.stderr and result.stdout == ""
