"""Exercise checks of notebook 01 (fundamentals: gradients, losses, optimisers, logistic regression)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from helpers.exercises import (
    ExerciseIncorrect,
    as_number,
    call_answer,
    close,
    expect,
    expect_close,
    expect_shape,
    is_mistake,
    passed,
    require_answer,
)

CLIP_EPSILON = 1e-7
"""Keras clips probabilities to ``[1e-7, 1 - 1e-7]`` before taking logarithms."""


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, in float64."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def flat_logits_and_labels(logits: Any, labels: Any, caller: str) -> tuple[np.ndarray, np.ndarray]:
    """``logits`` and ``labels`` as flat float64 arrays of one length; a ``ValueError`` naming ``caller`` if not."""
    z = np.asarray(logits, dtype=np.float64).reshape(-1)
    y = np.asarray(labels, dtype=np.float64).reshape(-1)
    if len(z) != len(y):
        raise ValueError(f"{caller} got {len(z)} logits but {len(y)} labels")
    return z, y


def check_sigmoid_derivative(answer: Any, x: Any) -> str:
    """Exercise 1: the derivative of the sigmoid at the points ``x``, computed with ``tf.GradientTape``."""
    exercise = "Exercise 1 (derivative of the sigmoid)"
    require_answer(answer, exercise)
    x = np.asarray(x, dtype=np.float64)
    value = expect_shape(answer, x.shape, f"{exercise}: the derivative (one slope per point of x)").astype(np.float64)
    s = sigmoid(x)
    expect(
        not close(value, s),
        f"{exercise}: these are the sigmoid's values σ(x), not its slope; ask the tape for tape.gradient(y, x).",
    )
    expect(
        not close(value, 1 - np.tanh(x) ** 2),
        f"{exercise}: this is the derivative of tanh; use tf.sigmoid (or keras.activations.sigmoid).",
    )
    expect(
        not close(value, np.full_like(x, 0.25)),
        f"{exercise}: 0.25 is the slope at x = 0 only; evaluate the gradient at every point of x.",
    )
    expect_close(value, s * (1 - s), f"{exercise}: the derivative", rtol=1e-4)
    return passed(exercise)


def sparse_cce_reference(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean sparse categorical cross-entropy with Keras's clipping, in float64."""
    picked = probabilities[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.clip(picked, CLIP_EPSILON, 1 - CLIP_EPSILON))))


SPARSE_CCE_CASE = (
    np.array([0, 2, 1, 2]),
    np.array(
        [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.25, 0.5, 0.25], [0.05, 0.15, 0.8]],
        dtype=np.float32,
    ),
)
SPARSE_CCE_ZERO_CASE = (
    np.array([1, 0]),
    np.array([[0.5, 0.0, 0.5], [0.9, 0.1, 0.0]], dtype=np.float32),
)


def check_sparse_categorical_crossentropy(answer: Any) -> str:
    """Exercise 2: a hand-written ``loss(labels, probabilities)`` for integer labels, like Keras's."""
    exercise = "Exercise 2 (sparse categorical cross-entropy)"
    require_answer(answer, exercise)
    expect(
        callable(answer),
        f"{exercise}: answer_2 should be a function loss(labels, probabilities) returning one number, "
        f"got {type(answer).__name__}.",
    )
    labels, probabilities = SPARSE_CCE_CASE
    try:
        result = answer(labels, probabilities)
    except Exception as error:  # the learner's code: report any failure in words
        raise ExerciseIncorrect(
            f"{exercise}: calling your function on integer labels {labels.tolist()} and a (4, 3) probability "
            f"matrix raised {type(error).__name__}: {error}"
        ) from error
    value = as_number(result, exercise, "the loss")
    expected = sparse_cce_reference(labels, probabilities)
    log_p = np.log(probabilities.astype(np.float64))
    expect(
        not np.isclose(value, -expected, rtol=1e-4),
        f"{exercise}: the sign is flipped; the loss is MINUS the mean log-probability of the true class.",
    )
    expect(
        not np.isclose(value, expected * len(labels), rtol=1e-4),
        f"{exercise}: this is the SUM over the {len(labels)} samples; Keras returns the mean.",
    )
    expect(
        not np.isclose(value, -np.mean(log_p[:, labels]), rtol=1e-4),
        f"{exercise}: probabilities[:, labels] picks a whole column per label (an N×N matrix); take one "
        "entry per row: probabilities[np.arange(N), labels], or tf.gather(probabilities, labels, batch_dims=1).",
    )
    expect(
        not np.isclose(value, -np.mean(log_p), rtol=1e-4),
        f"{exercise}: you averaged -log p over every class; only the probability of the TRUE class counts.",
    )
    expect_close(value, expected, f"{exercise}: the loss", rtol=1e-4)
    zero_labels, zero_probabilities = SPARSE_CCE_ZERO_CASE
    with np.errstate(divide="ignore", invalid="ignore"):
        edge = as_number(answer(zero_labels, zero_probabilities), exercise, "the loss")
    expect(
        bool(np.isfinite(edge)),
        f"{exercise}: when the true class has probability 0 your loss is {edge}; clip the probabilities to "
        f"[{CLIP_EPSILON:g}, 1 - {CLIP_EPSILON:g}] before the log, as Keras does.",
    )
    expect_close(
        edge,
        sparse_cce_reference(zero_labels, zero_probabilities),
        f"{exercise}: the loss when the true class has probability 0 (clipped at {CLIP_EPSILON:g})",
        rtol=0.05,
    )
    return passed(exercise)


