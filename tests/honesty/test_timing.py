"""Interleaved timing: every function gets its own median, samples taken round-robin."""

import pytest

from benches import timing


def test_interleaved_rounds_visit_every_function_in_turn(monkeypatch):
    monkeypatch.setattr(timing, "settle", lambda: None)
    calls = []
    functions = [lambda: calls.append("a"), lambda: calls.append("b")]
    rounds = []
    timings = timing.measure_interleaved(functions, rounds=5, warmup=1, on_round=rounds.append)
    assert calls == ["a", "b"] + ["a", "a", "b", "b"] * 5  # warm-up, then untimed + timed
    assert rounds == [0, 1, 2, 3, 4]
    assert len(timings) == 2
    for result in timings:
        assert result.rounds == 5 and 0 <= result.min_s <= result.median_s <= result.max_s


def test_each_visit_can_rewarm_several_times_before_its_timed_call(monkeypatch):
    monkeypatch.setattr(timing, "settle", lambda: None)
    calls = []
    timing.measure_interleaved([lambda: calls.append("a"), lambda: calls.append("b")],
                               rounds=5, warmup=0, rewarm=3)
    assert calls == (["a"] * 4 + ["b"] * 4) * 5  # three untimed calls, then the timed one


def test_interleaved_timing_keeps_each_functions_own_times(monkeypatch):
    monkeypatch.setattr(timing, "settle", lambda: None)
    clock = iter(range(1000))
    monkeypatch.setattr(timing.time, "perf_counter", lambda: float(next(clock)))
    # every perf_counter call advances 1 s; the slow function reads the clock twice more
    fast, slow = timing.measure_interleaved(
        [lambda: None, lambda: (timing.time.perf_counter(), timing.time.perf_counter())],
        rounds=5, warmup=0)
    assert fast.median_s == pytest.approx(1.0)
    assert slow.median_s == pytest.approx(3.0)


def test_too_few_rounds_is_refused():
    with pytest.raises(ValueError, match=">= 5"):
        timing.measure_interleaved([lambda: None], rounds=3)


def test_freed_memory_is_kept_where_the_c_library_allows_it():
    import platform
    kept = timing.keep_freed_memory()
    if platform.libc_ver()[0] == "glibc":
        assert kept is True
    assert timing.keep_freed_memory() is kept  # once per process
