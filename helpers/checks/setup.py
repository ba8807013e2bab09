"""Exercise checks of notebook 00 (setup)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from helpers.exercises import ExerciseIncorrect, call_answer, expect, expect_close, passed, require_answer


def check_sevens_in_training_set(answer: Any, y_train: np.ndarray) -> str:
    """Exercise 1: how many training images are labelled 7."""
    exercise = "Exercise 1 (how many sevens)"
    require_answer(answer, exercise)
    expect(
        np.ndim(answer) == 0 and float(answer) == int(answer),
        f"{exercise}: the answer should be one whole number, got {answer!r}.",
    )
    actual = int(np.sum(np.asarray(y_train) == 7))
    expect(
        int(answer) != len(y_train),
        f"{exercise}: {int(answer)} is the size of the whole training set; count only the labels equal to 7.",
    )
    expect(int(answer) == actual, f"{exercise}: {int(answer)} is not right; compare y_train with 7 and sum.")
    return passed(exercise)


def check_cube_derivative(answer: Any) -> str:
    """Exercise 2: d/dx x³ at x = 2 computed with ``tf.GradientTape`` (12)."""
    exercise = "Exercise 2 (derivative of x³ at 2)"
    require_answer(answer, exercise)
    value = float(np.asarray(answer))
    expect(value != 8.0, f"{exercise}: 8 is x³ itself at x = 2; ask the tape for the gradient.")
    expect_close(value, 12.0, f"{exercise}: the derivative", rtol=1e-4)
    return passed(exercise)


# Build exercise 3: an honest timer ----------------------------------------------------------------


class PendingResult:
    """A result whose work is done when it is read, like a TensorFlow tensor on a GPU.

    The call that made it returned at once; ``np.asarray(result)`` (or ``result.numpy()``) waits
    ``seconds`` for the work, as reading a GPU tensor waits for its kernels.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.done = False

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if not self.done:
            time.sleep(self.seconds)
            self.done = True
        return np.zeros(1, dtype=dtype or np.float32)

    def numpy(self) -> np.ndarray:
        return self.__array__()


class SlowComputation:
    """A stand-in for a TensorFlow computation, with every trap of timing one.

    Its first ``slow_calls`` calls take ``first_s`` (tracing, allocating, warming caches); later
    calls take the durations of ``pattern_s`` in turn, one of which is an outlier (another process,
    a garbage collection); and each call returns a :class:`PendingResult` at once, so the time is
    only spent when the result is read. ``calls`` counts the calls.
    """

    def __init__(self, slow_calls: int, first_s: float, pattern_s: tuple[float, ...]) -> None:
        self.slow_calls, self.first_s, self.pattern_s = slow_calls, first_s, pattern_s
        self.calls = 0

    def __call__(self) -> PendingResult:
        index = self.calls
        self.calls += 1
        if index < self.slow_calls:
            return PendingResult(self.first_s)
        return PendingResult(self.pattern_s[(index - self.slow_calls) % len(self.pattern_s)])


# (warmup, repeats, slow first calls, their seconds, the pattern after them, the median of the repeats)
# Durations of tens of milliseconds, so that a busy machine (whose sleeps overshoot by a few ms, now and
# then by 20) cannot move the median out of the accepted range; each wrong summary lands far outside it.
TIMER_CASES = (
    (3, 5, 3, 0.5, (0.030, 0.060, 0.090, 0.060, 0.400), 0.060),
    (1, 7, 1, 0.5, (0.040, 0.070, 0.500), 0.070),
)
# A reference timer measured 1.002-1.004 × the true median, in both cases, in 3 runs on a busy 2-core
# machine (load 4-6); the nearest mistakes give 0.5× (the fastest call) and 2.1× (the mean).
TIMER_TOLERANCE = (0.85, 1.5)  # accepted: median × 0.85 to median × 1.5
TIMER_TRIES = 2  # a case out of range is timed once more before the answer is judged wrong