NESTEROV_START = np.array([3.0, 1.0])
NESTEROV_CURVATURE = np.array([1.0, 10.0])  # f(w) = ½ Σ c_i w_i², an elongated bowl
NESTEROV_LEARNING_RATE = 0.05
NESTEROV_MOMENTUM = 0.9
NESTEROV_STEPS = 25

Step = Callable[[np.ndarray, np.ndarray, np.ndarray, float, float], Any]


def nesterov_reference(w: np.ndarray, velocity: np.ndarray, grad: np.ndarray, lr: float, momentum: float):
    """One step of ``keras.optimizers.SGD(momentum=..., nesterov=True)``."""
    velocity = momentum * velocity - lr * grad
    return w + momentum * velocity - lr * grad, velocity


def classic_momentum(w: np.ndarray, velocity: np.ndarray, grad: np.ndarray, lr: float, momentum: float):
    """One step of ``keras.optimizers.SGD(momentum=...)`` (heavy ball, no look-ahead)."""
    velocity = momentum * velocity - lr * grad
    return w + velocity, velocity


def plain_gradient_descent(w: np.ndarray, velocity: np.ndarray, grad: np.ndarray, lr: float, momentum: float):
    """One step of gradient descent, ignoring the velocity."""
    return w - lr * grad, velocity


def nesterov_path(step: Step, steps: int = NESTEROV_STEPS) -> np.ndarray:
    """The points visited by ``step`` on the check's bowl, start included: shape ``(steps + 1, 2)``."""
    w, velocity = NESTEROV_START.copy(), np.zeros(2)
    path = [w.copy()]
    for _ in range(steps):
        grad = NESTEROV_CURVATURE * w
        new_w, velocity = step(w.copy(), velocity.copy(), grad, NESTEROV_LEARNING_RATE, NESTEROV_MOMENTUM)
        w = np.asarray(new_w, dtype=np.float64).reshape(2)
        velocity = np.asarray(velocity, dtype=np.float64).reshape(2)
        path.append(w.copy())
    return np.array(path)


def check_nesterov_step(answer: Any) -> str:
    """Exercise 3: ``step(w, velocity, grad, lr, momentum) -> (w, velocity)`` as Keras's Nesterov SGD.

    The check runs the learner's step for 25 steps on the bowl f(w) = ½(w₀² + 10 w₁²) from
    (3, 1) and compares every point with ``keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True)``.
    """
    exercise = "Exercise 3 (Nesterov momentum)"
    require_answer(answer, exercise)
    expect(
        callable(answer),
        f"{exercise}: answer_3 should be a function step(w, velocity, grad, lr, momentum) returning "
        f"(new_w, new_velocity), got {type(answer).__name__}.",
    )
    probe = answer(NESTEROV_START.copy(), np.zeros(2), NESTEROV_CURVATURE * NESTEROV_START, 0.05, 0.9)
    expect(
        isinstance(probe, tuple | list) and len(probe) == 2,
        f"{exercise}: the step should return two things, (new_w, new_velocity); got {type(probe).__name__}.",
    )
    path = nesterov_path(answer)
    expected = nesterov_path(nesterov_reference)
    if close(path, expected):
        return passed(exercise)
    expect(
        not close(path, nesterov_path(classic_momentum)),
        f"{exercise}: this is classic (heavy-ball) momentum, w + velocity. Nesterov looks ahead: "
        "w + momentum * velocity - lr * grad, with the NEW velocity.",
    )
    expect(
        not close(path, nesterov_path(plain_gradient_descent)),
        f"{exercise}: your step ignores the velocity, so it is plain gradient descent; update the velocity "
        "and use it in the step.",
    )
    expect(
        float(np.abs(path[-1]).sum()) < float(np.abs(NESTEROV_START).sum()),
        f"{exercise}: after {NESTEROV_STEPS} steps the point moved away from the minimum at (0, 0): "
        "check the signs, a step goes AGAINST the gradient.",
    )
    first_wrong = int(np.argmax(~np.all(np.isclose(path, expected, rtol=1e-4, atol=1e-6), axis=1)))
    raise ExerciseIncorrect(
        f"{exercise}: step {first_wrong} lands at {np.round(path[first_wrong], 5).tolist()} but Keras's "
        f"Nesterov SGD lands at {np.round(expected[first_wrong], 5).tolist()}; compare your formula with "
        "help(keras.optimizers.SGD)."
    )


