"""The course's reference MNIST models, for the notebooks that *use* a trained model (05, 06).

Notebook 03 teaches how these models are built and trained; notebooks 05 (metrics) and 06
(deployment) need one without repeating that lesson, so they call :func:`load_or_train_mnist`,
which loads the ``.keras`` file notebook 03 saved under ``artifacts/models/`` or, if there is
none, trains the same architecture here. ``benchmarks/mnist.py`` trains with the same code.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from helpers.mode import by_mode
from helpers.paths import artifacts_dir

if TYPE_CHECKING:
    import keras

ModelKind = Literal["mlp", "cnn"]
MODEL_KINDS: tuple[ModelKind, ...] = ("mlp", "cnn")


def mnist_model_path(kind: ModelKind) -> Path:
    """Where notebook 03 saves (and notebooks 05/06 look for) the trained model of ``kind``."""
    check_kind(kind)
    return artifacts_dir("models") / f"mnist_{kind}.keras"


def check_kind(kind: str) -> None:
    """Raise a clear error unless ``kind`` is one of :data:`MODEL_KINDS`."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"Unknown MNIST model kind {kind!r}: use one of {MODEL_KINDS}")


def build_mnist_model(kind: ModelKind) -> keras.Model:
    """An untrained MNIST classifier taking raw 0-255 pixels (batch, 28, 28), giving 10 probabilities."""
    import keras

    check_kind(kind)
    layers = keras.layers
    if kind == "mlp":
        body = [
            layers.Flatten(),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.2),
        ]
    else:
        body = [
            layers.Reshape((28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dropout(0.4),
            layers.Dense(128, activation="relu"),
        ]
    model = keras.Sequential(
        [
            keras.Input((28, 28), name="pixels"),
            layers.Rescaling(1 / 255),
            *body,
            layers.Dense(10, activation="softmax"),
        ],
        name=f"mnist_{kind}",
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train_mnist_model(kind: ModelKind, mode: str, *, verbose: int = 0) -> keras.Model:
    """Build and train a ``kind`` model on MNIST for ``mode`` (fast: a subset, few epochs)."""
    import tensorflow as tf

    from helpers.data import load_mnist

    (x_train, y_train), _ = load_mnist()
    train_size = by_mode(mode, fast=6000, full=len(x_train))
    epochs = by_mode(mode, fast=2, full=10)
    dataset = (
        tf.data.Dataset.from_tensor_slices((x_train[:train_size], y_train[:train_size]))
        .shuffle(train_size, seed=0)
        .batch(128)
        .prefetch(tf.data.AUTOTUNE)
    )
    model = build_mnist_model(kind)
    model.fit(dataset, epochs=epochs, verbose=verbose)
    return model


def load_or_train_mnist(kind: ModelKind, mode: str) -> tuple[keras.Model, str]:
    """The trained ``kind`` model and a sentence saying where it came from (loaded or trained now)."""
    import keras

    path = mnist_model_path(kind)
    if path.is_file():
        return keras.models.load_model(path), f"loaded {path} (saved by notebook 03)"
    model = train_mnist_model(kind, mode)
    model.save(path)
    return model, f"trained here in {mode} mode (notebook 03 had not saved {path.name}); saved to {path}"
