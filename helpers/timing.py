"""Measuring time honestly: warm-up first, many repeats, percentiles rather than one number."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Timing:
    """Seconds per call of something measured ``repeats`` times after a warm-up."""

    repeats: int
    mean_s: float
    p50_s: float
    p99_s: float

    @classmethod
    def from_durations(cls, durations_s: Sequence[float] | np.ndarray) -> Timing:
        """Summarise measured durations (seconds), e.g. the latencies a load test collected."""
        durations = np.asarray(durations_s, dtype=np.float64)
        if durations.size == 0:
            raise ValueError("no durations to summarise")
        return cls(
            repeats=int(durations.size),
            mean_s=float(durations.mean()),
            p50_s=float(np.percentile(durations, 50)),
            p99_s=float(np.percentile(durations, 99)),
        )

    @property
    def per_second(self) -> float:
        """Calls per second at the median."""
        return 1.0 / self.p50_s if self.p50_s > 0 else float("inf")


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """``with stopwatch() as elapsed: ...`` then ``elapsed()`` gives the seconds the block took."""
    start = time.perf_counter()
    end: float | None = None
    try:
        yield lambda: (end if end is not None else time.perf_counter()) - start
    finally:
        end = time.perf_counter()


def measure(function: Callable[[], object], *, repeats: int = 50, warmup: int = 3) -> Timing:
    """Call ``function`` ``warmup`` times (tracing, caches), then time ``repeats`` calls one by one."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    for _ in range(warmup):
        function()
    durations = np.empty(repeats)
    for index in range(repeats):
        start = time.perf_counter()
        function()
        durations[index] = time.perf_counter() - start
    return Timing.from_durations(durations)


def memory_read_gb_per_s(mebibytes: int = 512, repeats: int = 5) -> float:
    """How fast this machine reads memory, in GB/s: the best of ``repeats`` sums, by TensorFlow on every
    core, of a float32 tensor of ``mebibytes`` MiB, which read each of its bytes once.

    Generating one token with an LLM reads every weight once, so bandwidth / weight bytes bounds its
    tokens per second."""
    import tensorflow as tf

    values = tf.ones((mebibytes, 262_144))  # a row is 1 MiB of float32
    total = tf.function(tf.reduce_sum)
    total(values).numpy()  # trace first
    durations = []
    for _ in range(repeats):
        with stopwatch() as elapsed:
            total(values).numpy()
        durations.append(elapsed())
    return 4 * values.shape.num_elements() / min(durations) / 1e9


@dataclass(frozen=True)
class GenerationTiming:
    """One generation, timed: its tokens, the seconds to the first (the prompt's prefill), and the
    tokens per second after it (decoding)."""

    tokens: list[int]
    first_token_s: float
    tokens_per_s: float


def time_generation(generate: Callable[[], Iterator[int]]) -> GenerationTiming:
    """Run ``generate()`` (an iterator of new tokens, at least two) and time each token's arrival."""
    started = time.perf_counter()
    tokens, arrivals = [], []
    for token in generate():
        tokens.append(token)
        arrivals.append(time.perf_counter())
    if len(tokens) < 2:
        raise ValueError(f"{len(tokens)} token(s) generated: at least 2 are needed to time decoding")
    return GenerationTiming(tokens, arrivals[0] - started, (len(tokens) - 1) / (arrivals[-1] - arrivals[0]))


def speed_table(
    timings: dict[str, GenerationTiming], bytes_per_token: dict[str, int], bandwidth_gb_per_s: float
) -> pd.DataFrame:
    """Each generation's time to its first token and tokens per second after it, the weights read per
    second (``bytes_per_token[name]`` for each token) and their share of the memory's bandwidth."""
    read = {name: timing.tokens_per_s * bytes_per_token[name] / 1e9 for name, timing in timings.items()}
    return pd.DataFrame(
        {
            "first token (s)": [timing.first_token_s for timing in timings.values()],
            "tokens/s after it": [timing.tokens_per_s for timing in timings.values()],
            "weights read (GB/s)": read.values(),
            "share of memory bandwidth": [gb_per_s / bandwidth_gb_per_s for gb_per_s in read.values()],
        },
        index=list(timings),
    )
