"""Transfer learning on MNIST: pretrain on digits 0-4, then learn digits 5-9 from a few labels.

Notebook 04 and ``benchmarks/transfer.py`` run this same code, so the benchmark measures exactly
what the notebook teaches; the notebook shows the source of the parts that are its lesson
(:func:`residual_block`, :func:`build_small_resnet`, :func:`augmentation`, :func:`fit_transfer`).

* data: :func:`select_digits` (a task made of some digits, ``N`` labels per class),
  :func:`write_image_folders` (a class-per-folder tree of PNG files), :func:`array_dataset`;
* models: :func:`residual_block`, :func:`build_small_resnet`, :func:`classifier`;
* training: :func:`pretrain`, :func:`fit_transfer` (feature extraction, then fine-tuning, of any
  :class:`Backbone`: the course's small ResNet or ImageNet's ResNet50) and :func:`train_from_scratch`;
* reporting: :func:`comparison_table`, :func:`plot_comparison`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from helpers.mode import by_mode
from helpers.paths import artifacts_dir
from helpers.timing import stopwatch

if TYPE_CHECKING:
    import keras
    import pandas as pd
    import tensorflow as tf
    from matplotlib.figure import Figure

SOURCE_DIGITS = (0, 1, 2, 3, 4)
TARGET_DIGITS = (5, 6, 7, 8, 9)
TARGET_CLASS_NAMES = tuple(str(digit) for digit in TARGET_DIGITS)  # folder names, sorted like the labels
BACKBONE_NAME = "small_resnet"
# Keras' default BatchNormalization momentum (0.99) needs thousands of steps before the moving
# statistics used at test time match the data: after a short training the test accuracy is at
# chance while the training accuracy reads 100 %. With 0.9 they settle within a few dozen steps.
BN_MOMENTUM = 0.9


@dataclass(frozen=True)
class Plan:
    """Sizes, epochs and learning rates of the experiment, for one mode."""

    source_train_size: int | None  # training images of digits 0-4 for pretraining (None: all, ~30 600)
    source_epochs: int
    labels_per_class: int  # labelled training images of each target digit
    target_test_size: int | None  # test images of digits 5-9 (None: all, ~4 860)
    head_epochs: int  # feature extraction: the new head on the frozen backbone's features
    fine_tune_epochs: int
    scratch_epochs: int  # the same as fine_tune_epochs: the same training budget on the target task
    batch_size: int = 32
    source_learning_rate: float = 3e-3  # the start of a cosine decay to 0, like all the trainings here
    head_learning_rate: float = 3e-3
    fine_tune_learning_rate: float = 3e-3  # the start of a cosine decay to 0
    scratch_learning_rate: float = 3e-3  # the same recipe as fine-tuning: only the starting weights differ


DEFAULT_LABELS_PER_CLASS = 50


def plan(mode: str, labels_per_class: int = DEFAULT_LABELS_PER_CLASS) -> Plan:
    """The experiment of ``mode``: fast (about 30 s of training on 2 cores) or full.

    With other than 50 ``labels_per_class`` the target-task epochs scale with 1 / labels, so that
    every label count gets about the same number of training steps (10 labels: 5× the epochs).
    """
    if labels_per_class < 1:
        raise ValueError(f"labels_per_class must be at least 1, got {labels_per_class}")
    scale = DEFAULT_LABELS_PER_CLASS / labels_per_class
    return Plan(
        source_train_size=by_mode(mode, fast=12000, full=None),
        source_epochs=by_mode(mode, fast=1, full=3),
        labels_per_class=labels_per_class,
        target_test_size=by_mode(mode, fast=2000, full=None),
        head_epochs=round(by_mode(mode, fast=30, full=60) * scale),
        fine_tune_epochs=round(by_mode(mode, fast=10, full=15) * scale),
        scratch_epochs=round(by_mode(mode, fast=10, full=15) * scale),
    )


# ----------------------------------------------------------------------------------------- data


def select_digits(
    images: np.ndarray,
    labels: np.ndarray,
    digits: Sequence[int],
    *,
    per_class: int | None = None,
    limit: int | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The images of ``digits``, shuffled, with labels renumbered 0, 1, ... in the order of ``digits``.

    ``per_class=50`` keeps 50 randomly chosen images of each digit (a few-label task); ``limit``
    keeps a random subset of that size instead.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"got {len(images)} images but {len(labels)} labels")
    if per_class is not None and limit is not None:
        raise ValueError("give per_class or limit, not both")
    rng = np.random.default_rng(seed)
    chosen = []
    for digit in digits:
        where = np.flatnonzero(labels == digit)
        if per_class is not None:
            if len(where) < per_class:
                raise ValueError(f"only {len(where)} images of digit {digit}, asked for {per_class} per class")
            where = rng.choice(where, per_class, replace=False)
        chosen.append(where)
    order = rng.permutation(np.concatenate(chosen))[:limit]
    new_label = {digit: index for index, digit in enumerate(digits)}
    return images[order], np.array([new_label[label] for label in labels[order].tolist()], dtype=np.int64)


@dataclass(frozen=True)
class DigitTasks:
    """The source task (digits 0-4, many labels) and the target task (digits 5-9, few labels)."""

    source_train: tuple[np.ndarray, np.ndarray]
    source_test: tuple[np.ndarray, np.ndarray]
    target_train: tuple[np.ndarray, np.ndarray]
    target_test: tuple[np.ndarray, np.ndarray]


def digit_tasks(plan: Plan, *, seed: int = 0) -> DigitTasks:
    """MNIST split into the source and target tasks of ``plan``; labels renumbered 0-4 in each."""
    from helpers.data import load_mnist

    (x_train, y_train), (x_test, y_test) = load_mnist()
    return DigitTasks(
        source_train=select_digits(x_train, y_train, SOURCE_DIGITS, limit=plan.source_train_size, seed=seed),
        source_test=select_digits(x_test, y_test, SOURCE_DIGITS, seed=seed),
        target_train=select_digits(x_train, y_train, TARGET_DIGITS, per_class=plan.labels_per_class, seed=seed),
        target_test=select_digits(x_test, y_test, TARGET_DIGITS, limit=plan.target_test_size, seed=seed),
    )


def write_image_folders(
    images: np.ndarray, labels: np.ndarray, class_names: Sequence[str], root: Path, *, overwrite: bool = False
) -> Path:
    """Write grey ``images`` (N, H, W) uint8 as PNG files ``root/<class name>/<index>.png``; returns ``root``.

    That is the layout ``keras.utils.image_dataset_from_directory`` reads: one folder per class.
    An existing non-empty ``root`` is an error unless ``overwrite=True``, which replaces it.
    """
    from PIL import Image

    root = Path(root)
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"expected grey uint8 images of shape (N, H, W), got {images.dtype} {images.shape}")
    if len(images) != len(labels) or not len(images):
        raise ValueError(f"expected as many labels as images (at least one), got {len(images)} and {len(labels)}")
    if labels.min() < 0 or labels.max() >= len(class_names):
        raise ValueError(
            f"labels must index class_names (0..{len(class_names) - 1}), got {labels.min()}..{labels.max()}"
        )
    if root.exists() and any(root.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{root} is not empty: pass overwrite=True to replace it")
        shutil.rmtree(root)
    for name in class_names:
        (root / name).mkdir(parents=True, exist_ok=True)
    for index, (image, label) in enumerate(zip(images, labels, strict=True)):
        Image.fromarray(image).save(root / class_names[label] / f"{index:05d}.png")
    return root


def array_dataset(
    images: np.ndarray, labels: np.ndarray, batch_size: int, *, shuffle_seed: int | None = None
) -> tf.data.Dataset:
    """Batches of (float32 images (H, W, 1) with 0-255 pixels, labels): what the folder loader gives."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((np.asarray(images, dtype=np.float32)[..., None], labels))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(images), seed=shuffle_seed)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def source_model_path() -> Path:
    """Where notebook 04 saves the classifier pretrained on the source digits."""
    return artifacts_dir("models") / "transfer_source_resnet.keras"


