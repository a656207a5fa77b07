"""The honesty loop's plumbing: disjoint case sets, the host chip file, error statistics, CLI."""

import math

import numpy as np
import pytest
from click.testing import CliRunner

from benches.calibrate import (CALIBRATION_SHAPES, GATHER_POOLING, GEMM_SIZES, ROW_PROBE_COLS,
                               STREAM_GEMM_K, STREAM_GEMM_ROWS, STREAM_GEMV_ROWS, TINY,
                               Calibration, Measurement, calibrate, calibration_steps)
from benches.cli import cli
from benches.hostfile import host_chip_toml
from benches.system import Cache, SystemInfo
from benches.validate import (Case, CaseResult, _decode, all_cases, kernel_cases, run_cases,
                              summarize, workload_cases)
from perfmodel import ops, roofline
from perfmodel import units
from perfmodel.chip import load_chip
from perfmodel.roofline import time_graph


def test_validation_shapes_never_appear_in_calibration():
    keys = [case.key for case in all_cases(quick=False)]
    assert len(keys) == len(set(keys)), "duplicate validation cases"
    assert not CALIBRATION_SHAPES & set(keys)
    square_calibration_gemms = {("gemm", s, s, s) for s in GEMM_SIZES}
    assert not square_calibration_gemms & set(keys)
    streamed = {("gemm_rows_k", rows, STREAM_GEMM_K)
                for rows in (STREAM_GEMM_ROWS, STREAM_GEMV_ROWS)}
    assert streamed <= CALIBRATION_SHAPES
    assert not {("gemm_rows_k", key[1], key[3]) for key in keys if key[0] == "gemm"} & streamed
    assert ("bag_pooling", GATHER_POOLING) in CALIBRATION_SHAPES
    assert GATHER_POOLING not in {key[4] for key in keys if key[0] == "bag"}
    row_probe = ("row_cols", ROW_PROBE_COLS)
    assert row_probe in CALIBRATION_SHAPES
    assert row_probe not in {("row_cols", key[-1]) for key in keys if key[0] in ("norm", "softmax")}


def test_no_validated_graph_has_the_top_k_probe_shape():
    from benches.calibrate import SELECTION_SHAPE
    assert ("topk", *SELECTION_SHAPE) in CALIBRATION_SHAPES
    from workloads.config import load_workload
    from workloads.graphs import graph
    shapes = set()
    for case in workload_cases(quick=False):  # keys: (what, workload, batch[, prompt/context])
        what, workload, batch, *length = case.key
        length_name = {"prefill": "prompt", "decode": "context"}.get(what)
        lengths = {length_name: length[0]} if length_name else {}
        nodes = graph(load_workload(workload), batch, "fp32", **lengths)
        shapes |= {(n.op.rows, n.op.cols, n.op.k) for n in nodes if isinstance(n.op, ops.TopK)}
    assert shapes and SELECTION_SHAPE not in shapes


@pytest.mark.parametrize("cases", [kernel_cases, workload_cases])
def test_quick_cases_are_a_subset(cases):
    quick, full = cases(quick=True), cases(quick=False)
    assert {case.key for case in quick} < {case.key for case in full}


def test_quick_cases_cover_every_kernel_kind_and_workload_family():
    quick, full = all_cases(quick=True), all_cases(quick=False)
    assert {c.kind for c in quick if c.group == "kernel"} == {c.kind for c in full
                                                              if c.group == "kernel"}
    assert {"dlrm-dcnv2-small", "two-tower-small", "llama-tiny prefill", "llama-tiny decode",
            "mixtral-tiny decode"} <= {c.kind for c in quick if c.group == "workload"}


def test_a_workload_case_runs_the_model_and_predicts_it_with_its_graph():
    [result] = run_cases([_decode("llama-tiny", 2, 16)], [load_chip("host-cpu")], rounds=5).results
    assert result.group == "workload" and result.kind == "llama-tiny decode"
    assert result.measured_s > 0 and result.predicted_s > 0 and result.bound


