"""Notebook 00's exercise checks: reference answers pass, wrong ones fail with a reason."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.checks import setup
from helpers.exercises import ExerciseIncorrect, NotAnswered

LABELS = np.array([7, 1, 7, 3, 7, 0])


def test_sevens() -> None:
    assert "correct" in setup.check_sevens_in_training_set(3, LABELS)
    with pytest.raises(NotAnswered):
        setup.check_sevens_in_training_set(None, LABELS)
    with pytest.raises(ExerciseIncorrect, match="size of the whole training set"):
        setup.check_sevens_in_training_set(6, LABELS)
    with pytest.raises(ExerciseIncorrect, match="not right"):
        setup.check_sevens_in_training_set(2, LABELS)
    with pytest.raises(ExerciseIncorrect, match="one whole number"):
        setup.check_sevens_in_training_set([3], LABELS)


def test_cube_derivative() -> None:
    assert "correct" in setup.check_cube_derivative(np.float32(12.0))
    with pytest.raises(ExerciseIncorrect, match="x³ itself"):
        setup.check_cube_derivative(8.0)
    with pytest.raises(ExerciseIncorrect, match="not right"):
        setup.check_cube_derivative(4.0)