# --------------------------------------------------------------------------------------- models


def residual_block(x: keras.KerasTensor, filters: int, *, stride: int = 1, name: str) -> keras.KerasTensor:
    """Two 3×3 convolutions whose output is *added* to the block's input, the shortcut.

    The shortcut is the identity when the shapes already match. When the block halves the image
    (``stride=2``) or changes the number of channels, it is a projection instead: a strided 1×1
    convolution that gives the input the new shape.
    """
    from keras import layers

    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    y = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn1")(y)
    y = layers.ReLU(name=f"{name}_relu1")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn2")(y)
    shortcut = x  # identity shortcut
    if stride != 1 or x.shape[-1] != filters:  # projection shortcut
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_projection")(x)
        shortcut = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_projection_bn")(shortcut)
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([y, shortcut]))


def build_small_resnet(
    input_shape: tuple[int, int, int] = (28, 28, 1), widths: Sequence[int] = (16, 32, 64), *, name: str = BACKBONE_NAME
) -> keras.Model:
    """A small ResNet backbone: raw 0-255 pixels in, one feature vector (``widths[-1]`` numbers) out.

    A 3×3 stem, then one residual block per stage; every stage after the first halves the image and
    widens the channels (28×28×16 → 14×14×32 → 7×7×64), then global average pooling.
    """
    import keras
    from keras import layers

    inputs = keras.Input(input_shape, name="pixels")
    x = layers.Rescaling(1 / 255, name="scale")(inputs)
    x = layers.Conv2D(widths[0], 3, padding="same", use_bias=False, name="stem_conv")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    for stage, filters in enumerate(widths):
        x = residual_block(x, filters, stride=1 if stage == 0 else 2, name=f"stage{stage + 1}")
    features = layers.GlobalAveragePooling2D(name="features")(x)
    return keras.Model(inputs, features, name=name)


