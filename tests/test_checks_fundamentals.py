"""Notebook 01's exercise checks: reference answers pass, typical wrong answers fail with a reason."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.checks import fundamentals
from helpers.exercises import ExerciseIncorrect, NotAnswered

X = np.array([-3.0, -1.0, 0.0, 1.0, 3.0], dtype=np.float32)
SIGMOID = 1 / (1 + np.exp(-X.astype(np.float64)))


def test_sigmoid_derivative_reference_passes() -> None:
    import tensorflow as tf

    x = tf.constant(X)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.sigmoid(x)
    assert "correct" in fundamentals.check_sigmoid_derivative(tape.gradient(y, x), X)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (SIGMOID, "sigmoid's values"),
        (1 - np.tanh(X) ** 2, "derivative of tanh"),
        (np.full(5, 0.25), "slope at x = 0"),
        ((SIGMOID * (1 - SIGMOID))[:4], r"shape \(5,\)"),
        (SIGMOID * (1 + SIGMOID), "not right"),
    ],
)
def test_sigmoid_derivative_mistakes(wrong: np.ndarray, message: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=message):
        fundamentals.check_sigmoid_derivative(wrong, X)


def test_sigmoid_derivative_not_answered() -> None:
    with pytest.raises(NotAnswered):
        fundamentals.check_sigmoid_derivative(None, X)


LOGITS = np.array([2.0, -1.0, 0.3, 0.2, -0.4, 4.0, 0.1, -2.0])
LABELS = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0])
ACCURACY = float(np.mean((LOGITS > 0) == (LABELS == 1)))  # 6 of 8


def test_accuracy_reference_passes() -> None:
    assert ACCURACY == 0.75
    assert "correct" in fundamentals.check_accuracy_from_logits(ACCURACY, LOGITS, LABELS)
    assert "correct" in fundamentals.check_accuracy_from_logits(np.float32(0.75), LOGITS, LABELS)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (float(np.mean(LOGITS == LABELS)), "raw float outputs"),
        (float(np.mean((LOGITS > 0.5) == (LABELS == 1))), "threshold of 0.5 is for probabilities"),
        (75.0, "percentage"),
        (0.25, "error rate"),
        (np.array([0.75, 0.75]), "one number"),
        (0.5, "not right"),
        (-0.5, "between 0 and 1"),
    ],
)
def test_accuracy_mistakes(wrong, message: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=message):
        fundamentals.check_accuracy_from_logits(wrong, LOGITS, LABELS)


def test_accuracy_not_answered_and_bad_inputs() -> None:
    with pytest.raises(NotAnswered):
        fundamentals.check_accuracy_from_logits(None, LOGITS, LABELS)
    with pytest.raises(ValueError, match="8 logits but 3 labels"):
        fundamentals.check_accuracy_from_logits(0.5, LOGITS, LABELS[:3])
