"""Notebook 03's build exercise 3, a compact CNN: a right answer passes, typical mistakes fail with a reason."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from helpers.checks import mnist
from helpers.exercises import ExerciseIncorrect, NotAnswered

BUDGET = 20_000
TRAIN_IMAGES = 6_000  # small sizes keep the tests fast; the notebook trains on 10 000 images for 3 epochs
EPOCHS = 2
MIN_ACCURACY = 0.75  # the right answer below: 85.3-88.7 % test accuracy with these sizes (seeds 42, 1, 2)


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from helpers.datasets.registry import load_mnist

    (x_train, y_train), (x_test, y_test) = load_mnist()
    return x_train[:TRAIN_IMAGES], y_train[:TRAIN_IMAGES], x_test[:2000], y_test[:2000]


def compact_cnn(
    *, momentum: float = 0.9, widths: tuple[int, ...] = (16, 32, 32), softmax: bool = True, padding: str = "valid"
):
    """A builder of small CNNs: 3×3 convolutions with BatchNormalization, max-pooling, then a global pooling."""

    def build() -> keras.Model:
        x = inputs = keras.Input((28, 28))
        x = keras.layers.Reshape((28, 28, 1))(keras.layers.Rescaling(1 / 255)(x))
        for i, width in enumerate(widths):
            x = keras.layers.Conv2D(width, 3, padding=padding, use_bias=False)(x)
            x = keras.layers.ReLU()(keras.layers.BatchNormalization(momentum=momentum)(x))
            if i < len(widths) - 1:
                x = keras.layers.MaxPooling2D()(x)
        x = keras.layers.GlobalAveragePooling2D()(x)
        outputs = keras.layers.Dense(10, activation="softmax" if softmax else None)(x)
        return keras.Model(inputs, outputs)

    return build


def run_check(answer, digits, *, images: int = TRAIN_IMAGES, epochs: int = EPOCHS) -> str:
    train_images, labels, test_images, test_labels = digits
    return mnist.check_compact_cnn(
        answer,
        train_images[:images],
        labels[:images],
        test_images,
        test_labels,
        parameter_budget=BUDGET,
        epochs=epochs,
        min_accuracy=MIN_ACCURACY,
    )


def test_a_compact_cnn_passes(digits) -> None:
    assert "correct" in run_check(compact_cnn(), digits)


def frozen() -> keras.Model:
    model = compact_cnn()()
    model.trainable = False
    return model


def dense_only() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Flatten(),
            keras.layers.BatchNormalization(),
            keras.layers.Dense(20, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def constant() -> keras.Model:
    """A CNN whose output ignores the image: the convolutions' sum is multiplied by zero."""
    inputs = keras.Input((28, 28))
    x = keras.layers.Reshape((28, 28, 1))(inputs)
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(8, 3)(x))
    x = keras.layers.Lambda(lambda t: t * 0.0)(x)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax", bias_initializer="random_normal")(x))


def test_typical_mistakes_fail_before_training(digits) -> None:
    from helpers.lessons.mnist import build_cnn

    mistakes = {
        "over the budget": build_cnn,
        "has no convolution": dense_only,
        "not probabilities": compact_cnn(softmax=False),
        "no trainable weights": frozen,
        "same probabilities for every image": constant,
        "neither BatchNormalization nor GlobalAveragePooling2D": lambda: keras.Sequential(
            [
                keras.Input((28, 28)),
                keras.layers.Reshape((28, 28, 1)),
                keras.layers.Conv2D(8, 5, strides=3, activation="relu"),
                keras.layers.Flatten(),
                keras.layers.Dense(10, activation="softmax"),
            ]
        ),
        r"keras.Input\(\(28, 28\)\)": lambda: keras.Sequential(
            [
                keras.Input((28, 28, 1)),
                keras.layers.Conv2D(8, 3),
                keras.layers.GlobalAveragePooling2D(),
                keras.layers.Dense(10, activation="softmax"),
            ]
        ),
        "should return a keras.Model": lambda: "a model",
        "should be the function": compact_cnn()(),
    }
    for message, answer in mistakes.items():
        with pytest.raises(ExerciseIncorrect, match=message):
            run_check(answer, digits)
    with pytest.raises(NotAnswered):
        run_check(None, digits)


def test_a_model_that_does_not_learn_enough_fails_on_accuracy(digits) -> None:
    # 2,000 images for one epoch: these models stay far below the bound with any budget, so a short run shows it
    with pytest.raises(ExerciseIncorrect, match=r"momentum=0\.9"):  # BatchNormalization's default momentum 0.99
        run_check(compact_cnn(momentum=0.99), digits, images=2000, epochs=1)
    with pytest.raises(ExerciseIncorrect, match=r"at least 75% expected\. A few 3×3 convolutions"):
        run_check(compact_cnn(widths=(1,)), digits, images=2000, epochs=1)  # one filter: far too small
