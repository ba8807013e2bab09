"""Exercise checks of notebook 02 (an MLP from ``tf.GradientTape``, then with Keras)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from helpers.checks.fundamentals import CLIP_EPSILON, flat_logits_and_labels, sigmoid
from helpers.exercises import (
    ExerciseIncorrect,
    as_number,
    close,
    expect,
    expect_close,
    is_mistake,
    passed,
    require_answer,
)


def parameter_name(parameter: Any, index: int) -> str:
    """A readable name for ``parameter`` (``W1``), from its ``name`` or its place in the list."""
    name = str(getattr(parameter, "name", "") or f"parameter {index}")
    return name.split("/")[-1].split(":")[0]


def check_all_gradients(answer: Any, params: Sequence[Any], loss_fn: Callable[[], Any]) -> str:
    """Exercise 1: the gradients of ``loss_fn()`` with respect to EVERY parameter in ``params``.

    The check recomputes them with its own ``tf.GradientTape`` and compares, one by one.
    """
    import tensorflow as tf

    exercise = "Exercise 1 (gradients for all parameters)"
    require_answer(answer, exercise)
    names = [parameter_name(parameter, index) for index, parameter in enumerate(params)]
    expect(
        isinstance(answer, list | tuple),
        f"{exercise}: answer_1 should be a list of gradients, one per parameter ({', '.join(names)}), "
        f"got {type(answer).__name__}.",
    )
    shapes = [tuple(int(d) for d in parameter.shape) for parameter in params]
    answer_shapes = [None if g is None else tuple(np.shape(g)) for g in answer]
    if len(answer) < len(params):
        missing = [n for n, s in zip(names, shapes, strict=True) if s not in answer_shapes]
        raise ExerciseIncorrect(
            f"{exercise}: {len(answer)} gradients for {len(params)} parameters; the model also has "
            f"{', '.join(missing) or 'more parameters'}. Ask the tape for ALL of them "
            "(tape.gradient(loss, params)); a bias that gets no gradient is never trained."
        )
    expect(
        len(answer) == len(params),
        f"{exercise}: {len(answer)} gradients for {len(params)} parameters; give exactly one per parameter.",
    )
    for name, shape, gradient in zip(names, shapes, answer, strict=True):
        expect(
            gradient is not None,
            f"{exercise}: the gradient for {name} is None: the tape did not see {name} used in the loss. "
            "Compute the loss INSIDE the `with tf.GradientTape() as tape:` block.",
        )
        expect(
            tuple(np.shape(gradient)) == shape,
            f"{exercise}: the gradient for {name} has shape {tuple(np.shape(gradient))} but {name} has shape "
            f"{shape}; the list must follow the order of params.",
        )
    with tf.GradientTape() as tape:
        loss = loss_fn()
    expected = tape.gradient(loss, list(params))
    for name, gradient, reference in zip(names, answer, expected, strict=True):
        expect_close(gradient, reference, f"{exercise}: the gradient for {name}", rtol=1e-3, atol=1e-5)
    return passed(exercise)


def bce_from_logits(labels: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Per-sample binary cross-entropy from logits, in the numerically stable form (float64)."""
    return np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))


