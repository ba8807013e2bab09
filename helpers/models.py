"""The course's reference MNIST models and the one recipe that trains them.

Notebook 03 teaches how these models are built and trained and saves them under
``artifacts/models/``; notebooks 05 (metrics) and 06 (deployment) need a trained model without
repeating that lesson, so they call :func:`load_or_train_mnist`, which loads the ``.keras`` file
notebook 03 saved or, if there is none, trains the same architecture with the same recipe here.
``benchmarks/mnist.py`` trains with this code too, so its figures measure what the notebook teaches.

The recipe (full mode, the whole 60 000-image training set, float32 on CPU or GPU):

* MLP: two hidden layers of 512 ReLU units with 30 % dropout; Adam, batch 256, learning rate
  2e-3 decayed to 0 along a cosine over 12 epochs.
* CNN: two 5×5 convolutions (32 and 64 filters) each followed by 2×2 max-pooling, then a 128-unit
  dense layer, 30 % dropout; Adam, batch 128, learning rate 2e-3 with the same cosine decay, 12 epochs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from helpers.mode import by_mode
from helpers.paths import artifacts_dir
from helpers.timing import stopwatch

if TYPE_CHECKING:
    from collections.abc import Sequence

    import keras
    import tensorflow as tf

ModelKind = Literal["mlp", "cnn"]
MODEL_KINDS: tuple[ModelKind, ...] = ("mlp", "cnn")
DROPOUT = 0.3
PEAK_LEARNING_RATE = 2e-3


@dataclass(frozen=True)
class MnistRecipe:
    """How a ``kind`` model is trained in one mode: data size, epochs, batch and peak learning rate."""

    kind: ModelKind
    train_size: int
    epochs: int
    batch_size: int
    learning_rate: float

    def total_steps(self, samples: int) -> int:
        """Optimizer steps of a whole run on ``samples`` images (the length of the learning-rate decay)."""
        return -(-samples // self.batch_size) * self.epochs


def check_kind(kind: str) -> None:
    """Raise a clear error unless ``kind`` is one of :data:`MODEL_KINDS`."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"Unknown MNIST model kind {kind!r}: use one of {MODEL_KINDS}")


def mnist_recipe(kind: ModelKind, mode: str) -> MnistRecipe:
    """The training recipe of ``kind`` in ``mode`` (fast: 10 000 images and a few epochs, for CI)."""
    check_kind(kind)
    train_size = by_mode(mode, fast=10_000, full=60_000)
    if kind == "mlp":
        return MnistRecipe(
            "mlp", train_size, by_mode(mode, fast=4, full=12), batch_size=256, learning_rate=PEAK_LEARNING_RATE
        )
    return MnistRecipe(
        "cnn", train_size, by_mode(mode, fast=3, full=12), batch_size=128, learning_rate=PEAK_LEARNING_RATE
    )


def mnist_model_path(kind: ModelKind) -> Path:
    """Where notebook 03 saves (and notebooks 05/06 look for) the trained model of ``kind``."""
    check_kind(kind)
    return artifacts_dir("models") / f"mnist_{kind}.keras"


