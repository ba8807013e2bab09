"""Exercise checks of notebook 03 (MNIST: MLP, CNN, tf.data)."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises import call_answer, expect, expect_close, passed, require_answer

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


def check_conv_output_shape(answer: Any) -> str:
    """Exercise 2: shape after ``Conv2D(32, 5)`` ("valid") and ``MaxPooling2D()`` on 28×28×1: (12, 12, 32)."""
    exercise = "Exercise 2 (shape after convolution and pooling)"
    require_answer(answer, exercise)
    try:
        shape = tuple(int(size) for size in answer if size is not None)
    except TypeError:
        shape = ()
    expect(len(shape) == 3, f"{exercise}: give (height, width, channels), three numbers; got {answer!r}.")
    height, width, channels = shape
    expect(
        channels == 32,
        f"{exercise}: a convolution outputs one channel per filter, so the last number should be 32, not {channels}.",
    )
    expect(
        (height, width) != (24, 24),
        f"{exercise}: 24×24 is the size after the convolution; max-pooling then halves height and width.",
    )
    expect(
        (height, width) != (14, 14),
        f"{exercise}: 14×14 would be right with padding='same'; a 'valid' 5×5 convolution loses 2 pixels on "
        "each side (28 → 24) before pooling.",
    )
    expect(
        (height, width) != (13, 13),
        f"{exercise}: 13×13 is what a 3×3 kernel gives; this kernel is 5×5, so 28 → 24 before pooling.",
    )
    expect(shape == (12, 12, 32), f"{exercise}: {shape} is not right; 28 → 24 (5×5 'valid') → 12 (pooling).")
    return passed(exercise)


def _batches(dataset: Any, exercise: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """One epoch of ``dataset`` as NumPy ``(images, labels)`` pairs, or a clear error."""
    import tensorflow as tf

    expect(
        isinstance(dataset, tf.data.Dataset),
        f"{exercise}: the answer should be a tf.data.Dataset, got {type(dataset).__name__}.",
    )
    expect(
        isinstance(dataset.element_spec, tuple) and len(dataset.element_spec) == 2,
        f"{exercise}: each element should be an (images, labels) pair; build it from_tensor_slices((x_val, y_val)).",
    )
    return [(np.asarray(images), np.asarray(labels)) for images, labels in dataset.as_numpy_iterator()]


def check_shuffled_pipeline(answer: Any, images: np.ndarray, labels: np.ndarray, *, batch_size: int = 64) -> str:
    """Exercise 3: a pipeline over ``(images, labels)`` with shuffled examples, batches of ``batch_size``, prefetch."""
    exercise = "Exercise 3 (a shuffled tf.data pipeline)"
    require_answer(answer, exercise)
    batches = _batches(answer, exercise)
    expect(len(batches) > 0, f"{exercise}: the pipeline yields nothing.")
    first_images, _ = batches[0]
    expect(
        first_images.ndim == 3 and first_images.shape[1:] == images.shape[1:],
        f"{exercise}: each batch of images should have shape (batch, 28, 28); got {first_images.shape}. "
        "Did you batch twice, or forget to batch?",
    )
    expect(
        len(first_images) == batch_size,
        f"{exercise}: batches should hold {batch_size} images, the first one holds {len(first_images)}.",
    )
    all_labels = np.concatenate([batch_labels for _, batch_labels in batches])
    expect(
        len(all_labels) == len(labels),
        f"{exercise}: one pass should give each of the {len(labels)} examples once, it gave {len(all_labels)}. "
        "Remove repeat() or take().",
    )
    expect(
        np.array_equal(np.bincount(all_labels, minlength=CLASSES), np.bincount(labels, minlength=CLASSES)),
        f"{exercise}: the labels of one pass do not match y_val's; build the pipeline from (x_val, y_val).",
    )
    position = {image.tobytes(): index for index, image in enumerate(np.asarray(images))}
    order = [np.array([position.get(image.tobytes(), -1) for image in batch]) for batch, _ in batches]
    expect(
        not np.array_equal(np.concatenate(order), np.arange(len(images))),
        f"{exercise}: one pass gives the images in their original order: nothing is shuffled.",
    )
    expect(
        not all(len(indices) < 2 or bool(np.all(np.diff(indices) == 1)) for indices in order),
        f"{exercise}: each batch holds {batch_size} consecutive images: you shuffled after batching, which only "
        "changes the order of the batches. Shuffle first, then batch.",
    )
    expect(
        "Prefetch" in type(answer).__name__,
        f"{exercise}: end the pipeline with .prefetch(tf.data.AUTOTUNE), so batches are prepared during training.",
    )
    return passed(exercise)


def check_confident_mistakes(answer: Any, probabilities: np.ndarray, labels: np.ndarray, *, threshold: float) -> str:
    """Exercise 4: how many images are predicted wrongly with a confidence above ``threshold``."""
    exercise = "Exercise 4 (confident mistakes)"
    require_answer(answer, exercise)
    value = _whole_number(answer, exercise)
    probabilities = np.asarray(probabilities)
    labels = np.asarray(labels)
    predictions = probabilities.argmax(axis=1)
    confident = probabilities.max(axis=1) > threshold
    wrong = predictions != labels
    expected = int((wrong & confident).sum())
    if value != expected:
        expect(
            value != int(wrong.sum()),
            f"{exercise}: {value} counts every mistake; keep only those whose top probability is above {threshold}.",
        )
        expect(
            value != int(confident.sum()),
            f"{exercise}: {value} counts every confident prediction, right or wrong; keep only the wrong ones.",
        )
        expect(
            value != int((~wrong & confident).sum()),
            f"{exercise}: {value} counts the confident *right* predictions; compare predictions with labels using !=.",
        )
        expect(
            value != int((wrong & ~confident).sum()),
            f"{exercise}: {value} counts the mistakes at or *below* {threshold}; use > {threshold}.",
        )
    expect(
        value == expected,
        f"{exercise}: {value} is not right; predicted digit = argmax, confidence = max of the probabilities.",
    )
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
    """Exercise 5: ``conv2d(image, kernel, stride, padding)`` in NumPy, the same numbers as Keras' ``Conv2D``."""
    exercise = "Exercise 5 (a convolution by hand)"
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
