"""The self-checked exercise pattern shared by every notebook.

An exercise cell assigns the learner's answer and calls a ``check_...`` function from the
notebook's checks module (e.g. ``helpers.checks_fundamentals``). Those functions are built from
the small tools here:

* :func:`require_answer` raises :class:`NotAnswered` while the answer is still ``None`` (the
  student edition's placeholder), so an unanswered notebook stops with a plain message;
* :func:`expect` and :func:`expect_close` raise :class:`ExerciseIncorrect` with a sentence that
  says what is wrong, never a bare assertion;
* :func:`passed` prints the success line.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class ExerciseIncorrect(AssertionError):
    """The answer is wrong; the message says how, in plain words."""


class NotAnswered(ExerciseIncorrect):
    """The answer is still the placeholder ``None``."""


def require_answer(answer: Any, exercise: str) -> None:
    """Stop with a clear message if ``answer`` is still the placeholder (``None`` or ``...``)."""
    if answer is None or answer is Ellipsis:
        raise NotAnswered(
            f"{exercise} is not answered yet: replace the None placeholder with your answer and run the cell again."
        )


def expect(condition: bool, message: str) -> None:
    """Raise :class:`ExerciseIncorrect` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise ExerciseIncorrect(message)


def expect_shape(value: Any, shape: tuple[int | None, ...], what: str) -> np.ndarray:
    """Check ``value``'s shape (``None`` matches any size) and return it as a NumPy array."""
    array = np.asarray(value)
    matches = array.ndim == len(shape) and all(
        want is None or have == want for have, want in zip(array.shape, shape, strict=True)
    )
    expect(matches, f"{what} should have shape {shape}, but it has shape {array.shape}.")
    return array


def expect_close(actual: Any, expected: Any, what: str, *, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Check that ``actual`` is numerically close to ``expected``, naming the worst difference."""
    actual_array = np.asarray(actual, dtype=np.float64)
    expected_array = np.asarray(expected, dtype=np.float64)
    expect(
        actual_array.shape == expected_array.shape,
        f"{what} should have shape {expected_array.shape}, but it has shape {actual_array.shape}.",
    )
    expect(bool(np.all(np.isfinite(actual_array))), f"{what} contains NaN or infinity.")
    if not np.allclose(actual_array, expected_array, rtol=rtol, atol=atol):
        worst = float(np.max(np.abs(actual_array - expected_array)))
        raise ExerciseIncorrect(
            f"{what} is not right: it differs from the expected value by up to {worst:.3g} "
            f"(tolerance rtol={rtol:g}, atol={atol:g})."
        )


def close(a: Any, b: Any, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    """Whether ``a`` and ``b`` have the same shape and nearly the same values."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def as_number(value: Any, exercise: str, what: str) -> float:
    """``value`` as one float; a plain message if it is an array of several values."""
    array = np.asarray(value, dtype=np.float64)
    expect(
        array.size == 1,
        f"{exercise}: {what} should be one number (the mean over the samples), but it has shape {array.shape}.",
    )
    return float(array.reshape(()))


def is_mistake(value: float, candidate: float, expected: float, *, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    """Whether ``value`` equals ``candidate`` (what a known mistake gives) and that differs from ``expected``."""
    return bool(
        np.isclose(value, candidate, rtol=rtol, atol=atol) and not np.isclose(candidate, expected, rtol=rtol, atol=atol)
    )


def call_answer(answer: Any, exercise: str, called_on: str, *args: Any) -> Any:
    """``answer(*args)``, after checking that it is a function; any error it raises is reported in words.

    ``called_on`` says what the inputs were, for the message (e.g. "a 5×5 image and a 3×3 kernel").
    """
    require_answer(answer, exercise)
    expect(callable(answer), f"{exercise}: the answer should be a function, got {type(answer).__name__}.")
    try:
        return answer(*args)
    except Exception as error:  # the learner's code: report any failure in words
        raise ExerciseIncorrect(
            f"{exercise}: calling your function on {called_on} raised {type(error).__name__}: {error}"
        ) from error


def passed(exercise: str) -> str:
    """Print and return the success line of ``exercise``."""
    line = f"✅ {exercise}: correct."
    print(line)
    return line
