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


def sparse_cce_numpy(labels, probabilities):
    picked = np.asarray(probabilities)[np.arange(len(labels)), labels]
    return -np.mean(np.log(np.clip(picked, 1e-7, 1 - 1e-7)))


def sparse_cce_tensorflow(labels, probabilities):
    import tensorflow as tf

    probabilities = tf.clip_by_value(tf.cast(probabilities, tf.float32), 1e-7, 1 - 1e-7)
    return -tf.reduce_mean(tf.math.log(tf.gather(probabilities, labels, batch_dims=1)))


def test_sparse_cce_references_pass_and_agree_with_keras() -> None:
    import keras

    assert "correct" in fundamentals.check_sparse_categorical_crossentropy(sparse_cce_numpy)
    assert "correct" in fundamentals.check_sparse_categorical_crossentropy(sparse_cce_tensorflow)
    assert "correct" in fundamentals.check_sparse_categorical_crossentropy(
        lambda labels, probabilities: keras.losses.SparseCategoricalCrossentropy()(labels, probabilities)
    )


def picked(labels, probabilities):
    return np.asarray(probabilities)[np.arange(len(labels)), labels]


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda y, p: np.mean(np.log(np.clip(picked(y, p), 1e-7, 1))), "sign is flipped"),
        (lambda y, p: -np.sum(np.log(np.clip(picked(y, p), 1e-7, 1))), "SUM"),
        (lambda y, p: -np.mean(np.log(np.asarray(p)[:, y])), "whole column"),
        (lambda y, p: -np.mean(np.log(np.clip(p, 1e-7, 1))), "every class"),
        (lambda y, p: -np.mean(np.log(picked(y, p))), "clip the probabilities"),
        (lambda y, p: -np.log(np.clip(picked(y, p), 1e-7, 1)), "one number"),
        (lambda y, p: -np.mean(np.log(np.clip(picked(y, p), 1e-7, 1))) + 0.1, "not right"),
        (lambda y: 0.0, "raised TypeError"),
        (1.23, "should be a function"),
    ],
)
def test_sparse_cce_mistakes(wrong, message: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=message):
        fundamentals.check_sparse_categorical_crossentropy(wrong)


def test_sparse_cce_not_answered() -> None:
    with pytest.raises(NotAnswered):
        fundamentals.check_sparse_categorical_crossentropy(None)


def test_nesterov_reference_is_what_keras_does() -> None:
    import keras
    import tensorflow as tf

    w = tf.Variable(fundamentals.NESTEROV_START, dtype=tf.float64)
    optimizer = keras.optimizers.SGD(
        fundamentals.NESTEROV_LEARNING_RATE, momentum=fundamentals.NESTEROV_MOMENTUM, nesterov=True
    )
    keras_path = [w.numpy().copy()]
    for _ in range(fundamentals.NESTEROV_STEPS):
        optimizer.apply_gradients([(tf.constant(fundamentals.NESTEROV_CURVATURE) * w, w)])
        keras_path.append(w.numpy().copy())
    np.testing.assert_allclose(fundamentals.nesterov_path(fundamentals.nesterov_reference), keras_path, rtol=1e-5)


def test_nesterov_reference_passes() -> None:
    def step(w, velocity, grad, lr, momentum):
        velocity = momentum * velocity - lr * grad
        return w + momentum * velocity - lr * grad, velocity

    assert "correct" in fundamentals.check_nesterov_step(step)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (fundamentals.classic_momentum, "classic"),
        (fundamentals.plain_gradient_descent, "ignores the velocity"),
        (lambda w, v, g, lr, mu: (w - mu * (mu * v + lr * g) + lr * g, mu * v + lr * g), "moved away"),
        (lambda w, v, g, lr, mu: w - lr * g, "two things"),
        (
            lambda w, v, g, lr, mu: (w + mu * (mu * v - lr * g) - 0.5 * lr * g, mu * v - lr * g),
            "step 1 lands",
        ),
        ("not a function", "should be a function"),
    ],
)
def test_nesterov_mistakes(wrong, message: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=message):
        fundamentals.check_nesterov_step(wrong)


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
