"""Exercise checks of notebook 04 (residual networks and transfer learning)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from helpers.exercises import expect, expect_close, expect_shape, passed, require_answer

if TYPE_CHECKING:
    import keras

IMAGENET_MEAN_BGR = (103.939, 116.779, 123.68)  # what ResNet50's preprocess_input subtracts
EXERCISE_PIXEL_RGB = (200.0, 100.0, 50.0)  # exercise 3's pixels: np.full((1, 2, 2, 3), EXERCISE_PIXEL_RGB)


def _whole(answer: Any, exercise: str, what: str) -> int:
    """``answer`` as one whole number (``what`` names it in the error), or a clear error."""
    number = np.asarray(answer) if not isinstance(answer, str | bytes) else np.asarray(np.nan)
    whole = number.ndim == 0 and number.dtype.kind in "iuf" and float(number) == np.floor(float(number))
    expect(bool(whole), f"{exercise}: the answer should be one whole number ({what}), got {answer!r}.")
    return int(number)


def _trainable_count(model: keras.Model) -> int:
    """Parameters in ``model``'s trainable weights."""
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


def check_projection_parameters(answer: Any, backbone: keras.Model) -> str:
    """Exercise 1: weights of stage 2's projection shortcut, a 1×1 convolution from 16 to 32 channels, no bias."""
    exercise = "Exercise 1 (parameters of a projection shortcut)"
    require_answer(answer, exercise)
    value = _whole(answer, exercise, "a parameter count")
    layer = backbone.get_layer("stage2_projection")
    inputs, filters = layer.kernel.shape[-2], layer.kernel.shape[-1]
    expected = layer.count_params()
    expect(
        value != expected + filters,
        f"{exercise}: {value} counts a bias per filter, but the convolution is built with use_bias=False "
        "(the BatchNormalization after it adds its own shift).",
    )
    expect(
        value != 9 * expected,
        f"{exercise}: {value} is what a 3×3 kernel would have; the projection is a 1×1 convolution.",
    )
    expect(
        value != backbone.count_params(),
        f"{exercise}: {value} is the whole backbone; count only the layer named 'stage2_projection'.",
    )
    expect(
        value == expected,
        f"{exercise}: {value} is not right; a 1×1 convolution has one weight per (input channel, filter) "
        f"pair: {inputs} input channels, {filters} filters.",
    )
    return passed(exercise)


def check_trainable_last_stage(answer: Any, fresh_backbone: keras.Model) -> str:
    """Exercise 2: trainable parameters once only the layers named ``stage3...`` are unfrozen.

    ``fresh_backbone`` is an untouched copy of the same architecture (every layer trainable). The right
    count is worked out from its layers directly: the trainable weights of the layers named ``stage3...``.
    """
    exercise = "Exercise 2 (fine-tune only the last stage)"
    require_answer(answer, exercise)
    value = _whole(answer, exercise, "a parameter count")
    everything = fresh_backbone.count_params()
    all_trainable = _trainable_count(fresh_backbone)
    stage = [layer for layer in fresh_backbone.layers if layer.name.startswith("stage3")]
    expected = sum(int(np.prod(weight.shape)) for layer in stage for weight in layer.trainable_weights)
    stage_all = sum(layer.count_params() for layer in stage)
    expect(
        value != 0, f"{exercise}: 0 means everything is frozen; unfreeze the layers whose names start with 'stage3'."
    )
    expect(
        value not in (everything, all_trainable),
        f"{exercise}: {value} counts the whole backbone; only the layers named 'stage3...' should be trainable.",
    )
    expect(
        value != stage_all,
        f"{exercise}: {value} also counts the BatchNormalization moving means and variances, which are never "
        "trained by gradient descent; count model.trainable_weights only.",
    )
    expect(value == expected, f"{exercise}: {value} is not right; sum the sizes of model.trainable_weights.")
    return passed(exercise)


def check_preprocess_copy(answer: Any, pixels: np.ndarray) -> str:
    """Exercise 3: ResNet50's ``preprocess_input`` applied to a copy of ``pixels``, which stay untouched.

    ``pixels`` is ``np.full((1, 2, 2, 3), EXERCISE_PIXEL_RGB)``: every pixel (R, G, B) = (200, 100, 50).
    """
    exercise = "Exercise 3 (ImageNet preprocessing without side effects)"
    require_answer(answer, exercise)
    original = np.broadcast_to(np.array(EXERCISE_PIXEL_RGB), (1, 2, 2, 3))
    expect(
        np.shape(pixels) == original.shape and np.array_equal(pixels, original),
        f"{exercise}: `pixels` changed: preprocess_input modifies a float NumPy array in place. "
        "Run the cell that creates `pixels` again and pass a copy: preprocess_input(pixels.copy()).",
    )
    value = expect_shape(answer, original.shape, f"{exercise}: the preprocessed batch")
    expect(
        not np.allclose(value, original),
        f"{exercise}: the answer is still the raw pixels; apply keras.applications.resnet50.preprocess_input.",
    )
    mean = np.array(IMAGENET_MEAN_BGR)
    expect(
        not np.allclose(value, original - mean),
        f"{exercise}: the channels are still in RGB order; preprocess_input turns RGB into BGR, then subtracts "
        "the ImageNet mean of each BGR channel.",
    )
    expect_close(value, original[..., ::-1] - mean, f"{exercise}: the preprocessed batch", rtol=1e-4, atol=1e-3)
    return passed(exercise)


def check_predicted_digit(answer: Any, probabilities: np.ndarray, class_names: Sequence[str]) -> str:
    """Exercise 4: the *digit* (5-9) the model predicts, not the class index (0-4)."""
    exercise = "Exercise 4 (from class index to digit)"
    require_answer(answer, exercise)
    value = _whole(answer, exercise, "a digit")
    index = int(np.argmax(probabilities))
    expected = int(class_names[index])
    expect(
        value != index or index == expected,
        f"{exercise}: {value} is the class index; the folders were named by digit, so look it up in class_names.",
    )
    expect(
        value != int(class_names[int(np.argmin(probabilities))]),
        f"{exercise}: {value} is the *least* likely digit; use argmax, not argmin.",
    )
    expect(value == expected, f"{exercise}: {value} is not right; take class_names[argmax(probabilities)].")
    return passed(exercise)
