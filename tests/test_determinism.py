"""Input pipelines with random steps give the same batches for the same seed, whatever else the machine runs.

A random step mapped in parallel (``num_parallel_calls``) draws in the order its threads happen to run,
which depends on the machine's load: notebook 04's fine-tuning gain changed sign on a busy machine that
way. Mapped in order, one seed gives one sequence of batches.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf
from conftest import busy_machine

from helpers.lessons import encoders, transfer_learning


def same_batches_quiet_and_busy(make_batches: Callable[[], list[np.ndarray]], runs: int = 3) -> None:
    quiet = make_batches()
    for _ in range(runs):
        with busy_machine():
            busy = make_batches()
        assert len(busy) == len(quiet)
        for before, after in zip(quiet, busy, strict=True):
            np.testing.assert_array_equal(before, after)


def test_04s_augmented_images_do_not_depend_on_the_machines_load() -> None:
    images = np.random.default_rng(0).random((96, 28, 28, 1)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices((images, np.zeros(96, dtype="int32"))).batch(8)

    def batches() -> list[np.ndarray]:
        return [batch.numpy() for batch, _ in transfer_learning.augmented(dataset, seed=3)]

    same_batches_quiet_and_busy(batches)


def test_09s_masked_stories_do_not_depend_on_the_machines_load() -> None:
    ids = np.random.default_rng(0).integers(len(encoders.SPECIAL_TOKENS), 500, size=(128, 32)).astype("int32")

    def batches() -> list[np.ndarray]:
        tf.random.set_seed(5)  # the random masks' ops draw from the global seed, as after seed_everything
        data = encoders.mlm_dataset(ids, 500, batch_size=8, seed=5)
        return [np.concatenate([corrupted.numpy().ravel(), chosen.numpy().ravel()]) for (corrupted, chosen), _ in data]

    same_batches_quiet_and_busy(batches)
