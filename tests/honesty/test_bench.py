"""seedchip bench: results with predictions, machine info, and the regression gate."""

import json

import pytest
from click.testing import CliRunner

import benches.bench as bench
from benches.cli import cli
from benches.opjson import op_from_dict, op_to_dict
from perfmodel import ops
from perfmodel.chip import load_chip
from perfmodel.errors import SeedchipError


def _raw(median_1024: float) -> dict:
    gemm = op_to_dict(ops.Gemm(1024, 1024, 1024, dtype="fp32"))
    return {"benchmarks": [
        {"name": "test_linear_square[1024]", "stats": {"median": median_1024},
         "extra_info": {"kernel": "linear fp32", "shape": "1024^3", "unit": "GFLOP/s",
                        "achieved": 2 * 1024**3 / median_1024 / 1e9, "op": gemm}},
        {"name": "test_other", "stats": {"median": 0.5}, "extra_info": {}},
    ]}


def test_op_json_round_trip_and_errors():
    op = ops.AttentionDecode(2, 100, 8, 2, 64, dtype="fp32")
    assert op_from_dict(json.loads(json.dumps(op_to_dict(op)))) == op
    with pytest.raises(SeedchipError, match="not an op"):
        op_from_dict({"op": "Chip"})
    with pytest.raises(SeedchipError, match="op Gemm"):
        op_from_dict({"op": "Gemm", "m": 1})


def test_results_carry_the_models_prediction():
    chip = load_chip("host-cpu")
    rows = bench.results(_raw(0.02), chip)
    gemm, other = rows
    assert gemm.predicted_s > 0 and gemm.share_of_model == pytest.approx(gemm.predicted_s / 0.02)
    assert other.predicted_s is None and other.share_of_model is None
    document = bench.results_document(rows, chip)
    assert document["format"] == bench.RESULTS_FORMAT
    assert {"cpu_model", "cpus", "numba", "numpy", "git_revision"} <= set(document["machine"])


def _run_bench(monkeypatch, tmp_path, median, *args):
    monkeypatch.setattr(bench, "run_suite", lambda expression=None: _raw(median))
    return CliRunner().invoke(cli, ["bench", "--chip", "host-cpu", *args])


def test_compare_flags_regressions_and_exits_1(monkeypatch, tmp_path):
    previous = tmp_path / "before.json"
    first = _run_bench(monkeypatch, tmp_path, 0.020, "-o", str(previous))
    assert first.exit_code == 0, first.output
    same = _run_bench(monkeypatch, tmp_path, 0.021, "--compare", str(previous))
    assert same.exit_code == 0 and "ok" in same.stderr
    slower = _run_bench(monkeypatch, tmp_path, 0.030, "--compare", str(previous))
    assert slower.exit_code == 1
    assert "REGRESSION" in slower.stderr and "+50.0%" in slower.stderr


def test_compare_with_a_foreign_file_is_a_user_error(monkeypatch, tmp_path):
    foreign = tmp_path / "foreign.json"
    foreign.write_text('{"hello": 1}')
    result = _run_bench(monkeypatch, tmp_path, 0.02, "--compare", str(foreign))
    assert result.exit_code == 2 and "not a seedchip bench results file" in result.stderr