def augmentation(seed: int | None = None) -> keras.Sequential:
    """Small random rotations, shifts and zooms: a new version of each training image every epoch.

    No flips: a mirrored 7 is not a 7. New pixels are filled with 0, the black background.
    """
    import keras
    from keras import layers

    return keras.Sequential(
        [
            layers.RandomRotation(0.05, fill_mode="constant", seed=seed),
            layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed),
            layers.RandomZoom(0.1, fill_mode="constant", seed=seed),
        ],
        name="augmentation",
    )


def augmented(dataset: tf.data.Dataset, seed: int | None = None) -> tf.data.Dataset:
    """``dataset`` with :func:`augmentation` applied to its images (in the input pipeline, on the CPU)."""
    import tensorflow as tf

    augment = augmentation(seed)

    def apply(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return augment(images, training=True), labels

    return dataset.map(apply, num_parallel_calls=tf.data.AUTOTUNE)


def classifier(backbone: keras.Model, num_classes: int, *, name: str = "classifier") -> keras.Model:
    """``backbone`` followed by a new softmax head of ``num_classes``."""
    import keras

    inputs = keras.Input(backbone.input_shape[1:], name="images")
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="head")(backbone(inputs))
    return keras.Model(inputs, outputs, name=name)


def compiled(model: keras.Model, learning_rate: float, *, decay_steps: int | None = None) -> keras.Model:
    """``model`` compiled with Adam, sparse cross-entropy and accuracy.

    With ``decay_steps`` the learning rate follows a cosine from ``learning_rate`` down to 0 over
    that many steps: big steps first, then small ones that settle instead of jumping around.
    """
    import keras

    rate = learning_rate if decay_steps is None else keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps)
    model.compile(optimizer=keras.optimizers.Adam(rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def steps(dataset: tf.data.Dataset, epochs: int) -> int | None:
    """Training steps in ``epochs`` passes over the batched ``dataset`` (None if its length is unknown)."""
    batches = int(dataset.cardinality())
    return batches * epochs if batches > 0 and epochs > 0 else None


# ------------------------------------------------------------------------------------- training


def identity(images: Any) -> Any:
    """No preprocessing: the course's backbone rescales raw pixels itself."""
    return images


@dataclass
class Backbone:
    """A feature extractor and what it needs: image size, colour mode, preprocessing, provenance."""

    model: keras.Model  # preprocessed images -> one feature vector each
    description: str  # plain words: which weights this backbone carries
    image_size: tuple[int, int]
    color_mode: str  # "grayscale" or "rgb", as image_dataset_from_directory and load_img name them
    preprocess: Callable[[Any], Any] = identity  # batch of raw 0-255 pixels -> the model's input
    fine_tune_prefix: str | None = None  # fine-tune only the layers whose names start with this (None: all)
    # Keep BatchNormalization frozen while fine-tuning: needed when its momentum is slow (Keras'
    # default 0.99, e.g. ResNet50), since a few hundred fine-tuning steps cannot update its
    # statistics. The course backbone (momentum 0.9) adapts its statistics to the new task instead.
    freeze_batchnorm: bool = False


def course_backbone(model: keras.Model, description: str) -> Backbone:
    """A :class:`Backbone` for the course's small ResNet (28×28 grey images, raw pixels)."""
    return Backbone(model=model, description=description, image_size=(28, 28), color_mode="grayscale")


def load_pretrained_backbone(path: Path | None = None) -> Backbone:
    """The small ResNet pretrained on digits 0-4, freshly loaded from the classifier saved at ``path``."""
    import keras

    path = Path(path or source_model_path())
    if not path.is_file():
        raise FileNotFoundError(f"no pretrained model at {path}: run the pretraining step of notebook 04 first")
    model = keras.models.load_model(path).get_layer(BACKBONE_NAME)
    return course_backbone(model, f"course small ResNet pretrained on MNIST digits 0-4 ({path.name})")


@dataclass
class TransferResult:
    """Test accuracies and seconds of feature extraction and fine-tuning of one backbone."""

    backbone: str
    frozen_accuracy: float
    frozen_seconds: float
    fine_tuned_accuracy: float | None = None
    fine_tune_seconds: float | None = None
    model: keras.Model | None = field(default=None, repr=False)  # backbone + head, after fine-tuning


def pretrain(
    backbone: keras.Model, train: tf.data.Dataset, num_classes: int, plan: Plan, *, seed: int = 0
) -> keras.Model:
    """Train ``backbone`` plus a softmax head on the (augmented) source task; returns the classifier."""
    model = classifier(backbone, num_classes, name="source_classifier")
    compiled(model, plan.source_learning_rate, decay_steps=steps(train, plan.source_epochs)).fit(
        augmented(train, seed), epochs=plan.source_epochs, shuffle=False, verbose=0
    )
    return model


def set_fine_tunable(model: keras.Model, prefix: str | None, *, freeze_batchnorm: bool = False) -> list[str]:
    """Unfreeze ``model``'s layers whose names start with ``prefix`` (all if None); returns their names.

    ``freeze_batchnorm=True`` keeps the BatchNormalization layers frozen. In Keras 3 a frozen
    BatchNormalization layer runs in inference mode: it keeps normalising with the statistics it
    learnt in pretraining. (Calling the backbone with ``training=False`` inside a functional model
    is *not* enough in Keras 3: the ``training`` flag of ``fit`` overrides it.)
    """
    import keras

    model.trainable = True
    chosen = [layer.name for layer in model.layers if prefix is None or layer.name.startswith(prefix)]
    if not chosen:
        raise ValueError(f"{model.name} has no layer whose name starts with {prefix!r}")
    for layer in model.layers:
        is_batchnorm = isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = layer.name in chosen and not (freeze_batchnorm and is_batchnorm)
    return chosen


def extract_features(model: keras.Model, dataset: tf.data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Run ``model`` (inference mode) once over ``dataset``: (features, labels), in matching order.

    One pass gives both, so a dataset that reshuffles on every pass cannot mix up the pairs.
    """
    features, labels = [], []
    for images, batch_labels in dataset:
        features.append(model.predict_on_batch(images))  # inference mode, compiled once per model
        labels.append(batch_labels.numpy())
    return np.concatenate(features), np.concatenate(labels)


def fit_transfer(
    backbone: Backbone,
    train: tf.data.Dataset,
    test: tf.data.Dataset,
    num_classes: int,
    plan: Plan,
    *,
    fine_tune: bool = True,
    seed: int = 0,
) -> TransferResult:
    """Feature extraction, then fine-tuning, of any ``backbone`` on a new task.

    ``train`` and ``test`` yield batches of raw 0-255 images of ``backbone.image_size`` and labels.

    1. Feature extraction: the frozen backbone turns each training image into a feature vector
       *once*; a new head (standardise the features, then softmax) learns from those vectors.
    2. Fine-tuning: backbone + trained head as one model; the backbone (or its layers named
       ``backbone.fine_tune_prefix...``) is unfrozen and trained on augmented images with a
       decaying learning rate. Its BatchNormalization statistics adapt to the new images, or stay
       frozen if ``backbone.freeze_batchnorm`` (see :func:`set_fine_tunable`).
    """
    import keras
    import tensorflow as tf

    def preprocessed(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return backbone.preprocess(images), labels

    backbone.model.trainable = False
    test_inputs = test.map(preprocessed)
    with stopwatch() as frozen_seconds:
        features, labels = extract_features(backbone.model, train.map(preprocessed))
        standardise = keras.layers.Normalization(name="standardise")
        standardise.adapt(features)
        head = keras.Sequential(
            [keras.Input(features.shape[1:]), standardise, keras.layers.Dense(num_classes, activation="softmax")],
            name="head",
        )
        feature_batches = tf.data.Dataset.from_tensor_slices((features, labels)).shuffle(len(labels), seed=seed)
        compiled(head, plan.head_learning_rate).fit(
            feature_batches.batch(plan.batch_size), epochs=plan.head_epochs, shuffle=False, verbose=0
        )
        inputs = keras.Input(backbone.model.input_shape[1:], name="images")
        model = keras.Model(inputs, head(backbone.model(inputs)), name="transfer_classifier")
        frozen_accuracy = compiled(model, plan.head_learning_rate).evaluate(test_inputs, verbose=0)[1]
    result = TransferResult(backbone.description, float(frozen_accuracy), frozen_seconds())
    if not fine_tune:
        return result
    with stopwatch() as fine_tune_seconds:
        set_fine_tunable(backbone.model, backbone.fine_tune_prefix, freeze_batchnorm=backbone.freeze_batchnorm)
        compiled(model, plan.fine_tune_learning_rate, decay_steps=steps(train, plan.fine_tune_epochs)).fit(
            augmented(train, seed).map(preprocessed), epochs=plan.fine_tune_epochs, shuffle=False, verbose=0
        )
        result.fine_tuned_accuracy = float(model.evaluate(test_inputs, verbose=0)[1])
    result.fine_tune_seconds = fine_tune_seconds()
    result.model = model
    return result


def train_from_scratch(
    backbone: keras.Model, train: tf.data.Dataset, test: tf.data.Dataset, num_classes: int, plan: Plan, *, seed: int = 0
) -> tuple[float, float]:
    """Train a fresh ``backbone`` plus a head on the augmented target task: (test accuracy, seconds).

    The recipe of fine-tuning (augmentation, epochs, learning rate and its decay); only the
    starting weights differ.
    """
    with stopwatch() as seconds:
        model = compiled(
            classifier(backbone, num_classes),
            plan.scratch_learning_rate,
            decay_steps=steps(train, plan.scratch_epochs),
        )
        model.fit(augmented(train, seed), epochs=plan.scratch_epochs, shuffle=False, verbose=0)
        accuracy = float(model.evaluate(test, verbose=0)[1])
    return accuracy, seconds()


# ------------------------------------------------------------------------------------ reporting

METHODS = {
    "frozen": "pretrained backbone, frozen; new head",
    "fine-tuned": "pretrained backbone, then fine-tuned",
    "scratch": "same network from random weights, same epochs",
    "random-frozen": "random backbone, frozen; new head",
}


def comparison_table(
    pretrained: TransferResult, scratch: tuple[float, float], random_frozen: TransferResult
) -> pd.DataFrame:
    """One row per method (frozen, fine-tuned, scratch, random-frozen): test accuracy and training seconds.

    The fine-tuned row's seconds include the feature extraction that came before it.
    """
    import pandas as pd

    if pretrained.fine_tuned_accuracy is None or pretrained.fine_tune_seconds is None:
        raise ValueError("the pretrained backbone's result has no fine-tuning: call fit_transfer(..., fine_tune=True)")
    rows = {
        "frozen": (pretrained.frozen_accuracy, pretrained.frozen_seconds),
        "fine-tuned": (pretrained.fine_tuned_accuracy, pretrained.frozen_seconds + pretrained.fine_tune_seconds),
        "scratch": scratch,
        "random-frozen": (random_frozen.frozen_accuracy, random_frozen.frozen_seconds),
    }
    table = pd.DataFrame(
        [(METHODS[key], accuracy, seconds) for key, (accuracy, seconds) in rows.items()],
        index=pd.Index(list(rows), name="method"),
        columns=["what", "test accuracy", "seconds"],
    )
    return table.round({"test accuracy": 4, "seconds": 1})


def plot_comparison(table: pd.DataFrame, *, title: str = "") -> Figure:
    """Bar chart of the table's test accuracies, each bar labelled with its value and seconds."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 3))
    bars = axis.barh(table.index[::-1], table["test accuracy"][::-1], color=["#bbb", "#8ab", "#2a7", "#7ad"])
    for bar, (accuracy, seconds) in zip(bars, table[["test accuracy", "seconds"]].to_numpy()[::-1], strict=True):
        axis.text(
            bar.get_width() - 0.01,
            bar.get_y() + bar.get_height() / 2,
            f"{accuracy:.1%}  ({seconds:.0f} s)",
            ha="right",
            va="center",
            fontsize=9,
        )
    axis.set_xlim(0, 1)
    axis.set_xlabel("test accuracy on digits 5-9")
    axis.set_title(title)
    figure.tight_layout()
    return figure
