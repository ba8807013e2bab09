"""Exercise checks of notebook 00 (setup)."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises import expect, expect_close, passed, require_answer


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
