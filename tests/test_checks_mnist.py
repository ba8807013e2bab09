"""Notebook 03's exercise checks: reference answers pass, typical wrong answers fail with a reason."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.checks import mnist
from helpers.exercises import ExerciseIncorrect, NotAnswered

BATCH = 8


@pytest.fixture(scope="module")
def small_set() -> tuple[np.ndarray, np.ndarray]:
    """40 distinct 28×28 'images' (each a different constant) and balanced labels."""
    images = np.repeat(np.arange(40, dtype=np.uint8), 28 * 28).reshape(40, 28, 28)
    labels = np.arange(40) % 10
    return images, labels


def test_none_is_not_answered(small_set) -> None:
    images, labels = small_set
    probabilities = np.eye(10)[labels]
    for call in (
        lambda: mnist.check_dense_parameters(None),
        lambda: mnist.check_conv_output_shape(None),
        lambda: mnist.check_shuffled_pipeline(None, images, labels, batch_size=BATCH),
        lambda: mnist.check_confident_mistakes(None, probabilities, labels, threshold=0.9),
    ):
        with pytest.raises(NotAnswered):
            call()


def test_dense_parameters() -> None:
    assert "correct" in mnist.check_dense_parameters(784 * 128 + 128)
    assert "correct" in mnist.check_dense_parameters(np.int64(100480))
    with pytest.raises(ExerciseIncorrect, match="not the biases"):
        mnist.check_dense_parameters(784 * 128)
    with pytest.raises(ExerciseIncorrect, match="whole model"):
        mnist.check_dense_parameters(101770)
    with pytest.raises(ExerciseIncorrect, match="layer size"):
        mnist.check_dense_parameters(128)
    with pytest.raises(ExerciseIncorrect, match="not right"):
        mnist.check_dense_parameters(785 * 129)
    with pytest.raises(ExerciseIncorrect, match="one whole number"):
        mnist.check_dense_parameters("100480")
    with pytest.raises(ExerciseIncorrect, match="one whole number"):
        mnist.check_dense_parameters(100480.5)


def test_conv_output_shape() -> None:
    assert "correct" in mnist.check_conv_output_shape((12, 12, 32))
    assert "correct" in mnist.check_conv_output_shape((None, 12, 12, 32))  # Keras' output_shape with the batch
    assert "correct" in mnist.check_conv_output_shape([12, 12, 32])
    with pytest.raises(ExerciseIncorrect, match="halves"):
        mnist.check_conv_output_shape((24, 24, 32))
    with pytest.raises(ExerciseIncorrect, match="padding='same'"):
        mnist.check_conv_output_shape((14, 14, 32))
    with pytest.raises(ExerciseIncorrect, match="3×3 kernel"):
        mnist.check_conv_output_shape((13, 13, 32))
    with pytest.raises(ExerciseIncorrect, match="one channel per filter"):
        mnist.check_conv_output_shape((12, 12, 1))
    with pytest.raises(ExerciseIncorrect, match="three numbers"):
        mnist.check_conv_output_shape((12, 12))
    with pytest.raises(ExerciseIncorrect, match="three numbers"):
        mnist.check_conv_output_shape(12)


def test_shuffled_pipeline_reference_passes(small_set) -> None:
    import tensorflow as tf

    images, labels = small_set
    answer = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(40, seed=1).batch(BATCH).prefetch(2)
    assert "correct" in mnist.check_shuffled_pipeline(answer, images, labels, batch_size=BATCH)


def test_shuffled_pipeline_typical_mistakes(small_set) -> None:
    import tensorflow as tf

    images, labels = small_set
    source = tf.data.Dataset.from_tensor_slices((images, labels))
    wrong = {
        "nothing is shuffled": source.batch(BATCH).prefetch(2),
        "shuffled after batching": source.batch(BATCH).shuffle(5, seed=3).prefetch(2),
        "prefetch": source.shuffle(40, seed=1).batch(BATCH),
        "holds 4": source.shuffle(40, seed=1).batch(4).prefetch(2),
        "each of the 40 examples once": source.shuffle(40, seed=1).repeat(2).batch(BATCH).prefetch(2),
        "forget to batch": source.shuffle(40, seed=1).prefetch(2),
        "pair": tf.data.Dataset.from_tensor_slices(images).shuffle(40, seed=1).batch(BATCH).prefetch(2),
    }
    for message, answer in wrong.items():
        with pytest.raises(ExerciseIncorrect, match=message):
            mnist.check_shuffled_pipeline(answer, images, labels, batch_size=BATCH)
    with pytest.raises(ExerciseIncorrect, match=r"tf\.data\.Dataset"):
        mnist.check_shuffled_pipeline((images, labels), images, labels, batch_size=BATCH)


def test_shuffled_pipeline_spots_batch_then_shuffle_even_if_the_first_batch_comes_first(small_set) -> None:
    import tensorflow as tf

    images, labels = small_set
    batches = tf.data.Dataset.from_tensor_slices((images, labels)).batch(BATCH)
    first_stays_first = batches.take(1).concatenate(batches.skip(1).shuffle(4, seed=0)).prefetch(2)
    with pytest.raises(ExerciseIncorrect, match="after batching"):
        mnist.check_shuffled_pipeline(first_stays_first, images, labels, batch_size=BATCH)
    for seed in range(3):
        with pytest.raises(ExerciseIncorrect, match="after batching"):
            mnist.check_shuffled_pipeline(batches.shuffle(5, seed=seed).prefetch(2), images, labels, batch_size=BATCH)


def test_confident_mistakes() -> None:
    labels = np.array([0, 1, 2, 3, 4, 5])
    probabilities = np.full((6, 10), 0.01)
    # images: 0 confident right, 1 confident wrong, 2 unsure wrong, 3 confident wrong, 4 unsure right,
    # 5 wrong at exactly the threshold (not above it)
    predicted = [0, 7, 8, 9, 4, 6]
    confidence = [0.95, 0.99, 0.5, 0.91, 0.6, 0.9]
    for row, (label, value) in enumerate(zip(predicted, confidence, strict=True)):
        probabilities[row, label] = value
    assert "correct" in mnist.check_confident_mistakes(2, probabilities, labels, threshold=0.9)
    wrong_answers = {
        4: "counts every mistake",
        3: "right or wrong",
        1: r"confident \*right\*",
        5: "not right",
        (2,): "one whole number",
    }
    for answer, message in wrong_answers.items():
        with pytest.raises(ExerciseIncorrect, match=message):
            mnist.check_confident_mistakes(answer, probabilities, labels, threshold=0.9)