def mnist_dataset(
    images: np.ndarray, labels: np.ndarray, *, batch_size: int, shuffle_seed: int | None = None
) -> tf.data.Dataset:
    """The course's input pipeline: cache, shuffle (when ``shuffle_seed`` is given), batch, prefetch.

    ``cache`` keeps the decoded examples after the first pass; ``shuffle`` over the whole set draws
    a new order every epoch; ``batch`` lets the model process many images per step; ``prefetch``
    prepares the next batch while the current one trains. Leave ``shuffle_seed`` as ``None`` for
    evaluation, where the order must stay the order of ``labels``.
    """
    import tensorflow as tf

    if len(images) != len(labels):
        raise ValueError(f"got {len(images)} images but {len(labels)} labels")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).cache()
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(images), seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def build_mnist_model(
    kind: ModelKind, *, decay_steps: int | None = None, learning_rate: float = PEAK_LEARNING_RATE
) -> keras.Model:
    """A compiled, untrained MNIST classifier: raw 0-255 pixels (batch, 28, 28) in, 10 probabilities out.

    The optimizer is Adam at ``learning_rate``; with ``decay_steps`` the rate follows a cosine from
    that peak down to 0 over ``decay_steps`` steps (see :meth:`MnistRecipe.total_steps`).
    """
    import keras

    check_kind(kind)
    layers = keras.layers
    if kind == "mlp":
        body = [
            layers.Flatten(name="flatten"),
            layers.Dense(512, activation="relu", name="hidden1"),
            layers.Dropout(DROPOUT, name="dropout1"),
            layers.Dense(512, activation="relu", name="hidden2"),
            layers.Dropout(DROPOUT, name="dropout2"),
        ]
    else:
        body = [
            layers.Reshape((28, 28, 1), name="add_channel"),
            layers.Conv2D(32, 5, activation="relu", name="conv1"),
            layers.MaxPooling2D(name="pool1"),
            layers.Conv2D(64, 5, activation="relu", name="conv2"),
            layers.MaxPooling2D(name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dropout(DROPOUT, name="dropout1"),
            layers.Dense(128, activation="relu", name="hidden"),
            layers.Dropout(DROPOUT, name="dropout2"),
        ]
    model = keras.Sequential(
        [
            keras.Input((28, 28), name="pixels"),
            layers.Rescaling(1 / 255, name="scale"),
            *body,
            layers.Dense(10, activation="softmax", name="probabilities"),
        ],
        name=f"mnist_{kind}",
    )
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps) if decay_steps else learning_rate
    model.compile(
        optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


@dataclass
class MnistTraining:
    """A finished training run: the model, its per-epoch history and how long ``fit`` took."""

    model: keras.Model
    recipe: MnistRecipe
    history: dict[str, list[float]]
    train_samples: int
    seconds: float

    @property
    def epochs_run(self) -> int:
        """Epochs actually trained (fewer than the recipe's if early stopping ended the run)."""
        return len(self.history.get("loss", []))

    @property
    def samples_per_second(self) -> float:
        """Training throughput: images seen (epochs × training images) per second of ``fit``."""
        return self.train_samples * self.epochs_run / self.seconds if self.seconds > 0 else float("nan")


def fit_mnist_model(
    kind: ModelKind,
    mode: str,
    *,
    validation_size: int = 0,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    shuffle_seed: int = 0,
    verbose: int = 0,
) -> MnistTraining:
    """Train a ``kind`` model on MNIST with the recipe of ``mode`` and time ``fit`` alone.

    ``validation_size`` images are held out from the end of the training images (never the test
    set) and evaluated after each epoch, for learning curves and callbacks such as early stopping;
    that evaluation then counts in ``seconds``.
    """
    from helpers.data import load_mnist

    recipe = mnist_recipe(kind, mode)
    if not 0 <= validation_size < recipe.train_size:
        raise ValueError(f"validation_size must be between 0 and {recipe.train_size - 1}, got {validation_size}")
    (x_train, y_train), _ = load_mnist()
    fit_end = recipe.train_size - validation_size
    train = mnist_dataset(x_train[:fit_end], y_train[:fit_end], batch_size=recipe.batch_size, shuffle_seed=shuffle_seed)
    validation = None
    if validation_size:
        held_out = slice(fit_end, recipe.train_size)
        validation = mnist_dataset(x_train[held_out], y_train[held_out], batch_size=1000)
    model = build_mnist_model(kind, decay_steps=recipe.total_steps(fit_end), learning_rate=recipe.learning_rate)
    with stopwatch() as elapsed:
        history = model.fit(
            train,
            epochs=recipe.epochs,
            validation_data=validation,
            callbacks=list(callbacks),
            shuffle=False,  # the pipeline shuffles; fit's own shuffle is for NumPy arrays
            verbose=verbose,
        )
    return MnistTraining(model, recipe, dict(history.history), train_samples=fit_end, seconds=elapsed())


def train_mnist_model(kind: ModelKind, mode: str, *, verbose: int = 0) -> keras.Model:
    """Build and train a ``kind`` model on MNIST with the recipe of ``mode`` (see :func:`fit_mnist_model`)."""
    return fit_mnist_model(kind, mode, verbose=verbose).model


def load_or_train_mnist(kind: ModelKind, mode: str) -> tuple[keras.Model, str]:
    """The trained ``kind`` model and a sentence saying where it came from (loaded or trained now)."""
    import keras

    path = mnist_model_path(kind)
    if path.is_file():
        return keras.models.load_model(path), f"loaded {path} (saved by notebook 03)"
    model = train_mnist_model(kind, mode)
    model.save(path)
    return model, f"trained here in {mode} mode (notebook 03 had not saved {path.name}); saved to {path}"
