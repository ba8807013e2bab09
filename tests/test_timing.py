"""helpers.timing: the stopwatch and repeated measurements."""

from __future__ import annotations

import time

import pytest

from helpers.timing import Timing, measure, memory_read_gb_per_s, stopwatch


def test_stopwatch_freezes_when_the_block_ends() -> None:
    with stopwatch() as elapsed:
        time.sleep(0.02)
    first = elapsed()
    time.sleep(0.02)
    assert 0.015 < first < 0.5 and elapsed() == first


def test_measure_counts_warmup_and_repeats_separately() -> None:
    calls: list[int] = []
    timing = measure(lambda: calls.append(1), repeats=10, warmup=2)
    assert len(calls) == 12 and timing.repeats == 10
    assert 0 <= timing.p50_s <= timing.p99_s and timing.per_second > 0
    with pytest.raises(ValueError, match="at least 1"):
        measure(lambda: None, repeats=0)


def test_timing_summarises_collected_durations() -> None:
    timing = Timing.from_durations([0.001] * 98 + [0.010, 0.020])
    assert timing.repeats == 100 and timing.p50_s == 0.001
    assert 0.001 < timing.p99_s <= 0.020 and timing.mean_s > timing.p50_s
    with pytest.raises(ValueError, match="no durations"):
        Timing.from_durations([])


def test_memory_read_bandwidth_is_a_plausible_rate() -> None:
    rate = memory_read_gb_per_s(mebibytes=64, repeats=3)
    assert 0.5 < rate < 5_000, f"{rate} GB/s: no machine reads memory at that rate"
