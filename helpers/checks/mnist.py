"""Exercise checks of notebook 03 (MNIST: MLP, CNN, tf.data)."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises import ExerciseIncorrect, call_answer, expect, expect_close, passed, require_answer

DENSE_INPUTS = 784
DENSE_UNITS = 128
CLASSES = 10


def _whole_number(answer: Any, exercise: str) -> int:
    """``answer`` as an int, or a clear error if it is not one whole number."""
    ok = np.ndim(answer) == 0 and not isinstance(answer, str | bytes)
    if ok:
        try:
            ok = float(answer) == int(answer)
        except (TypeError, ValueError):
            ok = False
    expect(ok, f"{exercise}: the answer should be one whole number, got {answer!r}.")
    return int(answer)


def check_dense_parameters(answer: Any) -> str:
    """Exercise 1: trainable parameters of ``Dense(128)`` on 784 inputs (784 × 128 weights + 128 biases)."""
    exercise = "Exercise 1 (parameters of the hidden layer)"
    require_answer(answer, exercise)
    value = _whole_number(answer, exercise)
    weights = DENSE_INPUTS * DENSE_UNITS
    expected = weights + DENSE_UNITS
    whole_model = expected + DENSE_UNITS * CLASSES + CLASSES
    expect(
        value != weights,
        f"{exercise}: {value} counts the weights (784 × 128) but not the biases: every unit has one bias too.",
    )
    expect(value != whole_model, f"{exercise}: {value} is the whole model; count only the Dense(128) hidden layer.")
    expect(
        value not in (DENSE_UNITS, DENSE_INPUTS),
        f"{exercise}: {value} is a layer size, not a parameter count: each of the 128 units has one weight "
        "per input pixel, plus a bias.",
    )
    expect(value == expected, f"{exercise}: {value} is not right; count one weight per (input, unit) pair plus biases.")
    return passed(exercise)


CONV_CASES = (  # (image height, width, kernel size, stride, padding)
    (6, 6, 3, 1, "valid"),
    (7, 7, 3, 2, "valid"),
    (6, 6, 3, 1, "same"),
    (6, 6, 3, 2, "same"),
    (7, 5, 2, 2, "same"),
)


def keras_conv(image: np.ndarray, kernel: np.ndarray, stride: int, padding: str) -> np.ndarray:
    """What ``Conv2D`` (one filter, no bias) computes on one single-channel image, via ``tf.nn.conv2d``."""
    import tensorflow as tf

    result = tf.nn.conv2d(
        image[None, :, :, None].astype(np.float32), kernel[:, :, None, None].astype(np.float32), stride, padding.upper()
    )
    return result.numpy()[0, :, :, 0]


def check_conv2d(answer: Any) -> str:
    """Exercise 2: ``conv2d(image, kernel, stride, padding)`` in NumPy, the same numbers as Keras' ``Conv2D``."""
    exercise = "Exercise 2 (a convolution by hand)"
    rng = np.random.default_rng(5)
    for height, width, size, stride, padding in CONV_CASES:
        image = rng.integers(-3, 4, (height, width)).astype(np.float64)
        kernel = rng.integers(-2, 3, (size, size)).astype(np.float64)
        case = f"a {height}×{width} image, a {size}×{size} kernel, stride {stride}, padding {padding!r}"
        result = np.asarray(call_answer(answer, exercise, case, image, kernel, stride, padding), dtype=np.float64)
        expected = keras_conv(image, kernel, stride, padding)
        expect(
            result.shape == expected.shape,
            f"{exercise}: for {case} the output should be {expected.shape[0]}×{expected.shape[1]}, yours is "
            f"{'×'.join(map(str, result.shape))}. 'valid': floor((n - k) / s) + 1 positions per axis; 'same': "
            "ceil(n / s), padding with zeros (the extra zero, if the padding is odd, goes at the bottom and right).",
        )
        flipped = keras_conv(image, kernel[::-1, ::-1], stride, padding)
        expect(
            not (np.allclose(result, flipped) and not np.allclose(flipped, expected)),
            f"{exercise}: you flipped the kernel (the mathematicians' convolution). Keras' Conv2D does not: it slides "
            "the kernel as it is and takes the sum of products (a cross-correlation).",
        )
        expect_close(result, expected, f"{exercise}: the output for {case}", rtol=1e-6, atol=1e-6)
    return passed(exercise)


def _all_layers(model: Any) -> list[Any]:
    """Every layer of a Keras model, those of nested models included."""
    found = []
    for layer in getattr(model, "layers", []):
        found += [layer, *_all_layers(layer)]
    return found