def bce_from_probabilities(labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Per-sample binary cross-entropy from probabilities, clipped as Keras does (float64)."""
    p = np.clip(probabilities, CLIP_EPSILON, 1 - CLIP_EPSILON)
    return -(labels * np.log(p) + (1 - labels) * np.log(1 - p))


def check_loss_from_logits(answer: Any, logits: Any, labels: Any) -> str:
    """Exercise 2: the mean binary cross-entropy of a model that outputs ``logits`` on ``labels`` (0/1)."""
    exercise = "Exercise 2 (the right loss for logits)"
    require_answer(answer, exercise)
    z, y = flat_logits_and_labels(logits, labels, "check_loss_from_logits")
    value = as_number(answer, exercise, "the loss")
    expected = float(np.mean(bce_from_logits(y, z)))
    mistakes = [
        (
            float(np.mean(bce_from_logits(y, sigmoid(z)))),
            "you applied the sigmoid and THEN a from_logits=True loss, so the sigmoid is applied twice "
            "(the seed's bug): the loss can never drop below log(1 + e⁻¹) ≈ 0.31. Pass the logits themselves.",
        ),
        (
            float(np.mean(bce_from_probabilities(y, z))),
            "you gave logits to a loss that expects probabilities (from_logits=False), so Keras clipped them "
            "to [0, 1]. Use keras.losses.BinaryCrossentropy(from_logits=True).",
        ),
        (
            float(np.mean(bce_from_logits(y[:, None], z[None, :]))),
            "your labels and logits broadcast to an N×N matrix (shapes (N, 1) and (N,)): make both the same "
            "shape before computing the loss.",
        ),
        (expected * len(z), f"this is the SUM over the {len(z)} samples; the loss is the mean."),
        (-expected, "the sign is flipped; cross-entropy is MINUS the mean log-likelihood."),
    ]
    for candidate, explanation in mistakes:
        expect(not is_mistake(value, candidate, expected), f"{exercise}: {explanation}")
    expect_close(value, expected, f"{exercise}: the loss", rtol=1e-4)
    return passed(exercise)


def check_parameter_count(answer: Any, n_inputs: int, n_hidden: int, n_outputs: int) -> str:
    """Exercise 3: the number of trainable numbers in a one-hidden-layer MLP."""
    exercise = "Exercise 3 (counting parameters)"
    require_answer(answer, exercise)
    array = np.asarray(answer)
    expect(
        array.size == 1 and float(array) == int(array),
        f"{exercise}: the answer should be one whole number, got {answer!r}.",
    )
    value = int(array)
    weights = n_inputs * n_hidden + n_hidden * n_outputs
    biases = n_hidden + n_outputs
    expect(
        value != weights,
        f"{exercise}: {value} counts the weight matrices only; each layer also has one bias per unit.",
    )
    expect(
        value != n_inputs * n_hidden + n_hidden,
        f"{exercise}: {value} is the hidden layer alone; add the output layer's W2 and b2.",
    )
    expect(
        value == weights + biases,
        f"{exercise}: {value} is not right; add up the sizes of W1 ({n_inputs}×{n_hidden}), b1 ({n_hidden}), "
        f"W2 ({n_hidden}×{n_outputs}) and b2 ({n_outputs}).",
    )
    return passed(exercise)


def count_dense_layers(model: Any) -> int | None:
    """How many ``Dense`` layers a Keras model has (``None`` if ``model`` is not a Keras model)."""
    layers = getattr(model, "layers", None)
    if layers is None:
        return None
    return sum(type(layer).__name__ == "Dense" for layer in layers)


def check_moons_classifier(
    answer: Any, x_test: Any, y_test: Any, *, min_accuracy: float, min_hidden_layers: int = 2
) -> str:
    """Exercise 4: a trained model with ``min_hidden_layers`` hidden layers whose test accuracy is high enough.

    ``answer`` is a Keras model or a function mapping points ``(n, 2)`` to the probability of class 1.
    """
    exercise = "Exercise 4 (a deeper two-moons classifier)"
    require_answer(answer, exercise)
    expect(
        callable(answer),
        f"{exercise}: answer_4 should be the trained model (or a function of the points), got {type(answer).__name__}.",
    )
    dense = count_dense_layers(answer)
    expect(
        dense is None or dense >= min_hidden_layers + 1,
        f"{exercise}: the model has {dense} Dense layers; it needs {min_hidden_layers} hidden layers plus the "
        "output layer.",
    )
    x = np.asarray(x_test, dtype=np.float32)
    y = np.asarray(y_test).reshape(-1)
    outputs = np.asarray(answer(x), dtype=np.float64)
    expect(
        outputs.size == len(x),
        f"{exercise}: the model should give ONE probability per point, shape ({len(x)},) or ({len(x)}, 1); "
        f"it gave shape {outputs.shape}.",
    )
    outputs = outputs.reshape(-1)
    expect(
        outputs.min() >= 0 and outputs.max() <= 1,
        f"{exercise}: the outputs range from {outputs.min():.3g} to {outputs.max():.3g}, so they are logits, "
        "not probabilities; end the model with activation='sigmoid' (and use from_logits=False), or pass a "
        "function that applies tf.sigmoid.",
    )
    accuracy = float(np.mean((outputs > 0.5) == (y > 0.5)))
    expect(
        not close(accuracy, 0.5, atol=0.08),
        f"{exercise}: test accuracy {accuracy:.3f} is chance level; was the model trained (on the real labels)?",
    )
    expect(
        accuracy >= min_accuracy,
        f"{exercise}: test accuracy {accuracy:.3f} is below {min_accuracy:.3f}; train for more epochs or use "
        "more hidden units.",
    )
    print(f"test accuracy {accuracy:.3f} (needed {min_accuracy:.3f})")
    return passed(exercise)


def check_clipping_train_step(
    answer: Any,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    min_accuracy: float,
) -> str:
    """Exercise 5: a ``keras.Sequential`` subclass whose ``train_step`` clips the gradients' global norm.

    Judged by behaviour: one step on a batch whose gradient is 200 must move a weight by exactly
    ``clip_norm`` (SGD, learning rate 1); then ``fit`` with the class must report a loss and train
    the two moons to ``min_accuracy``.
    """
    import keras

    exercise = "Exercise 5 (a custom train_step that clips gradients)"
    require_answer(answer, exercise)
    expect(
        isinstance(answer, type) and issubclass(answer, keras.Sequential),
        f"{exercise}: give the class itself (a subclass of keras.Sequential), not {type(answer).__name__}.",
    )
    expect(
        answer.train_step is not keras.Sequential.train_step,
        f"{exercise}: {answer.__name__} does not override train_step, so fit runs Keras' own step.",
    )
    probe = answer([keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
    probe.clip_norm = 1.0
    probe.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    history = probe.fit(np.ones((4, 1), "float32"), np.full((4, 1), 100.0, "float32"), epochs=1, verbose=0)
    moved = float(np.abs(probe.layers[-1].kernel.numpy()).sum())
    expect(
        moved > 1e-6,
        f"{exercise}: the weight did not move at all; apply the (clipped) gradients with self.optimizer.apply.",
    )
    expect(
        abs(moved - 1.0) < 1e-3,
        f"{exercise}: one SGD step (learning rate 1) on a gradient of 200 moved the weight by {moved:.4g}; with "
        "clip_norm = 1 it should move by exactly 1. Clip with tf.clip_by_global_norm(gradients, self.clip_norm) "
        "before applying them.",
    )
    expect(
        history.history.get("loss", [0.0])[0] > 0,
        f"{exercise}: fit reported no loss (or 0); update the metrics (the loss tracker too) and return "
        "{m.name: m.result() for m in self.metrics}.",
    )
    model = answer([keras.Input((x_train.shape[1],)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
    model.clip_norm = 1.0
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    model.fit(x_train, y_train, batch_size=32, epochs=30, verbose=0)
    logits = np.asarray(model(x_test)).reshape(-1)
    accuracy = float(np.mean((logits > 0) == (np.asarray(y_test) == 1)))
    expect(
        accuracy >= min_accuracy,
        f"{exercise}: trained with your step, the model reaches only {accuracy:.3f} test accuracy "
        f"(at least {min_accuracy} expected); check that the loss uses y and y_pred and that the gradients "
        "reach every weight.",
    )
    print(f"one clipped step moved the weight by {moved:.3f}; trained with your step: test accuracy {accuracy:.3f}")
    return passed(exercise)
