"""Data for notebook 04's transfer experiment: a task made of some MNIST digits, as arrays or image folders.

* :func:`select_digits`: the images of some digits, renumbered 0, 1, ..., optionally ``N`` per class;
* :func:`write_image_folders`: a class-per-folder tree of PNG files, what
  ``keras.utils.image_dataset_from_directory`` reads;
* :func:`array_dataset`: the same batches from arrays in memory.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf


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