def _timer_mistake(value: float, warmup: int, repeats: int, first_s: float, durations: list[float]) -> str:
    """What a timer that returned ``value`` (seconds) most likely did wrong, in words ('' if unknown)."""
    median = float(np.median(durations))
    with_warmup = [first_s] * warmup + durations
    candidates = (
        (float(np.mean(durations)), "the mean of the repeats: one slow outlier pulls a mean up; take the median"),
        (float(np.min(durations)), "the fastest call: report the typical call, the median, not the best case"),
        (float(np.max(durations)), "the slowest call: report the typical call, the median"),
        (float(np.sum(durations)), "the total of all repeats: return the median time of ONE call"),
        (first_s, "what a first call costs: call fn `warmup` times untimed before timing the repeats"),
        (float(np.median(with_warmup)), "as if the warm-up calls were timed too: leave them out of the durations"),
        (
            float(np.mean(with_warmup)),
            "the mean of every call, as if the warm-up calls were timed too: time only the repeats, take the median",
        ),
        (1000 * median, "in milliseconds: return seconds"),
    )
    plausible = [
        (abs(value - candidate) / candidate, words)
        for candidate, words in candidates
        if abs(candidate - median) > 0.2 * median and abs(value - candidate) < 0.2 * candidate
    ]
    return min(plausible)[1] if plausible else ""


def check_honest_timer(answer: Any) -> str:
    """Build exercise 3: ``timer(fn, warmup, repeats)`` returns the median seconds of one call of ``fn``.

    Judged by behaviour, on :class:`SlowComputation` stand-ins whose true median is known: slow
    first calls (so the warm-up must be skipped), an outlier (so the median, not the mean), and
    results that are only computed when read (so the timer must wait for them with ``np.asarray``).
    Runs in about 4 s (it sleeps; twice that for a wrong answer, timed twice).
    """
    exercise = "Build exercise 3 (an honest timer)"
    require_answer(answer, exercise)
    expect(callable(answer), f"{exercise}: the answer should be a function timer(fn, warmup, repeats).")
    for warmup, repeats, slow_calls, first_s, pattern_s, median in TIMER_CASES:
        shown = f"warmup={warmup}, repeats={repeats}"
        low, high = TIMER_TOLERANCE[0] * median, TIMER_TOLERANCE[1] * median
        for _ in range(TIMER_TRIES):
            computation = SlowComputation(slow_calls, first_s, pattern_s)
            result = call_answer(answer, exercise, f"a slow computation with {shown}", computation, warmup, repeats)
            try:
                value = float(np.asarray(result, dtype=np.float64).reshape(()))
            except (TypeError, ValueError):
                raise ExerciseIncorrect(
                    f"{exercise}: return one number, the median seconds per call; got {type(result).__name__}."
                ) from None
            if low <= value <= high:
                break
        if low <= value <= high:
            continue
        durations = [pattern_s[index % len(pattern_s)] for index in range(repeats)]
        expect(
            computation.calls >= warmup + repeats,
            f"{exercise}: with {shown} your timer called fn {computation.calls} times; call it {warmup} times to "
            f"warm up, then {repeats} times, timing each of those on its own.",
        )
        expect(
            value > 0.2 * pattern_s[0],
            f"{exercise}: with {shown} you measured {value * 1000:.2f} ms per call, but each call takes at least "
            f"{pattern_s[0] * 1000:.0f} ms: the function returned before its work was done (as TensorFlow does on a "
            "GPU) and you stopped the clock there. Wait for the result inside the timed region: np.asarray(fn()).",
        )
        mistake = _timer_mistake(value, warmup, repeats, first_s, durations)
        raise ExerciseIncorrect(
            f"{exercise}: with {shown} the typical call takes {median * 1000:.0f} ms (the median of the repeats), but "
            f"your timer says {value * 1000:.1f} ms"
            + (f": that is {mistake}." if mistake else ". Warm up, time each repeat with time.perf_counter(), median.")
        )
    print("your timer found the median of the repeats, past the slow first calls and the outlier")
    return passed(exercise)
