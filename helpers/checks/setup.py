"""Exercise checks of notebook 00 (setup)."""

from __future__ import annotations

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


GENERATORS = ("Python's random", "NumPy's global generator", "TensorFlow's global generator")


def _three_draws(answer: Any, exercise: str, seed: int) -> np.ndarray:
    draws = call_answer(answer, exercise, f"seed {seed}", seed)
    try:
        values = np.asarray(draws, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as error:
        raise ExerciseIncorrect(f"{exercise}: return three numbers, got {draws!r}") from error
    expect(values.size == 3, f"{exercise}: return three numbers (Python, NumPy, TensorFlow), got {values.size}.")
    return values


def check_reproducible_draws(answer: Any) -> str:
    """Exercise 3: ``draws(seed)`` seeds the three generators, then draws one number from each.

    Judged by behaviour: the same seed gives the same three numbers even after the generators were
    used in between; another seed gives other numbers.
    """
    import random

    import tensorflow as tf

    exercise = "Exercise 3 (reproducible draws)"
    first = _three_draws(answer, exercise, 7)
    random.random(), np.random.random(), tf.random.uniform(())  # use every generator in between
    again = _three_draws(answer, exercise, 7)
    for index, generator in enumerate(GENERATORS):
        expect(
            first[index] == again[index],
            f"{exercise}: the number from {generator} changed between two calls with seed 7 "
            f"({first[index]} then {again[index]}): seed that generator inside your function, before drawing.",
        )
    other = _three_draws(answer, exercise, 8)
    for index, generator in enumerate(GENERATORS):
        expect(
            other[index] != first[index],
            f"{exercise}: seeds 7 and 8 give the same number from {generator}: seed it with the seed you are given, "
            "not a fixed number.",
        )
    return passed(exercise)
