"""`seedchip compare` and `seedchip plan` through click and the console entry point."""

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from benches.cli import cli
from benches.commands.compare import DEFAULT_CHIPS

ROOT = Path(__file__).resolve().parents[2]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def run_main(*args: str) -> subprocess.CompletedProcess:
    code = ("import sys; from benches.cli import main; sys.argv[0] = 'seedchip'; main()\n")
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_compare_default_ranks_every_preset_on_both_families_by_cost():
    rows = json.loads(invoke("compare", "--format", "json").output)
    assert [row["workload"] for row in rows] == ["dlrm-dcnv2"] * 5 + ["llama3-70b"] * 5
    for workload, key in (("dlrm-dcnv2", "usd_per_request"), ("llama3-70b", "usd_per_mtok")):
        ranked = [row for row in rows if row["workload"] == workload]
        assert sorted(row["chip"] for row in ranked) == sorted(DEFAULT_CHIPS)
        costs = [row[key] for row in ranked]
        assert costs == sorted(costs) and all(cost > 0 for cost in costs)
    table = invoke("compare").output
    assert "seedchip-gen" in table and "/1M tok" in table and "/1M req" in table


def test_compare_table_marks_infeasible_chips_and_csv_has_a_header():
    result = invoke("compare", "--chips", "h100-sxm,l4", "--workload", "llama3-70b")
    assert result.exit_code == 0 and "infeasible: TPOT SLO 40 ms cannot be met" in result.output
    assert result.output.index("h100-sxm") < result.output.index("l4 ")
    text = invoke("compare", "--chips", "h100-sxm,h20", "--workload", "llama3-8b",
                  "--format", "csv").output
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["chip"] for row in rows] and "usd_per_mtok" in rows[0]


def test_compare_with_a_target_counts_fleet_chips():
    rows = json.loads(invoke("compare", "--chips", "h100-sxm", "--workload", "dlrm-dcnv2",
                             "--qps", "1e5", "--format", "json").output)
    assert rows[0]["chips"] > rows[0]["chips_per_replica"]


def test_plan_recommendation_json():
    data = json.loads(invoke("plan", "--chip", "seedchip-rec", "--workload", "dlrm-dcnv2",
                             "--qps", "1e6", "--slo-p99", "20ms", "--format", "json").output)
    assert data["chips"] == data["replicas"] * data["chips_per_replica"]
    assert data["chips"] * data["replica_max_per_s"] / data["chips_per_replica"] >= 1e6
    assert data["latency_p99_s"] <= 0.020 and 0 < data["utilisation"] <= 1
    assert data["samples_per_s"] == 1e6 * 400
    assert data["fleet_memory_bytes"] == data["chips"] * 512e9
    assert data["usd_per_request"] == pytest.approx(data["fleet_usd_per_hour"] / 3.6e9)


def test_plan_generation_qps_means_requests():
    by_tokens = json.loads(invoke("plan", "--chip", "h100-sxm", "--workload", "llama3-8b",
                                  "--tokens-per-s", "25600", "--output", "256",
                                  "--format", "json").output)
    by_requests = json.loads(invoke("plan", "--chip", "h100-sxm", "--workload", "llama3-8b",
                                    "--qps", "100", "--output", "256", "--format", "json").output)
    assert by_tokens["chips"] == by_requests["chips"]
    assert by_requests["requests_per_s"] == 100 and by_requests["ttft_p99_s"] <= 0.45
    assert by_requests["tpot_s"] <= 0.040


def test_plan_table_and_layout_option():
    table = invoke("plan", "--chip", "h100-sxm", "--workload", "llama3-70b", "--tp", "8",
                   "--tokens-per-s", "1e5").output
    assert "(tp8)" in table and "memory bill" in table and "USD/year" in table


@pytest.mark.parametrize("command", ["compare", "plan"])
def test_help_has_an_example(command):
    assert "Example: seedchip " + command in invoke(command, "--help").output


@pytest.mark.parametrize("args, message", [
    (["--chip", "h100-sxm", "--workload", "dlrm-dcnv2", "--qps", "1e6", "--slo-p99", "10us"],
     "below the time of one request"),
    (["--chip", "h100-sxm", "--workload", "llama3-8b", "--qps", "10", "--slo-tpot-p99", "1ms"],
     "TPOT SLO 1 ms cannot be met"),
    (["--chip", "TINY", "--workload", "llama3-70b", "--qps", "10"], "no layout fits memory"),
    (["--chip", "h100-sxm", "--workload", "llama3-8b", "--qps", "10", "--tp", "3"],
     "--tp 3 must divide"),
    (["--chip", "h100-sxm", "--workload", "llama3-8b"], "give the target load"),
    (["--chip", "h100-sxm", "--workload", "dlrm-dcnv2", "--tokens-per-s", "5"],
     "recommendation model"),
])
def test_infeasible_plans_exit_2_with_one_line(args, message, chip_file):
    tiny = chip_file(('capacity = "16 GB"', 'capacity = "1 GB"'), ("max_chips = 8", "max_chips = 1"))
    result = run_main("plan", *[tiny if arg == "TINY" else arg for arg in args])
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and message in result.stderr and result.stdout == ""
