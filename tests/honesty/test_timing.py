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


def test_more_rounds_run_while_asked_up_to_the_cap(monkeypatch):
    monkeypatch.setattr(timing, "settle", lambda: None)
    answers = iter([True, True, False])
    [result] = timing.measure_interleaved([lambda: None], rounds=5, warmup=0,
                                          more=lambda: next(answers), max_rounds=10)
    assert result.rounds == 7
    [capped] = timing.measure_interleaved([lambda: None], rounds=5, warmup=0,
                                          more=lambda: True, max_rounds=6)
    assert capped.rounds == 6


def test_too_few_rounds_is_refused():
    with pytest.raises(ValueError, match=">= 5"):
        timing.measure_interleaved([lambda: None], rounds=3)


def test_freed_memory_is_kept_where_the_c_library_allows_it():
    import platform
    kept = timing.keep_freed_memory()
    if platform.libc_ver()[0] == "glibc":
        assert kept is True
    assert timing.keep_freed_memory() is kept  # once per process


def test_cycling_calls_the_functions_round_robin():
    calls = []
    run = timing.cycling([lambda: calls.append("a"), lambda: calls.append("b"),
                          lambda: calls.append("c")])
    for _ in range(5):
        run()
    assert calls == ["a", "b", "c", "a", "b"]


@pytest.mark.parametrize("gathered_bytes, sets", [
    (0.0, 1),                                      # no lookups: one input is as good as any
    (timing.FRESH_INPUT_BYTES, 1),                 # one call already reads past any cache
    (timing.FRESH_INPUT_BYTES / 2.5, 3),           # rounded up
    (1.0, timing.MAX_INPUT_SETS),                  # tiny lookups: capped
])
def test_input_sets_reach_the_fresh_bytes_between_reuses(gathered_bytes, sets):
    assert timing.input_sets(gathered_bytes) == sets


def test_a_visit_rewarms_for_at_least_the_given_time(monkeypatch):
    monkeypatch.setattr(timing, "settle", lambda: None)
    clock = iter(range(10_000))
    monkeypatch.setattr(timing.time, "perf_counter", lambda: float(next(clock)))
    calls = []
    # each rewarm check reads the clock once (1 s a read): 4 s of rewarm takes 4 calls
    timing.measure_interleaved([lambda: calls.append("a")], rounds=5, warmup=0, rewarm=1,
                               rewarm_s=4.0)
    assert len(calls) == 5 * (4 + 1)
