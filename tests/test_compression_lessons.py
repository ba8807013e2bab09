"""Notebook 15's lesson code (``helpers.lessons.compression``): masks remove exactly the share asked, gradual
pruning ends at its sparsity with the pruned weights at zero, structured pruning keeps what it keeps, the
distillation loss has its T² and its zero, the front is the front, and unstructured zeros shrink only the gzip file."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from helpers.lessons import compression as lesson
from helpers.lessons.mnist import build_mlp


def small_mlp(units: int = 16, seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return build_mlp(hidden_units=units, hidden_layers=2)


def digits(count: int = 512, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Noisy 'images' whose label is the one of ten pixel blocks that is bright: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count)
    images = rng.uniform(0, 60, size=(count, 784)).astype(np.float32)
    for row, label in enumerate(labels):
        images[row, 78 * label : 78 * (label + 1)] += 190
    return images.reshape(count, 28, 28), labels


def test_a_magnitude_mask_removes_exactly_the_smallest_share() -> None:
    weights = np.array([[0.5, -0.1], [3.0, -2.0], [0.01, 0.2]])
    mask = lesson.magnitude_mask(weights, 0.5)
    assert mask.shape == weights.shape and mask.sum() == 3
    assert np.array_equal(mask, [[1, 0], [1, 1], [0, 0]])
    assert lesson.magnitude_mask(weights, 0.0).all()
    with pytest.raises(ValueError, match="share of weights removed"):
        lesson.magnitude_mask(weights, 1.0)


def test_the_gradual_schedule_starts_at_zero_rises_fast_then_holds() -> None:
    values = [lesson.gradual_sparsity(step, 0.9, 10, 110) for step in range(0, 200, 10)]
    assert values[0] == values[1] == 0.0 and values[11] == pytest.approx(0.9) and values[-1] == pytest.approx(0.9)
    rises = np.diff(values[1:12])
    assert np.all(rises > 0) and np.all(np.diff(rises) < 0), "cubic: each step rises less than the last"


def test_prune_once_leaves_the_original_alone_and_zeros_each_kernel() -> None:
    model = small_mlp()
    pruned = lesson.prune_once(model, 0.75)
    assert lesson.sparsity_of(model) == 0.0
    for kernel in lesson.prunable_kernels(pruned):
        assert np.mean(kernel.numpy() == 0) == pytest.approx(0.75, abs=1 / kernel.numpy().size)


def test_gradual_pruning_ends_at_its_sparsity_and_the_optimiser_cannot_revive_a_pruned_weight() -> None:
    images, labels = digits()
    plan = lesson.compression_plan("fast")
    pruned = lesson.prune_gradually(small_mlp(), images, labels, 0.8, plan, seed=0)
    assert lesson.sparsity_of(pruned) == pytest.approx(0.8, abs=1e-3)
    zeros = [kernel.numpy() == 0 for kernel in lesson.prunable_kernels(pruned)]
    lesson.fine_tune(pruned, images, labels, epochs=1, learning_rate=1e-3, seed=0)  # no callback: weights revive
    kernels = lesson.prunable_kernels(pruned)
    revived = [np.mean(kernel.numpy()[mask] != 0) for kernel, mask in zip(kernels, zeros, strict=True)]
    assert max(revived) > 0.5, "without the callback's masks Adam moves pruned weights: the test would see it"


def test_shrinking_to_every_unit_changes_nothing_and_to_fewer_keeps_the_most_important() -> None:
    model = small_mlp(units=16)
    images, _ = digits(64)
    same = lesson.shrink_mlp(model, 16)
    np.testing.assert_allclose(same.predict(images, verbose=0), model.predict(images, verbose=0), rtol=1e-5, atol=1e-6)
    narrow = lesson.shrink_mlp(model, 4)
    assert narrow.get_layer("hidden1").kernel.shape == (784, 4) and narrow.get_layer("hidden2").kernel.shape == (4, 4)
    first, second = model.get_layer("hidden1").kernel.numpy(), model.get_layer("hidden2").kernel.numpy()
    kept = np.sort(np.argsort(-lesson.unit_importance(first, second))[:4])
    np.testing.assert_array_equal(narrow.get_layer("hidden1").kernel.numpy(), first[:, kept])


def test_the_distillation_loss_is_zero_when_the_student_matches_and_t_squared_keeps_its_gradient() -> None:
    teacher = tf.constant([[4.0, 1.0, -2.0]])
    assert float(lesson.distillation_loss(tf.constant([0]), teacher, teacher, 3.0, alpha=0.0)) == pytest.approx(0.0)
    sizes = []
    for temperature in (4.0, 8.0, 16.0):
        student = tf.Variable(tf.zeros((1, 3)))
        with tf.GradientTape() as tape:
            loss = lesson.distillation_loss(tf.constant([0]), student, teacher, temperature, alpha=0.0)
        sizes.append(float(tf.norm(tape.gradient(loss, student))))
    assert max(sizes) / min(sizes) < 1.3, f"with T² the soft gradient keeps its size as T grows: {sizes}"
    hard = lesson.distillation_loss(tf.constant([0]), teacher, teacher * 0, 2.0, alpha=1.0)
    expected = keras.losses.sparse_categorical_crossentropy(tf.constant([0]), teacher, from_logits=True)
    assert float(hard) == pytest.approx(float(expected[0]))


def test_the_front_keeps_only_models_nothing_beats() -> None:
    table = pd.DataFrame(
        {"bytes": [100, 50, 50, 10, 200], "accuracy": [0.99, 0.97, 0.95, 0.90, 0.98]}, index=list("abcde")
    )
    front = lesson.pareto_front(table)
    assert list(front.index) == ["d", "b", "a"]


def test_unstructured_zeros_shrink_the_gzip_file_but_not_the_file() -> None:
    model = small_mlp(units=64)
    pruned = lesson.prune_once(model, 0.9)
    dense_file, pruned_file = lesson.litert_bytes(model), lesson.litert_bytes(pruned)
    assert len(pruned_file) == len(dense_file)
    assert lesson.compressed_size(pruned_file) < 0.4 * lesson.compressed_size(dense_file)
    images, labels = digits(128)
    row = lesson.deployed_row("pruned", pruned_file, images, labels, repeats=3)
    assert set(row) == {"model", "bytes", "gzip bytes", "ms, 1 image", "ms, 64 images", "accuracy"}
    assert row["accuracy"] == pytest.approx(lesson.accuracy_of(pruned, images, labels), abs=0.01)


def test_both_students_learn_and_the_distilled_one_follows_its_teacher() -> None:
    images, labels = digits(1200)
    plan = lesson.compression_plan("fast")
    right = (np.eye(10)[labels] * 8.0).astype(np.float32)  # a confident teacher that is always right
    students = lesson.distil_mnist(right, images, labels, plan, seed=0)
    assert set(students) == {"hard labels", "distilled"}
    assert min(lesson.accuracy_of(student, images, labels) for student in students.values()) > 0.8
    wrong = (np.eye(10)[(labels + 1) % 10] * 8.0).astype(np.float32)  # a teacher always one digit off
    misled = lesson.distil_mnist(wrong, images, labels, plan, seed=0)["distilled"]
    assert lesson.accuracy_of(misled, images, labels) < lesson.accuracy_of(students["distilled"], images, labels) - 0.2
