"""Exercise checks of notebook 02 (an MLP from ``tf.GradientTape``, then with Keras)."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
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


def bce_from_logits(labels: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Per-sample binary cross-entropy from logits, in the numerically stable form (float64)."""
    return np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))


def bce_from_probabilities(labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Per-sample binary cross-entropy from probabilities, clipped as Keras does (float64)."""
    p = np.clip(probabilities, CLIP_EPSILON, 1 - CLIP_EPSILON)
    return -(labels * np.log(p) + (1 - labels) * np.log(1 - p))


def check_loss_from_logits(answer: Any, logits: Any, labels: Any) -> str:
    """Exercise 1: the mean binary cross-entropy of a model that outputs ``logits`` on ``labels`` (0/1)."""
    exercise = "Exercise 1 (the right loss for logits)"
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
    """Exercise 2: the number of trainable numbers in a one-hidden-layer MLP."""
    exercise = "Exercise 2 (counting parameters)"
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


# Build exercise 3: a deeper MLP, initialised for ReLU (He) ------------------------------------------

HE_SCALE_SIZES = (64, 256, 256, 256, 256, 256, 256, 256, 256, 1)  # 8 hidden ReLU layers of 256 units
HE_SCALE_SEEDS = (0, 1, 2)
# Mean square of the first hidden layer over that of the inputs, and the factor by which it changes
# per hidden layer (geometric mean over the 7 steps), through ReLU with the learner's weights, on
# 1,000 standard-normal inputs. He (std √(2/fan_in), normal or uniform) measured with seeds 0-5:
# 0.99-1.01 and 0.95-1.06; the bounds leave a margin. Glorot gives 0.20 and 0.49, LeCun 0.50 and
# 0.49, a uniform with limit √(2/fan_in) 0.33 and 0.33, std 1 gives 32 and 126, zeros 0.
HE_FIRST_LAYER = (0.8, 1.25)
HE_FACTOR = (0.85, 1.15)
HE_TRAIN_SIZES = (2, 16, 16, 16, 1)  # the notebook's MLP with three hidden layers
FORWARD_PROBE_SIZES = (5, 12, 10, 8, 1)  # random weights AND biases: the forward pass must use them all
HE_TRAIN_EPOCHS = 10
HE_LOSS_DROP = 0.6  # the training loss must fall below 0.6 × its value at the start
# Test accuracy after HE_TRAIN_EPOCHS epochs (init seed 0), measured with the reference (He normal):
# on fast mode's 1,000 training moons with init seeds 0-4, 0.958-0.966; on full mode's 4,000 with data
# seeds 42, 1, 2, 0.951-0.970. Zero weights stay at 0.493 (chance). The bound leaves 2 points or more.
HE_MIN_ACCURACY = 0.93


def _relu_activations(params: list[np.ndarray], x: np.ndarray) -> list[np.ndarray]:
    """The hidden activations of an MLP given as [W1, b1, ..., Wn, bn] (ReLU after every layer but the last)."""
    hidden = []
    for weights, bias in zip(params[:-2:2], params[1:-2:2], strict=True):
        x = np.maximum(x @ weights + bias, 0.0)
        hidden.append(x)
    return hidden


def _he_params(init: Callable[..., Any], sizes: tuple[int, ...], seed: int, exercise: str) -> list[np.ndarray]:
    """``init(list(sizes), seed)`` as NumPy arrays, after checking it is [W1, b1, ..., Wn, bn] of the right shapes."""
    try:
        params = init(list(sizes), seed)
    except Exception as error:  # the learner's code: report any failure in words
        raise ExerciseIncorrect(
            f"{exercise}: init(layer_sizes={list(sizes)}, seed={seed}) raised {type(error).__name__}: {error}"
        ) from error
    expect(
        isinstance(params, list | tuple),
        f"{exercise}: init should return a list [W1, b1, W2, b2, ...] of tf.Variables, got {type(params).__name__}.",
    )
    layers = len(sizes) - 1
    expect(
        len(params) == 2 * layers,
        f"{exercise}: layer_sizes={list(sizes)} has {layers} layers, so {2 * layers} parameters (a weight matrix and "
        f"a bias per layer), but init returned {len(params)}. Loop over the pairs of consecutive sizes.",
    )
    arrays = [np.asarray(parameter, dtype=np.float64) for parameter in params]
    for index, (fan_in, fan_out) in enumerate(pairwise(sizes)):
        weights, bias = arrays[2 * index], arrays[2 * index + 1]
        expect(
            weights.shape == (fan_in, fan_out) and bias.shape == (fan_out,),
            f"{exercise}: layer {index + 1} should have W of shape {(fan_in, fan_out)} (fan_in, fan_out) and b of "
            f"shape {(fan_out,)}, as in the notebook's init_params; got {weights.shape} and {bias.shape}.",
        )
    return arrays


def _he_scale_mistake(first: float, factor: float) -> str:
    """Which initialisation gives these activation statistics, in words."""
    if first == 0 or not factor > 0:
        return (
            "The activations are all zero: zero weights never break the symmetry and nothing flows through. "
            "Draw the weights at random."
        )
    if factor > HE_FACTOR[1]:
        return "The activations GROW at every layer: the weights are too large (a std of 1?). He's std is √(2/fan_in)."
    if 0.4 < factor < 0.6:
        return (
            "ReLU zeroes half of its inputs, so with a variance of 1/fan_in (LeCun) or 2/(fan_in + fan_out) "
            "(Glorot) the mean square HALVES at every layer. He doubles the variance: std √(2/fan_in)."
        )
    if 0.28 < factor < 0.4:
        return (
            "A uniform on ±√(2/fan_in) has variance 2/(3·fan_in), a third of He's. Draw a normal with std "
            "√(2/fan_in), or a uniform on ±√(6/fan_in)."
        )
    return "The weights' spread is not He's: a normal with mean 0 and standard deviation √(2/fan_in) (not variance)."


def check_he_deep_mlp(
    answer: Any,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    min_accuracy: float = HE_MIN_ACCURACY,
    epochs: int = HE_TRAIN_EPOCHS,
) -> str:
    """Build exercise 3: ``(init, forward)``: He-initialised raw variables for any depth, and their forward pass.

    ``init(layer_sizes, seed)`` returns [W1, b1, ..., Wn, bn]; ``forward(params, x)`` returns one logit per
    row (ReLU after every hidden layer, none after the last). Judged by behaviour: (1) at initialisation,
    the activations keep their scale through 8 hidden ReLU layers of 256 units (seeds 0-2); (2) the
    forward pass computes what those weights say; (3) the three-hidden-layer moons MLP, trained
    ``epochs`` epochs with Adam through ``forward``, halves its loss and reaches ``min_accuracy``.
    Runs in about 5 s on 2 cores.
    """
    import keras
    import tensorflow as tf

    exercise = "Build exercise 3 (a deeper MLP with He initialisation)"
    require_answer(answer, exercise)
    expect(
        isinstance(answer, list | tuple) and len(answer) == 2 and all(map(callable, answer)),
        f"{exercise}: answer_3 should be the pair of functions (init, forward), got {type(answer).__name__}.",
    )
    init, forward = answer
    again = _he_params(init, HE_SCALE_SIZES, HE_SCALE_SEEDS[0], exercise)
    first_params = _he_params(init, HE_SCALE_SIZES, HE_SCALE_SEEDS[0], exercise)
    expect(
        all(np.array_equal(a, b) for a, b in zip(again, first_params, strict=True)),
        f"{exercise}: init with the same seed twice gave different weights; draw them from a generator made "
        "from the seed (np.random.default_rng(seed), or an initialiser with seed=seed).",
    )
    x = np.random.default_rng(12345).normal(size=(1000, HE_SCALE_SIZES[0]))
    for seed in HE_SCALE_SEEDS:
        params = first_params if seed == HE_SCALE_SEEDS[0] else _he_params(init, HE_SCALE_SIZES, seed, exercise)
        if seed == HE_SCALE_SEEDS[1]:
            expect(
                not np.array_equal(params[0], first_params[0]) or not np.any(params[0]),
                f"{exercise}: seeds {HE_SCALE_SEEDS[0]} and {seed} gave the same weights: use the seed you are given.",
            )
        mean_squares = np.array([float(np.mean(h**2)) for h in _relu_activations(params, x)])
        first = mean_squares[0] / float(np.mean(x**2))
        with np.errstate(all="ignore"):
            factor = float((mean_squares[-1] / mean_squares[0]) ** (1 / (len(mean_squares) - 1)))
        if not (HE_FIRST_LAYER[0] <= first <= HE_FIRST_LAYER[1] and HE_FACTOR[0] <= factor <= HE_FACTOR[1]):
            change = f"by a factor {factor:.3g} per layer" if np.isfinite(factor) else "no more (it is 0)"
            raise ExerciseIncorrect(
                f"{exercise}: through 8 hidden ReLU layers of 256 units with your weights (seed {seed}), the "
                f"activations' mean square is {first:.3g} × the inputs' after the first layer and changes {change} "
                f"(He: about 1, and a factor about 1). {_he_scale_mistake(first, factor)}"
            )
    probe_rng = np.random.default_rng(7)  # weights and biases of the check's own, any of sign, for the forward pass
    probe_params = [
        probe_rng.normal(0, 1 / np.sqrt(fan_in), shape) if len(shape) == 2 else probe_rng.normal(0, 0.5, shape)
        for fan_in, fan_out in pairwise(FORWARD_PROBE_SIZES)
        for shape in ((fan_in, fan_out), (fan_out,))
    ]
    probe = probe_rng.normal(size=(32, FORWARD_PROBE_SIZES[0]))
    probe_params[-1] -= np.median(_relu_activations(probe_params, probe)[-1] @ probe_params[-2])  # logits of both signs
    variables = [tf.Variable(p.astype(np.float32)) for p in probe_params]
    try:
        logits = np.asarray(forward(variables, probe.astype(np.float32)))
    except Exception as error:  # the learner's code: report any failure in words
        raise ExerciseIncorrect(f"{exercise}: forward(params, x) raised {type(error).__name__}: {error}") from error
    expect(
        logits.shape == (len(probe),),
        f"{exercise}: forward should return one logit per row, shape ({len(probe)},) (squeeze the last axis), "
        f"but it returned shape {logits.shape}.",
    )
    hidden = _relu_activations(probe_params, probe)[-1]
    expected = (hidden @ probe_params[-2] + probe_params[-1]).reshape(-1)
    if not close(logits, expected, rtol=1e-3, atol=1e-4):
        expect(
            not close(logits, np.maximum(expected, 0), rtol=1e-3, atol=1e-4),
            f"{exercise}: forward applies ReLU to the output too; the last layer gives logits (any sign), "
            "the loss applies the sigmoid.",
        )
        raise ExerciseIncorrect(
            f"{exercise}: on weights and biases of {len(FORWARD_PROBE_SIZES) - 1} layers, forward(params, x) does not "
            "compute h = ReLU(x W1 + b1), then h = ReLU(h W2 + b2) and so on, and h Wn + bn for the last layer "
            f"(largest difference {float(np.max(np.abs(logits - expected))):.3g} on {len(probe)} inputs)."
        )
    params = [tf.Variable(p.astype(np.float32)) for p in _he_params(init, HE_TRAIN_SIZES, 0, exercise)]
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
    optimizer = keras.optimizers.Adam(0.01)

    @tf.function
    def train_step(x_batch: tf.Tensor, y_batch: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = loss_fn(y_batch, forward(params, x_batch))
        gradients = tape.gradient(loss, params)
        optimizer.apply_gradients(zip(gradients, params, strict=True))
        return loss

    x_train, y_train = np.asarray(x_train, np.float32), np.asarray(y_train, np.float32)
    batches = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(len(x_train), seed=0).batch(32)
    start_loss = float(loss_fn(y_train, forward(params, x_train)))
    try:
        for _ in range(epochs):
            for x_batch, y_batch in batches:
                train_step(x_batch, y_batch)
    except Exception as error:  # the learner's code: report any failure in words
        raise ExerciseIncorrect(
            f"{exercise}: training through your forward failed with {type(error).__name__}: {error}. Write it with "
            "TensorFlow operations (@, tf.nn.relu, tf.squeeze) so that the tape can differentiate it."
        ) from error
    end_loss = float(loss_fn(y_train, forward(params, x_train)))
    accuracy = float(np.mean((np.asarray(forward(params, np.asarray(x_test, np.float32))) > 0) == (y_test == 1)))
    expect(
        end_loss < HE_LOSS_DROP * start_loss,
        f"{exercise}: trained {epochs} epochs with Adam, the loss went from {start_loss:.3f} to {end_loss:.3f} only; "
        "it should fall well below half.",
    )
    expect(
        accuracy >= min_accuracy,
        f"{exercise}: trained {epochs} epochs, the three-hidden-layer MLP reaches {accuracy:.3f} test accuracy; at "
        f"least {min_accuracy} expected.",
    )
    print(
        f"activations keep their scale through 8 ReLU layers; {list(HE_TRAIN_SIZES)} trained {epochs} epochs: loss "
        f"{start_loss:.3f} -> {end_loss:.3f}, test accuracy {accuracy:.3f}"
    )
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
    """Build exercise 4: a ``keras.Sequential`` subclass whose ``train_step`` clips the gradients' global norm.

    Judged by behaviour: one step on a batch whose gradient is 200 must move a weight by exactly
    ``clip_norm`` (SGD, learning rate 1); then ``fit`` with the class must report a loss and train
    the two moons to ``min_accuracy``.
    """
    import keras

    exercise = "Build exercise 4 (a custom train_step that clips gradients)"
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
