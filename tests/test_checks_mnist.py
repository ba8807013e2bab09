"""Notebook 03's exercise checks: reference answers pass, typical wrong answers fail with a reason."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.checks import mnist
from helpers.exercises import ExerciseIncorrect, NotAnswered


def test_none_is_not_answered() -> None:
    with pytest.raises(NotAnswered):
        mnist.check_dense_parameters(None)


def test_dense_parameters() -> None:
    assert "correct" in mnist.check_dense_parameters(784 * 128 + 128)
    assert "correct" in mnist.check_dense_parameters(np.int64(100480))
    with pytest.raises(ExerciseIncorrect, match="not the biases"):
        mnist.check_dense_parameters(784 * 128)
    with pytest.raises(ExerciseIncorrect, match="whole model"):
        mnist.check_dense_parameters(101770)
    with pytest.raises(ExerciseIncorrect, match="layer size"):
        mnist.check_dense_parameters(128)
    with pytest.raises(ExerciseIncorrect, match="not right"):
        mnist.check_dense_parameters(785 * 129)
    with pytest.raises(ExerciseIncorrect, match="one whole number"):
        mnist.check_dense_parameters("100480")
    with pytest.raises(ExerciseIncorrect, match="one whole number"):
        mnist.check_dense_parameters(100480.5)
