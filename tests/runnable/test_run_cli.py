"""`seedchip run` through click: measured fields, reproducible tokens and scores, errors."""

import csv
import io
import json

import pytest
from click.testing import CliRunner

from benches.cli import cli

LLAMA = ("run", "--workload", "llama-tiny", "--batch", "2", "--prompt", "16", "--output", "4",
         "--repeats", "2")
TWO_TOWER = ("run", "--workload", "two-tower-small", "--batch", "131072", "--repeats", "2")


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def as_json(*args: str) -> dict:
    result = invoke(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_generation_reports_measured_times_and_the_same_tokens_for_the_same_seed():
    first = as_json(*LLAMA, "--top-k", "50", "--seed", "3")
    assert first["workload"] == "llama-tiny" and first["throughput_unit"] == "tokens"
    assert 0 < first["ttft_s"] < first["latency_s"] and 0 < first["tpot_s"] < first["latency_s"]
    assert first["throughput_per_s"] == pytest.approx(2 * 4 / first["latency_s"])
    assert len(first["tokens"]) == 2 and all(len(row) == 4 for row in first["tokens"])
    assert as_json(*LLAMA, "--top-k", "50", "--seed", "3")["tokens"] == first["tokens"]
    assert as_json(*LLAMA, "--top-k", "50", "--seed", "4")["tokens"] != first["tokens"]


def test_numpy_backend_generates_the_same_greedy_tokens():
    assert as_json(*LLAMA)["tokens"] == as_json(*LLAMA, "--backend", "numpy")["tokens"]


def test_recommendation_reports_samples_and_scores():
    result = as_json(*TWO_TOWER)
    assert result["batch"] == 131072 and result["throughput_unit"] == "samples"
    assert result["throughput_per_s"] == pytest.approx(131072 / result["latency_s"])
    assert len(result["scores"]) == 8 and result["scores"] == sorted(result["scores"], reverse=True)
    assert as_json(*TWO_TOWER)["scores"] == result["scores"]
    row = next(csv.DictReader(io.StringIO(invoke(*TWO_TOWER, "--format", "csv").stdout)))
    assert row["workload"] == "two-tower-small" and float(row["latency_s"]) > 0
    assert "samples/s" in invoke(*TWO_TOWER).stdout


@pytest.mark.parametrize("args, message", [
    (("run", "--workload", "nope"), "unknown workload 'nope'"),
    (("run", "--workload", "llama-tiny", "--prompt", "2048", "--output", "8"),
     "exceeds its context of 2048"),
    (("run", "--workload", "llama-tiny", "--batch", "0"), "--batch must be >= 1"),
    (("run", "--workload", "two-tower-small", "--prompt", "8"), "recommendation model"),
    (("run", "--workload", "llama-tiny", "--dtype", "int8"), "run in fp32"),
    (("run", "--workload", "llama-tiny", "--top-k", "9000"), "exceeds llama-tiny's vocabulary"),
    (("run", "--workload", "dlrm-dcnv2"), "GiB of weights"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().count("\n") == 0 and message in result.stderr


def test_help_has_an_example():
    assert "Example: seedchip run" in invoke("run", "--help").output