FAKE = Calibration(
    system=SystemInfo("Test CPU", 2, (Cache(2, 512 * 2**10, 1, 64), Cache(3, 32 * 2**20, 2, 64)),
                      16 * 2**30),
    threads=2, date="2026-01-01T00:00:00Z",
    measurements=tuple(Measurement(name, value, dimension, 0.05, "test") for name, value, dimension in [
        ("gemm_0", 100e9, units.FLOP_PER_S), ("gemm_1", 120e9, units.FLOP_PER_S),
        ("gemm_k48", 40e9, units.FLOP_PER_S), ("gemm_k256", 80e9, units.FLOP_PER_S),
        ("matrix_peak", 130e9, units.FLOP_PER_S),
        ("dot_overhead", 1e-9, units.SECONDS), ("gemm_stream", 50e9, units.FLOP_PER_S),
        ("gemv_stream", 20e9, units.FLOP_PER_S), ("gemv_l2", 40e9, units.FLOP_PER_S),
        ("element_overhead", 20e-12, units.SECONDS),
        ("matrix_overlap", 0.25, units.RATIO), ("matvec_overlap", 0.75, units.RATIO),
        ("row_overlap", 0.5, units.RATIO),
        ("vector", 60e9, units.FLOP_PER_S), ("transcendental", 5e9, units.FLOP_PER_S),
        ("reciprocal", 15e9, units.FLOP_PER_S), ("sigmoid", 4e9, units.FLOP_PER_S),
        ("reciprocal_overlap", 0.6, units.RATIO),
        ("topk", 1e9, units.FLOP_PER_S), ("selection", 2e9, units.FLOP_PER_S),
        ("l2_read", 150e9, units.BYTES_PER_S),
        ("l3_read", 100e9, units.BYTES_PER_S), ("dram_read", 30e9, units.BYTES_PER_S),
        ("dram_triad", 27e9, units.BYTES_PER_S), ("l2_gather", 20e9, units.BYTES_PER_S),
        ("l3_gather", 12e9, units.BYTES_PER_S), ("dram_gather", 6e9, units.BYTES_PER_S),
        ("l3_span_gather", 8e9, units.BYTES_PER_S),
        ("l3_gather_capacity", 12 * 2**20, units.BYTES),
        ("gemv_l3_stream", 15e9, units.FLOP_PER_S), ("gemv_l3_far", 17e9, units.FLOP_PER_S),
        ("attention_stream", 20e9, units.BYTES_PER_S), ("attention_overlap", 0.1, units.RATIO),
        ("l3_stream_kept", 12e6, units.BYTES), ("l3_stream_capacity", 40 * 2**20, units.BYTES),
        ("l2_gather_wide", 40e9, units.BYTES_PER_S), ("l3_gather_wide", 12e9, units.BYTES_PER_S),
        ("dram_gather_wide", 40e9, units.BYTES_PER_S),
        ("l2_copy", 100e9, units.BYTES_PER_S), ("l3_copy", 80e9, units.BYTES_PER_S),
        ("dram_copy", 70e9, units.BYTES_PER_S),
        ("overhead", 8e-6, units.SECONDS), ("cold_overhead", 90e-6, units.SECONDS),
        ("cold_overhead_traffic", 70e6, units.BYTES)]),
    rounds=101, rounds_kept=80)


def test_host_chip_file_loads_with_the_measured_figures(tmp_path):
    path = tmp_path / "host.toml"
    path.write_text(host_chip_toml(FAKE, load_chip("host-cpu")), encoding="utf-8")
    assert "over the 80 of 101 rounds run in the host's commonest state" in path.read_text()
    chip = load_chip(str(path))
    assert chip.peak_flops_per_s("fp32") == pytest.approx(130e9, rel=1e-5)  # the fitted peak
    assert chip.dot_overhead_s == pytest.approx(1e-9, rel=1e-5)
    assert chip.element_overhead_s == pytest.approx(20e-12, rel=1e-5)
    assert chip.matrix_overlap == pytest.approx(0.25)
    assert chip.matvec_overlap == pytest.approx(0.75)
    assert chip.attention_overlap == pytest.approx(0.1)
    assert chip.row_overlap == pytest.approx(0.5)
    assert chip.reciprocal_overlap == pytest.approx(0.6)
    assert chip.vector_flops_per_s == pytest.approx(60e9, rel=1e-5)
    assert chip.transcendental_per_s == pytest.approx(5e9, rel=1e-5)
    assert chip.reciprocal_per_s == pytest.approx(15e9, rel=1e-5)
    assert chip.selection_per_s == pytest.approx(2e9, rel=1e-5)
    assert chip.op_overhead_s == pytest.approx(8e-6, rel=1e-5)
    assert chip.cold_op_overhead_s == pytest.approx(90e-6, rel=1e-5)
    assert chip.cold_overhead_traffic_bytes == pytest.approx(70e6, rel=1e-5)
    assert [level.name for level in chip.memory] == ["L2", "L3", "DRAM"]
    l2, l3, dram = chip.memory
    assert l2.capacity_bytes == pytest.approx(2 * 512 * 2**10, rel=1e-5)
    assert l2.shared_capacity_bytes == pytest.approx(512 * 2**10, rel=1e-5)  # private per core
    assert l3.capacity_bytes == pytest.approx(32 * 2**20, rel=1e-5)
    assert l3.shared_capacity_bytes == pytest.approx(12 * 2**20, rel=1e-5)  # measured
    assert l3.stream_capacity_bytes == pytest.approx(40 * 2**20, rel=1e-5)
    assert l3.stream_kept_bytes == pytest.approx(12e6, rel=1e-5)
    assert l2.stream_capacity_bytes is None and dram.stream_capacity_bytes is None
    assert l2.stream_kept_bytes is None and dram.stream_kept_bytes is None
    assert dram.bandwidth_bytes_per_s == pytest.approx(30e9, rel=1e-5)
    assert dram.gather_efficiency == pytest.approx(6 / 30, rel=1e-3)
    assert l3.gather_efficiency == pytest.approx(12 / 100, rel=1e-3)
    # 1024 B rows: 25.6 ns vs 3.2 ns for 64 B in L2, so 15 more lines cost 22.4 ns
    assert l2.gather_tail_efficiency == pytest.approx(64 / (22.4e-9 / 15) / 150e9, rel=1e-3)
    assert l3.gather_tail_efficiency == pytest.approx(12 / 100, rel=1e-3)  # no faster than the first
    assert dram.gather_tail_efficiency == 1.0  # faster than streaming: capped
    # copies: 2 / copy - 1 / read seconds per byte written
    assert l2.achievable_write_bytes_per_s == pytest.approx(1 / (2 / 100e9 - 1 / 150e9), rel=1e-4)
    assert l3.achievable_write_bytes_per_s == pytest.approx(1 / (2 / 80e9 - 1 / 100e9), rel=1e-4)
    assert dram.achievable_write_bytes_per_s == pytest.approx(70e9, rel=1e-4)  # nothing left
    assert "measured by seedchip calibrate on 2026-01-01" in chip.source
    assert chip.gathers_latency_bound