def check_compact_cnn(
    answer: Any,
    images: np.ndarray,
    labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    *,
    parameter_budget: int,
    epochs: int,
    min_accuracy: float,
    batch_size: int = 128,
    seed: int = 42,
) -> str:
    """Build exercise 3: ``answer()`` builds an untrained CNN of at most ``parameter_budget`` parameters.

    Judged by behaviour, on the notebook's own pipeline and recipe: the model must read raw 0-255 pixels
    ``(batch, 28, 28)``, output 10 probabilities per image that depend on the image, contain a convolution
    and BatchNormalization or GlobalAveragePooling2D, and have trainable weights. Then it is compiled with
    the notebook's ``compile_mnist_model`` (Adam, cosine decay from the peak rate to 0), trained for
    ``epochs`` epochs on ``mnist_dataset(images, labels)`` from ``seed``, and must reach ``min_accuracy``
    on the test images. About 12 s in fast mode on 2 cores.
    """
    import keras

    from helpers.lessons.mnist import PEAK_LEARNING_RATE, compile_mnist_model, mnist_dataset

    exercise = "Build exercise 3 (a compact CNN)"
    require_answer(answer, exercise)
    expect(
        callable(answer) and not isinstance(answer, keras.Model),
        f"{exercise}: answer_3 should be the function that builds a new model (like build_cnn), not "
        f"{type(answer).__name__}.",
    )
    keras.utils.set_random_seed(seed)
    model = call_answer(answer, exercise, "no arguments")
    expect(
        isinstance(model, keras.Model),
        f"{exercise}: answer_3() should return a keras.Model (untrained), got {type(model).__name__}.",
    )
    try:
        input_shape = tuple(model.inputs[0].shape[1:]) if len(model.inputs) == 1 else None
    except (AttributeError, ValueError):  # a model built without keras.Input has no inputs yet
        input_shape = None
    expect(
        input_shape == (28, 28),
        f"{exercise}: the model should take raw pixels of shape (batch, 28, 28), like the notebook's models and the "
        f"pipeline's batches; its input is {input_shape}. Start with keras.Input((28, 28)), Rescaling(1 / 255) "
        "and Reshape((28, 28, 1)).",
    )
    probe = np.asarray(test_images[:64])
    try:
        outputs = np.asarray(model(probe, training=False), dtype=np.float64)
    except Exception as error:  # the learner's model: report any failure in words
        raise ExerciseIncorrect(
            f"{exercise}: the model could not read a batch of raw test images of shape {probe.shape} "
            f"({type(error).__name__}: {str(error)[:200]}). Like the notebook's models, start with "
            "keras.Input((28, 28)), Rescaling(1 / 255) and Reshape((28, 28, 1))."
        ) from error
    expect(
        outputs.shape == (len(probe), CLASSES),
        f"{exercise}: the model should give {CLASSES} numbers per image (one per digit), shape "
        f"({len(probe)}, {CLASSES}); it gives shape {outputs.shape}.",
    )
    parameters = model.count_params()
    expect(
        parameters <= parameter_budget,
        f"{exercise}: the model has {parameters:,} parameters, over the budget of {parameter_budget:,}. Most of the "
        "notebook's CNN is its Flatten + Dense(128) layer; let convolutions shrink the maps and end with "
        "GlobalAveragePooling2D, one number per channel, before the softmax layer.",
    )
    found = _all_layers(model)
    convolutions = (keras.layers.Conv2D, keras.layers.SeparableConv2D, keras.layers.DepthwiseConv2D)
    expect(
        any(isinstance(layer, convolutions) for layer in found),
        f"{exercise}: the model has no convolution (keras.layers.Conv2D): it is not a CNN. Dense layers on the "
        "flattened pixels are the MLP of this notebook; slide small kernels over the image instead.",
    )
    new_layers = (keras.layers.BatchNormalization, keras.layers.GlobalAveragePooling2D)
    expect(
        any(isinstance(layer, new_layers) for layer in found),
        f"{exercise}: the model uses neither BatchNormalization nor GlobalAveragePooling2D; the exercise is to "
        "use them (at least one).",
    )
    expect(
        outputs.min() >= 0 and np.allclose(outputs.sum(axis=1), 1, atol=1e-3),
        f"{exercise}: the outputs are not probabilities (they range from {outputs.min():.3g} to {outputs.max():.3g}, "
        f"rows summing to up to {outputs.sum(axis=1).max():.3g}): they look like logits. End with "
        "Dense(10, activation='softmax'), as the notebook's models do (the loss expects probabilities).",
    )
    expect(
        float(np.ptp(outputs, axis=0).max()) > 1e-6,
        f"{exercise}: the model gives the same probabilities for every image: its output does not depend on "
        "the pixels, so it cannot learn the digits.",
    )
    expect(
        len(model.trainable_weights) > 0,
        f"{exercise}: the model has no trainable weights (trainable = False?): training would not change it.",
    )
    train = mnist_dataset(images, labels, batch_size=batch_size, shuffle_seed=seed)
    steps = -(-len(images) // batch_size) * epochs
    compile_mnist_model(model, decay_steps=steps, learning_rate=PEAK_LEARNING_RATE)
    history = model.fit(train, epochs=epochs, shuffle=False, verbose=0).history
    test = mnist_dataset(test_images, test_labels, batch_size=1000)
    accuracy = float(model.evaluate(test, verbose=0, return_dict=True)["accuracy"])
    if accuracy < min_accuracy:
        slow = [
            layer.name
            for layer in found
            if isinstance(layer, keras.layers.BatchNormalization) and layer.momentum > 0.95
        ]
        hint = (
            f" Its BatchNormalization layers ({', '.join(slow)}) keep Keras' default momentum 0.99: after only "
            f"{steps} steps their moving averages, which replace the batch statistics at test time, still hold "
            "much of their start value (mean 0, variance 1). Use BatchNormalization(momentum=0.9)."
            if slow
            else " A few 3×3 convolutions of 16 to 32 filters, each with BatchNormalization and ReLU, max-pooling "
            "between them, then GlobalAveragePooling2D and the softmax layer, are enough. Let the maps shrink to "
            "about 3×3 before the global pooling (padding 'valid'): an average over a large map is mostly over "
            "background."
        )
        raise ExerciseIncorrect(
            f"{exercise}: trained {epochs} epochs with the notebook's recipe, the model reaches {accuracy:.2%} test "
            f"accuracy (training accuracy {history['accuracy'][-1]:.2%}); at least {min_accuracy:.0%} "
            f"expected.{hint}"
        )
    print(f"{parameters:,} parameters; trained {epochs} epochs: test accuracy {accuracy:.2%}")
    return passed(exercise)