def check_accuracy_from_logits(answer: Any, logits: Any, labels: Any) -> str:
    """Exercise 4: the accuracy of a logistic regression given its logits and 0/1 labels."""
    exercise = "Exercise 4 (accuracy from logits)"
    require_answer(answer, exercise)
    logits, labels = flat_logits_and_labels(logits, labels, "check_accuracy_from_logits")
    value = as_number(answer, exercise, "the accuracy")
    expected = float(np.mean((logits > 0) == (labels > 0.5)))

    def mistake(candidate: float) -> bool:
        return is_mistake(value, candidate, expected, rtol=0)

    expect(
        not mistake(float(np.mean(logits == labels))),
        f"{exercise}: you compared the raw float outputs with the 0/1 labels; they are (almost) never equal. "
        "Turn the outputs into class predictions first (logit > 0), then compare.",
    )
    expect(
        not mistake(float(np.mean((logits > 0.5) == (labels > 0.5)))),
        f"{exercise}: a threshold of 0.5 is for probabilities; these are logits, where probability 0.5 is "
        "logit 0. Use logits > 0 (or tf.sigmoid(logits) > 0.5).",
    )
    expect(
        not mistake(100 * expected),
        f"{exercise}: {value:g} looks like a percentage; give the accuracy as a fraction between 0 and 1.",
    )
    expect(
        not mistake(1 - expected),
        f"{exercise}: this is the error rate (1 - accuracy); count the predictions that MATCH the labels.",
    )
    expect(0 <= value <= 1, f"{exercise}: an accuracy lies between 0 and 1, got {value:g}.")
    expect_close(value, expected, f"{exercise}: the accuracy", rtol=0, atol=1e-6)
    return passed(exercise)


LOGITS_CASE = (np.array([2, 0, 1]), np.array([[1.0, -0.5, 3.0], [0.2, 0.1, -1.0], [-2.0, 4.0, 0.5]]))
EXTREME_LOGITS_CASE = (np.array([0, 2]), np.array([[1000.0, 0.0, -1000.0], [1000.0, 0.0, -1000.0]]))


def cross_entropy_from_logits(labels: np.ndarray, logits: np.ndarray) -> float:
    """Mean of logsumexp(z) - z_y, in float64 (the exact loss, whatever the logits' size)."""
    z = np.asarray(logits, dtype=np.float64)
    top = z.max(axis=1, keepdims=True)
    log_sum_exp = top[:, 0] + np.log(np.exp(z - top).sum(axis=1))
    return float(np.mean(log_sum_exp - z[np.arange(len(labels)), labels]))


def check_stable_cross_entropy(answer: Any) -> str:
    """Exercise 5: ``loss(labels, logits)``, the sparse cross-entropy computed from logits, stable for any logits."""
    exercise = "Exercise 5 (cross-entropy from logits)"
    labels, logits = LOGITS_CASE
    result = call_answer(answer, exercise, "3 labels and a (3, 3) logit matrix", labels, logits)
    value = as_number(result, exercise, "the loss")
    expected = cross_entropy_from_logits(labels, logits)
    expect(
        not np.isclose(value, -expected, rtol=1e-4),
        f"{exercise}: the sign is flipped: the loss is log(sum(exp(z))) - z_true, which is never negative.",
    )
    expect_close(value, expected, f"{exercise}: the loss on ordinary logits", rtol=1e-4)
    labels, logits = EXTREME_LOGITS_CASE
    with np.errstate(all="ignore"):
        extreme = np.asarray(call_answer(answer, exercise, "logits of ±1000", labels, logits), dtype=np.float64)
    expect(
        extreme.size == 1 and bool(np.isfinite(extreme)),
        f"{exercise}: with logits of ±1000 your loss is {extreme}: exp(1000) overflows. Subtract each row's "
        "largest logit before exponentiating (log-sum-exp): the loss does not change, the overflow goes away.",
    )
    extreme_expected = cross_entropy_from_logits(labels, logits)  # (0 + 2000) / 2
    expect(
        not np.isclose(float(extreme), -np.log(CLIP_EPSILON) / 2, rtol=1e-2),
        f"{exercise}: your loss is capped: probabilities were clipped at {CLIP_EPSILON:g}, which limits the loss "
        f"of a sample to {-np.log(CLIP_EPSILON):.1f}. From logits the loss is exact: logsumexp(z) - z_true, "
        f"here {extreme_expected:g} on average.",
    )
    expect_close(float(extreme), extreme_expected, f"{exercise}: the loss on logits of ±1000", rtol=1e-4)
    return passed(exercise)
