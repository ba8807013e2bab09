"""Exercise checks of notebook 01 (fundamentals: gradients, losses, optimisers, logistic regression)."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises import (
    ExerciseIncorrect,
    as_number,
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


def check_accuracy_from_logits(answer: Any, logits: Any, labels: Any) -> str:
    """Exercise 2: the accuracy of a logistic regression given its logits and 0/1 labels."""
    exercise = "Exercise 2 (accuracy from logits)"
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


# Build exercise 3: RMSprop by hand, matched step by step with keras.optimizers.RMSprop ------------

RMSPROP_TARGET = np.array([1.0, -2.0, 0.5])
RMSPROP_START = np.array([-2.0, 1.0, 2.5])
# f(w) = ½ Σ c_i (w_i - t_i)²: a gentle, a steep and an almost flat direction. In the flat one the
# gradient is about 1e-6, its square far below epsilon = 1e-7: only there does it matter whether
# epsilon sits inside or outside the square root.
RMSPROP_CURVATURE = np.array([1.0, 25.0, 1e-6])
RMSPROP_LEARNING_RATE = 0.05
RMSPROP_STEPS = 40
RMSPROP_RHOS = (0.9, 0.8)  # the default, then another: the optimiser must use the rho it is given
RMSPROP_TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}  # float32 (Keras) against float64 (by hand)


def _rmsprop_gradient(w: np.ndarray) -> np.ndarray:
    return RMSPROP_CURVATURE * (w - RMSPROP_TARGET)


def keras_rmsprop_path(rho: float) -> np.ndarray:
    """The points ``keras.optimizers.RMSprop(RMSPROP_LEARNING_RATE, rho=rho)`` visits, start included."""
    import keras
    import tensorflow as tf

    optimizer = keras.optimizers.RMSprop(RMSPROP_LEARNING_RATE, rho=rho)
    w = tf.Variable(RMSPROP_START.astype(np.float32))
    path = [w.numpy().astype(np.float64)]
    for _ in range(RMSPROP_STEPS):
        gradient = _rmsprop_gradient(w.numpy().astype(np.float64)).astype(np.float32)
        optimizer.apply_gradients([(tf.constant(gradient), w)])
        path.append(w.numpy().astype(np.float64))
    return np.array(path)


def _mistaken_rmsprop_path(mistake: str, rho: float, epsilon: float = 1e-7) -> np.ndarray:
    """The path of RMSprop written with one known ``mistake`` (for the check's diagnosis only)."""
    w, velocity, path = RMSPROP_START.copy(), np.zeros(3), [RMSPROP_START.copy()]
    for step in range(1, RMSPROP_STEPS + 1):
        g = _rmsprop_gradient(w)
        decay = 1 - rho if mistake == "swapped rho" else rho
        velocity = g**2 * (1 - decay) if mistake == "no average" else decay * velocity + (1 - decay) * g**2
        if mistake == "bias correction":
            denominator = np.sqrt(velocity / (1 - rho**step)) + epsilon
        elif mistake == "epsilon outside":
            denominator = np.sqrt(velocity) + epsilon
        elif mistake == "no epsilon":
            denominator = np.sqrt(velocity)
        elif mistake == "no square root":
            denominator = velocity + epsilon
        else:  # the mistake is in v
            denominator = np.sqrt(velocity + epsilon)
        with np.errstate(divide="ignore", invalid="ignore"):
            w = w - RMSPROP_LEARNING_RATE * g / denominator
        path.append(w.copy())
    return np.array(path)


RMSPROP_MISTAKES = {
    "epsilon outside": "epsilon is outside the square root, lr·g / (√v + ε), as in Adam. Keras' RMSprop puts it "
    "inside, lr·g / √(v + ε): it only shows where the gradient is tiny (the third coordinate here).",
    "no epsilon": "there is no epsilon: where v is tiny the step explodes. Keras divides by √(v + ε).",
    "bias correction": "you correct v for its start at 0, as Adam does (v / (1 - ρᵗ)); Keras' RMSprop does not: "
    "its first steps are larger.",
    "swapped rho": "the decay is the wrong way round: v = ρ·v + (1 - ρ)·g², so that the OLD average keeps the "
    "weight ρ = 0.9.",
    "no average": "v is recomputed from the current gradient alone; it is a running average over the steps: keep "
    "it in the optimiser between calls.",
    "no square root": "you divide by v + ε; RMSprop divides by its square root, √(v + ε).",
}


def _rmsprop_by_hand(answer: Any, exercise: str, rho: float) -> np.ndarray:
    """The path of the learner's optimiser ``answer(RMSPROP_LEARNING_RATE, rho=rho)``, start included."""
    try:
        optimizer = answer(RMSPROP_LEARNING_RATE, rho=rho)
    except TypeError as error:
        raise ExerciseIncorrect(
            f"{exercise}: RMSprop(learning_rate, rho=0.9, epsilon=1e-7) failed: {error}. Give the class the "
            "arguments learning_rate, rho and epsilon, with Keras' defaults."
        ) from error
    expect(
        callable(getattr(optimizer, "step", None)),
        f"{exercise}: the optimiser needs a method step(params, grad) returning the new params, like the "
        "notebook's GradientDescent, Momentum and Adam.",
    )
    w, path = RMSPROP_START.copy(), [RMSPROP_START.copy()]
    for index in range(RMSPROP_STEPS):
        try:
            new = optimizer.step(w.copy(), _rmsprop_gradient(w))
        except Exception as error:  # the learner's code: report any failure in words
            raise ExerciseIncorrect(f"{exercise}: step {index + 1} raised {type(error).__name__}: {error}") from error
        try:
            w = np.asarray(new, dtype=np.float64).reshape(RMSPROP_START.shape)
        except (TypeError, ValueError):
            raise ExerciseIncorrect(
                f"{exercise}: step(params, grad) should return the new params, an array of the same shape as "
                f"params ({RMSPROP_START.shape}); got {type(new).__name__}."
            ) from None
        path.append(w.copy())
    return np.array(path)


def check_rmsprop(answer: Any) -> str:
    """Build exercise 3: a class ``RMSprop(learning_rate, rho=0.9, epsilon=1e-7)`` with ``step(params, grad)``.

    Judged by behaviour against Keras itself: the learner's optimiser and
    ``keras.optimizers.RMSprop`` each take 40 steps on the same three-parameter bowl (one direction
    almost flat, where epsilon's place shows), with rho 0.9 and 0.8, and every point of the two
    paths must agree to float32 round-off. Known mistakes are named. Runs in about a second.
    """
    exercise = "Build exercise 3 (RMSprop by hand)"
    require_answer(answer, exercise)
    expect(
        callable(answer),
        f"{exercise}: answer_3 should be the class itself (RMSprop), not {type(answer).__name__}.",
    )
    for rho in RMSPROP_RHOS:
        mine, expected = _rmsprop_by_hand(answer, exercise, rho), keras_rmsprop_path(rho)
        if close(mine, expected, **RMSPROP_TOLERANCE):
            continue
        expect(
            bool(np.all(np.isfinite(mine))),
            f"{exercise}: with rho={rho} your parameters become NaN or infinite: square the gradient (v grows by "
            "(1 - ρ)·g², never negative) and keep ε in the denominator.",
        )
        if rho != RMSPROP_RHOS[0]:
            expect(
                not close(mine, keras_rmsprop_path(RMSPROP_RHOS[0]), **RMSPROP_TOLERANCE),
                f"{exercise}: with rho={rho} your optimiser behaves as with rho={RMSPROP_RHOS[0]}: use the rho "
                "it is given, not a fixed 0.9.",
            )
        for mistake, words in RMSPROP_MISTAKES.items():
            with np.errstate(all="ignore"):
                expect(
                    not close(mine, _mistaken_rmsprop_path(mistake, rho), **RMSPROP_TOLERANCE), f"{exercise}: {words}"
                )
        expect(
            float(np.abs(mine[-1] - RMSPROP_TARGET)[:2].sum())
            < float(np.abs(RMSPROP_START - RMSPROP_TARGET)[:2].sum()),
            f"{exercise}: after {RMSPROP_STEPS} steps the parameters moved away from the minimum: a step goes "
            "AGAINST the gradient, params - lr·g / √(v + ε).",
        )
        ok = np.all(np.isclose(mine, expected, **RMSPROP_TOLERANCE), axis=1)
        first_wrong = int(np.argmin(ok))
        raise ExerciseIncorrect(
            f"{exercise}: with rho={rho}, step {first_wrong} lands at {np.round(mine[first_wrong], 6).tolist()} but "
            f"keras.optimizers.RMSprop lands at {np.round(expected[first_wrong], 6).tolist()}. Compare your step "
            "with inspect.getsource(keras.optimizers.RMSprop.update_step)."
        )
    print(f"{RMSPROP_STEPS} steps with rho = {' and '.join(map(str, RMSPROP_RHOS))}: the same path as Keras")
    return passed(exercise)