def _result(kind, predicted, measured):
    return CaseResult("kernel", kind, "case", predicted, measured, 0.01, "memory")


def test_summary_statistics():
    results = [_result("gemm", 1.05, 1.0), _result("gemm", 1.3, 1.0), _result("gemm", 0.5, 1.0),
               _result("norm", 2.0, 1.0)]
    by_kind = {s.kind: s for s in summarize(results)}
    gemm = by_kind["gemm"]
    assert gemm.cases == 3
    assert gemm.median_abs_error == pytest.approx(0.3)
    assert gemm.max_abs_error == pytest.approx(0.5)
    assert (gemm.within_10, gemm.within_20, gemm.within_50) == pytest.approx((1 / 3, 1 / 3, 1.0))
    assert by_kind["norm"].median_abs_error == pytest.approx(1.0)
    assert _result("x", 0.8, 1.0).error == pytest.approx(-0.2)


def test_validate_without_a_calibrated_chip_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 2
    assert "run `seedchip calibrate` first" in result.stderr


def test_validate_rejects_a_bad_plot_name_before_running(tmp_path):
    path = tmp_path / "host.toml"
    path.write_text(host_chip_toml(FAKE, load_chip("host-cpu")), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", "--chip", str(path), "--plot", "x.gif"])
    assert result.exit_code == 2 and ".png or .svg" in result.stderr


def test_tiny_calibration_runs_every_step_and_writes_a_loadable_chip(tmp_path):
    steps = []
    [calibration, *others] = calibrate(steps.append, TINY)
    assert others == []  # five rounds: never a second state of five
    derived = ["matrix_peak", "dot_overhead", "element_overhead", "matrix_overlap",
               "matvec_overlap", "attention_overlap", "l3_stream_kept", "l3_stream_capacity",
               "row_overlap", "reciprocal_overlap", "selection", "l3_gather_capacity", "cold_overhead", "cold_overhead_traffic"]
    assert len(steps) == calibration_steps(TINY) == (len(calibration.measurements) - len(derived)
                                                     + TINY.rounds)
    assert [m.name for m in calibration.measurements[-len(derived):]] == derived
    assert steps[-TINY.rounds:] == [f"round {i}" for i in range(1, TINY.rounds + 1)]
    assert calibration.rounds == calibration.rounds_kept == TINY.rounds  # 5: too few to drop any
    for measurement in calibration.measurements[:-len(derived)]:
        assert measurement.value > 0 and measurement.spread >= 0
    assert calibration.value("cold_overhead") >= calibration.value("overhead")
    assert calibration.value("cold_overhead_traffic") > 0
    assert calibration.value("element_overhead") >= 0
    assert calibration.value("l3_stream_capacity") > 0
    assert calibration.value("l3_stream_kept") > 0
    assert 0 <= calibration.value("matrix_overlap") <= 1
    assert 0 <= calibration.value("matvec_overlap") <= 1
    assert 0 <= calibration.value("attention_overlap") <= 1
    assert 0 <= calibration.value("row_overlap") <= 1
    assert 0 <= calibration.value("reciprocal_overlap") <= 1
    l3 = calibration.system.cache(3)
    assert 0 <= calibration.value("l3_gather_capacity") <= (l3.size_bytes if l3 else 8 * 2**20)
    path = tmp_path / "host.toml"
    path.write_text(host_chip_toml(calibration, load_chip("host-cpu")), encoding="utf-8")
    assert load_chip(str(path)).peak_flops_per_s("fp32") > 0


def test_cases_are_measured_together_and_predicted_in_order():
    import numpy as np

    def prepare():
        import kernels
        x, w = np.ones((4, 32), np.float32), np.ones((16, 32), np.float32)
        return (lambda: kernels.linear(x, w)), [ops.Node(ops.Gemm(4, 16, 32, dtype="fp32"))]

    chip = load_chip("host-cpu")
    cases = [Case("kernel", "gemm", "tiny", ("tiny",), prepare),
             Case("kernel", "gemm", "tiny again", ("tiny again",), prepare)]
    progress = []
    results = run_cases(cases, [chip], rounds=5, on_progress=progress.append).results
    assert progress == ["tiny", "tiny again"] + [f"round {i}" for i in range(1, 6)]
    assert [result.name for result in results] == ["tiny", "tiny again"]
    for result in results:
        assert result.measured_s > 0 and result.predicted_s >= chip.op_overhead_s
        assert result.ratio == pytest.approx(result.predicted_s / result.measured_s)


def test_a_round_counts_when_the_host_ran_as_calibrated_before_and_after_it():
    from benches.validate import matched_rounds
    assert matched_rounds([1.0, 1.1, 1.5, 0.85, 0.9, 0.79]) == [True, False, False, True, False]


def test_the_commonest_host_state_is_the_rate_most_rounds_are_near():
    from benches.timing import commonest_state
    rates = [36e9, 60e9, 37e9, 35e9, 61e9, 36e9, 59e9, 38e9]  # five near 36 GB/s, three near 60
    assert commonest_state(rates) == [True, False, True, True, False, True, False, True]
    assert commonest_state([36e9, 60e9, 36e9, 60e9]) == [False, True, False, True]  # tie: faster
    assert commonest_state([50e9, 41e9, 59e9]) == [True, True, True]  # one state within 20%


def test_kept_rounds_fall_back_to_all_rounds_when_too_few_are_kept():
    from benches.timing import Timing, kept_rounds
    timing = Timing.of([7.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert kept_rounds(timing, [False, True, True, True, True, True, False]).median_s == 3.0
    assert kept_rounds(timing, [False, True, True, True, True, False, False]) is timing


def _phased_runs(readings, rounds, chips=None):
    """A case that sleeps 1 ms while the host reads as calibrated and 5 ms otherwise, the
    host's speed taken from ``readings`` each time run_cases asks."""
    import time as clock
    state = {"slow": False}
    remaining = list(readings)

    def host_speed():
        speed = remaining.pop(0)
        state["slow"] = speed != 1.0
        return speed

    def prepare():
        return (lambda: clock.sleep(0.005 if state["slow"] else 0.001)), [
            ops.Node(ops.Gemm(4, 16, 32, dtype="fp32"))]

    cases = [Case("kernel", "gemm", "phased", ("phased",), prepare)]
    return run_cases(cases, chips or [load_chip("host-cpu")], rounds, host_speed=host_speed)


def test_medians_are_over_the_rounds_run_on_the_host_as_calibrated():
    # six slow rounds then five as calibrated: all 11 would give the slow median
    [result] = _phased_runs([2.0] * 6 + [1.0] * 6, rounds=11).results
    assert result.rounds == 5
    assert 0.001 <= result.measured_s < 0.003


def test_too_few_calibrated_rounds_are_made_up_with_more_rounds():
    # three as calibrated after the 11 rounds asked for, so two more run, both calibrated
    readings = [2.0] * 8 + [1.0] * 6
    [result] = _phased_runs(readings, rounds=11).results
    assert result.rounds == 5
    assert 0.001 <= result.measured_s < 0.003


def test_too_few_calibrated_rounds_within_the_cap_leave_the_medians_over_all_rounds():
    from benches.validate import MAX_ROUNDS_FACTOR
    rounds = 11
    readings = [2.0] * (MAX_ROUNDS_FACTOR * rounds - 2) + [1.0] * 3  # two as calibrated
    [result] = _phased_runs(readings, rounds=rounds).results
    assert result.rounds == MAX_ROUNDS_FACTOR * rounds
    assert result.measured_s >= 0.005


def test_each_round_is_compared_with_the_calibrated_state_it_ran_in():
    first = load_chip("host-cpu")
    fast = first.main_memory.bandwidth_bytes_per_s * 1.6
    second = load_chip("host-cpu", {"dram_bandwidth": f"{fast / 1e9} GB/s"})
    # DRAM reads over the first chip's: eight rounds at 1.6x (the second state), three at 1x
    validation = _phased_runs([1.6] * 9 + [1.0] * 3, rounds=11, chips=[first, second])
    assert validation.chip_index == 1
    [result] = validation.results
    assert result.rounds == 8
    assert result.predicted_s == pytest.approx(float(time_graph(
        [ops.Node(ops.Gemm(4, 16, 32, dtype="fp32"))], second).total_s))
    # too few rounds in any state even after the extra rounds: the first chip, all rounds
    from benches.validate import MAX_ROUNDS_FACTOR
    readings = [1.6, 1.0] * (MAX_ROUNDS_FACTOR * 11)
    validation = _phased_runs(readings, rounds=11, chips=[first, second])
    assert validation.chip_index == 0 and validation.results[0].rounds == MAX_ROUNDS_FACTOR * 11


def test_the_host_states_are_the_commonest_then_the_commonest_of_the_rest():
    from benches.timing import host_states
    rates = [36e9] * 6 + [60e9] * 5 + [20e9]
    assert host_states(rates) == [[True] * 6 + [False] * 6, [False] * 6 + [True] * 5 + [False]]
    assert host_states([36e9] * 6 + [60e9] * 4) == [[True] * 6 + [False] * 4]  # too few


def test_each_further_host_state_has_a_chip_file_beside_the_first():
    from benches.hostfile import state_path
    assert state_path("host.toml", 1) == "host.toml"
    assert state_path("host.toml", 2) == "host.state2.toml"
    assert state_path("runs.v1/host", 3) == "runs.v1/host.state3"


def test_calibrate_writes_one_chip_file_per_state_and_validate_finds_them(tmp_path, monkeypatch):
    import dataclasses

    import benches.calibrate
    from benches.commands.validate import _host_states
    faster = tuple(dataclasses.replace(m, value=m.value * 1.6) if m.name == "dram_read" else m
                   for m in FAKE.measurements)
    states = [dataclasses.replace(FAKE, states=2),
              dataclasses.replace(FAKE, measurements=faster, rounds_kept=15, state=2, states=2)]
    monkeypatch.setattr(benches.calibrate, "calibrate", lambda on_step, scale=None: states)
    monkeypatch.setattr(benches.calibrate, "calibration_steps", lambda scale=None: 1)
    path = tmp_path / "host.toml"
    result = CliRunner().invoke(cli, ["calibrate", "-o", str(path)])
    assert result.exit_code == 0, result.output
    assert f"wrote {tmp_path / 'host.state2.toml'}: medians over the 15 of 101" in result.stderr
    first, second = _host_states(str(path))
    assert second.main_memory.bandwidth_bytes_per_s == pytest.approx(
        1.6 * first.main_memory.bandwidth_bytes_per_s, rel=1e-4)
    assert "state 2 of 2" in second.description
    stale = host_chip_toml(dataclasses.replace(FAKE, date="2025-01-01T00:00:00Z"),
                           load_chip("host-cpu"))
    (tmp_path / "host.state2.toml").write_text(stale, encoding="utf-8")
    assert len(_host_states(str(path))) == 1  # another calibration's: not this host's state


def test_drift_compares_the_host_now_with_its_chip_file(tmp_path):
    from benches.calibrate import drift
    path = tmp_path / "host.toml"
    path.write_text(host_chip_toml(FAKE, load_chip("host-cpu")), encoding="utf-8")
    chip = load_chip(str(path))
    half = f"{chip.main_memory.bandwidth_bytes_per_s / 2e9} GB/s"
    slower = load_chip(str(path), {"dram_bandwidth": half})
    now, against_slower = drift([chip, slower], TINY)  # one measurement, two chip files
    assert against_slower.dram_read == pytest.approx(2 * now.dram_read, rel=1e-4)
    assert against_slower.gemm == now.gemm
    assert now.gemm > 0 and now.vector > 0 and now.transcendental > 0 and now.dram_read > 0
    assert now.overhead > 0


def test_validate_reports_cases_summary_and_drift(tmp_path, monkeypatch):
    import functools
    import json

    import benches.calibrate
    import benches.validate
    from benches.calibrate import drift
    path = tmp_path / "host.toml"
    path.write_text(host_chip_toml(FAKE, load_chip("host-cpu")), encoding="utf-8")
    monkeypatch.setattr(benches.validate, "all_cases",
                        lambda quick: [_decode("llama-tiny", 1, 16)])
    monkeypatch.setattr(benches.calibrate, "drift", functools.partial(drift, scale=TINY))
    monkeypatch.setattr(benches.calibrate, "dram_speed",
                        functools.partial(benches.calibrate.dram_speed, scale=TINY))
    out = tmp_path / "validation.json"
    result = CliRunner().invoke(cli, ["validate", "--chip", str(path), "--quick", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "host speed against the chip file" in result.stdout
    assert "DRAM read between rounds" in result.stdout
    document = json.loads(out.read_text())
    assert [row["when"] for row in document["drift"]] == ["before", "after"]
    assert len(document["dram_read_by_round"]) == document["rounds"] + 1
    assert document["cases"][0]["rounds"] == document["rounds_used"] <= document["rounds"]
    assert document["summary"][0]["kind"] == "llama-tiny decode"


def _gemm_rate(name, size, k, peak, dot_s):
    seconds = 2.0 * size * size * k / peak + size * size * dot_s
    return Measurement(name, 2.0 * size * size * k / seconds, units.FLOP_PER_S, 0.05, "test")


def test_matrix_peak_and_cost_per_output_come_from_gemms_of_several_inner_dimensions():
    from benches.calibrate import SHORT_KS, _matrix_fit
    gemms = [(k, _gemm_rate(f"gemm_k{k}", 1024, k, 200e9, 0.5e-9)) for k in (1024, *SHORT_KS)]
    peak, per_output = _matrix_fit(gemms)
    assert peak.value == pytest.approx(200e9) and per_output.value == pytest.approx(0.5e-9)
    # shorter GEMMs no slower per flop than the long one: no per-output cost to find
    gemms = [(1024, _gemm_rate("gemm_0", 1024, 1024, 200e9, 0.0)),
             *((k, _gemm_rate(f"gemm_k{k}", 1024, k, 250e9, 0.0)) for k in SHORT_KS)]
    peak, per_output = _matrix_fit(gemms)
    assert per_output.value == 0.0 and peak.value == pytest.approx(250e9)


def test_validate_names_the_ceilings_the_host_drifted_on():
    from benches.commands.validate import drift_warning
    steady = [{"when": "before", "gemm": 1.02, "vector": 0.99, "transcendental": 1.0,
               "dram_read": 1.1, "overhead": 0.9},
              {"when": "after", "gemm": 0.95, "vector": 1.0, "transcendental": 0.85,
               "dram_read": 0.9, "overhead": 1.05}]
    assert drift_warning(steady) is None
    moved = [{"when": "before", "gemm": 1.0, "vector": 1.0, "transcendental": 1.25,
              "dram_read": 1.7, "overhead": 1.0},
             {"when": "after", "gemm": 1.0, "vector": 1.0, "transcendental": 1.0,
              "dram_read": 0.66, "overhead": 0.75}]
    line = drift_warning(moved)
    assert "dram_read 0.66-1.70x" in line and "transcendental 1.00-1.25x" in line
    assert "overhead 0.75-1.00x" in line
    assert "gemm" not in line


def test_overhead_is_the_mean_cost_of_one_call_of_each_kernel_kind():
    from benches.calibrate import OVERHEAD_ROUNDS, _overhead, _tiny_calls
    from benches.timing import Timing
    calls = _tiny_calls()
    for call in calls:  # every tiny call is valid input for its kernel
        call()
    assert len(calls) >= 8
    count = OVERHEAD_ROUNDS * len(calls)
    measured = _overhead().result(Timing(count * 9e-6, count * 8e-6, count * 12e-6, 5))
    assert measured.name == "overhead" and measured.value == pytest.approx(9e-6)
    assert measured.spread == pytest.approx(4 / 9)


@pytest.mark.parametrize("rows", [STREAM_GEMM_ROWS, STREAM_GEMV_ROWS])
@pytest.mark.parametrize("measured_ms,overlap", [(4.0, 0.5), (3.0, 1.0), (2.5, 1.0), (5.5, 0.0)])
def test_matrix_overlap_is_the_hidden_share_of_the_shorter_side(measured_ms, overlap, rows):
    from benches.calibrate import _matrix_overlap
    from benches.timing import Timing
    n = 1000
    flops = 2.0 * rows * n * STREAM_GEMM_K
    per_output = Measurement("dot_overhead", 0.0, units.SECONDS, 0.0, "")
    # half the 2 ms of compute is the multiply-adds, half the cost per loaded weight
    peak = Measurement("matrix_peak", flops / 1e-3, units.FLOP_PER_S, 0.0, "")
    per_element = Measurement("element_overhead", 1e-3 / (n * STREAM_GEMM_K), units.SECONDS,
                              0.0, "")
    weight_bytes = 4.0 * n * STREAM_GEMM_K
    # the DRAM read (of the weights' size) takes 3 ms, 4.5 ms and 3 ms in three rounds, and
    # the GEMM with it: its share is read against each round's DRAM speed
    dram = Timing.of([3e-3, 4.5e-3, 3e-3])
    stream = Timing.of([measured_ms * 1e-3, measured_ms * 1e-3 + 1.5e-3, measured_ms * 1e-3])
    measured = _matrix_overlap("matvec_overlap", "gemv_stream", stream, dram, weight_bytes,
                               rows, n, peak, per_output, per_element)
    assert measured.name == "matvec_overlap" and measured.value == pytest.approx(overlap)
    assert measured.detail.startswith("gemv_stream against the model, round by round")


@pytest.mark.parametrize("measured_ms,overlap", [(4.0, 0.5), (3.0, 1.0), (5.5, 0.0), (6.0, 0.0)])
def test_attention_overlap_is_the_hidden_share_of_the_shorter_side(measured_ms, overlap):
    from benches.calibrate import _attention_op, _attention_overlap
    from benches.timing import Timing
    op = _attention_op(32 * 2**20)
    assert op.context == 2048  # keys and values 4 x 32 MiB
    cache_bytes = 2.0 * op.batch * op.context * op.n_kv_heads * op.head_dim * 4
    # 2 ms of compute: multiply-adds 1 ms, exps, outputs and loaded elements 1/3 ms each
    figures = {"matrix_peak": op.flops() / 1e-3, "transcendental": 3 * op.transcendentals() / 1e-3,
               "dot_overhead": 1e-3 / 3 / op.dot_products(),
               "element_overhead": 1e-3 / 3 / op.loaded_elements(), "overhead": 50e-6}
    by_name = {name: Measurement(name, value, "", 0.1, "") for name, value in figures.items()}
    # the DRAM read (of the cache's size) takes 3 ms, 4.5 ms and 3 ms in three rounds
    dram = Timing.of([3e-3, 4.5e-3, 3e-3])
    calls = [measured_ms * 1e-3 + 50e-6 + extra for extra in (0.0, 1.5e-3, 0.0)]
    measured = _attention_overlap(op, Timing.of(calls), dram, cache_bytes, by_name)
    assert measured.name == "attention_overlap"
    assert measured.value == pytest.approx(overlap)


def test_no_validated_decode_attention_has_the_probe_heads():
    from benches.calibrate import ATTENTION_HEADS
    assert ("decode_heads", *ATTENTION_HEADS) in CALIBRATION_SHAPES
    heads = {(key[1], *key[3:]) for key in (case.key for case in all_cases(quick=False))
             if key[0] == "decode"}
    assert heads and ATTENTION_HEADS not in heads


@pytest.mark.parametrize("measured_us,per_element_ps", [(30.0, 15.625), (20.0, 0.0), (15.0, 0.0)])
def test_element_overhead_is_what_a_cached_gemv_costs_beyond_the_model(measured_us,
                                                                        per_element_ps):
    from benches.calibrate import _element_overhead
    n = 1000
    flops = 2.0 * n * STREAM_GEMM_K
    gemv = Measurement("gemv_l2", flops / (measured_us * 1e-6), units.FLOP_PER_S, 0.2, "")
    peak = Measurement("matrix_peak", flops / 8e-6, units.FLOP_PER_S, 0.1, "")  # 8 us
    per_output = Measurement("dot_overhead", 2e-9, units.SECONDS, 0.1, "")  # 2 us
    overhead = Measurement("overhead", 10e-6, units.SECONDS, 0.3, "")
    # 30 us less 10 + 8 + 2 leaves 10 us for n x 640 weights; 20 us or less: none (clamped)
    measured = _element_overhead(gemv, n, peak, per_output, overhead)
    assert measured.name == "element_overhead" and measured.spread == 0.3
    assert measured.value == pytest.approx(per_element_ps * 1e-12, abs=1e-18)


@pytest.mark.parametrize("overlap", [1.0, 0.5, 0.0])
@pytest.mark.parametrize("kept", [0.2, 0.5, 0.9])
def test_l3_stream_retention_is_what_l3_kept_of_the_two_gemvs(kept, overlap):
    from benches.calibrate import _stream_retention
    from benches.timing import Timing
    rows = (10_000, 15_000)
    far_kept = kept / 3  # the larger GEMV keeps less
    figures = {"matrix_peak": 2.0 * rows[0] * STREAM_GEMM_K / 0.2e-3, "dot_overhead": 0.0,
               "element_overhead": 0.1e-3 / (rows[0] * STREAM_GEMM_K),  # 0.3 ms for rows[0]
               "matvec_overlap": overlap, "overhead": 10e-6}
    model = {name: Measurement(name, value, "", 0.1, "") for name, value in figures.items()}
    # DRAM 40 GB/s in two rounds, 20 in the third; what L3 does not keep comes from DRAM
    dram = Timing.of([1e-3, 1e-3, 2e-3])  # 40 MB read per call
    probes, streams = [], []
    for n, share in zip(rows, (kept, far_kept)):
        stream = 4.0 * (n * STREAM_GEMM_K + STREAM_GEMM_K + n)
        compute = 0.3e-3 * n / rows[0]
        memory = [(1 - share) * stream / rate for rate in (40e9, 40e9, 20e9)]
        probes.append(Timing.of([10e-6 + roofline.overlapped(compute, m, overlap)
                                 for m in memory]))
        streams.append(stream)
    kept_bytes, capacity = _stream_retention(probes, rows, dram, 40e6, model)
    assert (kept_bytes.name, capacity.name) == ("l3_stream_kept", "l3_stream_capacity")
    if (1 - kept) * streams[0] / 40e9 > 0.3e-3 or overlap < 1:  # else hidden: kept 0.999
        assert kept_bytes.value == pytest.approx(kept * streams[0])
    assert roofline.retained_share(streams[1], capacity.value) == pytest.approx(far_kept)
    assert capacity.value == pytest.approx(streams[1] * (1 - far_kept) / -math.log(far_kept))


@pytest.mark.parametrize("call_us,selection_us", [(100.0, 90.0), (10.5, 1.05)])
def test_selection_is_the_top_k_comparisons_over_the_call_less_its_overhead(call_us,
                                                                             selection_us):
    from benches.calibrate import SELECTION_SHAPE, _selection
    comparisons = ops.TopK(*SELECTION_SHAPE).comparisons()
    topk = Measurement("topk", comparisons / (call_us * 1e-6), units.FLOP_PER_S, 0.2, "")
    overhead = Measurement("overhead", 10e-6, units.SECONDS, 0.1, "")
    measured = _selection(topk, overhead)  # a call barely over its overhead: a tenth of it
    assert measured.name == "selection" and measured.spread == 0.2
    assert measured.value == pytest.approx(comparisons / (selection_us * 1e-6))


@pytest.mark.parametrize("measured_us,overlap", [(500.0, 0.5), (400.0, 1.0), (700.0, 0.0)])
def test_row_overlap_is_the_hidden_share_of_the_shorter_side(measured_us, overlap):
    from benches.calibrate import _row_overlap
    rows = 100
    softmax = ops.Softmax(rows, ROW_PROBE_COLS, "fp32")
    data = 4.0 * rows * ROW_PROBE_COLS
    assert softmax.reciprocals() == 0  # one divide per row, none per element
    rates = {  # compute 400 us (flops, exps 200 + 200), memory 200 us
        "vector": softmax.flops() / 200e-6, "transcendental": softmax.transcendentals() / 200e-6,
        "reciprocal": 1e9, "l3_read": data / 100e-6,
        "l3_copy": 2 * data / 200e-6, "overhead": 0.0, "reciprocal_overlap": 0.5}
    by_name = {name: Measurement(name, value, "", 0.1, "") for name, value in rates.items()}
    probe = Measurement("row_softmax", 2 * data / (measured_us * 1e-6), units.BYTES_PER_S, 0.3, "")
    measured = _row_overlap(probe, rows, by_name)
    assert measured.name == "row_overlap" and measured.value == pytest.approx(overlap)
    assert measured.spread == 0.3


@pytest.mark.parametrize("both_ps,overlap", [(125.0, 0.5), (150.0, 0.0), (100.0, 1.0),
                                            (200.0, 0.0), (90.0, 1.0)])
def test_reciprocal_overlap_is_the_hidden_share_of_the_shorter_special(both_ps, overlap):
    from benches.calibrate import _reciprocal_overlap
    per_s = {"transcendental": 1e12 / 100.0, "reciprocal": 1e12 / 50.0,  # 100 and 50 ps
             "sigmoid": 1e12 / both_ps}
    by_name = {name: Measurement(name, value, units.FLOP_PER_S, 0.1, "")
               for name, value in per_s.items()}
    measured = _reciprocal_overlap(by_name)
    assert measured.name == "reciprocal_overlap" and measured.value == pytest.approx(overlap)


@pytest.mark.parametrize("cold_us,decay_mb", [(90.0, 40.0), (50.0, 100.0), (200.0, 20.0)])
def test_cold_overhead_is_a_squared_exponential_through_the_flushed_overheads(cold_us, decay_mb):
    from benches.calibrate import _cold_overhead
    hot = Measurement("overhead", 10e-6, units.SECONDS, 0.1, "")
    traffic = [16e6, 64e6, 128e6]
    flushed = [(t, Measurement(f"overhead_flushed_{t:g}", 10e-6 + (cold_us - 10.0) * 1e-6
                               * -math.expm1(-(t / (decay_mb * 1e6)) ** 2), units.SECONDS,
                               0.2, "")) for t in traffic]
    cold, decay = _cold_overhead(hot, flushed)
    assert cold.name == "cold_overhead" and cold.value == pytest.approx(cold_us * 1e-6, rel=0.02)
    assert decay.name == "cold_overhead_traffic"
    assert decay.value == pytest.approx(decay_mb * 1e6, rel=0.02)
    assert cold.spread == 0.2


def test_no_extra_cost_after_traffic_makes_a_cold_call_cost_a_warm_one():
    from benches.calibrate import _cold_overhead
    hot = Measurement("overhead", 10e-6, units.SECONDS, 0.1, "")
    flushed = [(t, Measurement("f", 9e-6, units.SECONDS, 0.1, "")) for t in (16e6, 64e6)]
    cold, _ = _cold_overhead(hot, flushed)
    assert cold.value == pytest.approx(10e-6)


def test_an_embedding_case_reads_other_rows_on_each_call():
    [case] = [c for c in kernel_cases(quick=False) if c.key[:2] == ("bag", 20_000)]
    run, _ = case.prepare()
    first, second = run(), run()
    assert first.shape == second.shape and not np.array_equal(first, second)


@pytest.mark.parametrize("span_gb_per_s, served", [
    (12.0, 1.0),   # as fast as the resident table: all of L3
    (6.0, 0.0),    # as slow as DRAM: none of it
    (8.0, 0.5),    # 8 ns per row, halfway between 5.33 and 10.67: half
    (5.0, 0.0),    # slower than DRAM (noise): clamped
])
def test_l3_gather_capacity_is_the_share_of_lookups_served_like_resident_ones(span_gb_per_s,
                                                                               served):
    from benches.calibrate import _gather_capacity

    def rate(name, gb_per_s):
        return Measurement(name, gb_per_s * 1e9, units.BYTES_PER_S, 0.1, "test")

    capacity = _gather_capacity(32 * 2**20, rate("l3_gather", 12), rate("l3_span", span_gb_per_s),
                                rate("dram_gather", 6))
    assert capacity.name == "l3_gather_capacity"
    assert capacity.value == pytest.approx(served * 32 * 2**20)
