"""Build-something exercises of 00, 01, 03 and 05: reference answers pass, typical mistakes fail with a reason."""

from __future__ import annotations

import random

import numpy as np
import pytest

from helpers.checks import fundamentals, metrics, mnist, setup
from helpers.exercises import ExerciseIncorrect, NotAnswered


# 00, exercise 3: reproducible draws
def reproducible_draws(seed):
    import tensorflow as tf

    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    return [random.random(), np.random.random(), float(tf.random.uniform(()))]


def numpy_not_seeded(seed):
    import tensorflow as tf

    random.seed(seed)
    tf.random.set_seed(seed)
    return [random.random(), np.random.random(), float(tf.random.uniform(()))]


def fixed_seed(seed):
    return reproducible_draws(0)


def test_reproducible_draws() -> None:
    assert "correct" in setup.check_reproducible_draws(reproducible_draws)
    with pytest.raises(ExerciseIncorrect, match="NumPy's global generator changed"):
        setup.check_reproducible_draws(numpy_not_seeded)
    with pytest.raises(ExerciseIncorrect, match="seeds 7 and 8 give the same number"):
        setup.check_reproducible_draws(fixed_seed)
    with pytest.raises(ExerciseIncorrect, match="three numbers"):
        setup.check_reproducible_draws(lambda seed: [1.0, 2.0])
    with pytest.raises(NotAnswered):
        setup.check_reproducible_draws(None)


# 01, exercise 5: cross-entropy from logits
def stable_loss(labels, logits):
    z = np.asarray(logits, dtype=np.float64)
    top = z.max(axis=1, keepdims=True)
    log_sum_exp = top[:, 0] + np.log(np.exp(z - top).sum(axis=1))
    return np.mean(log_sum_exp - z[np.arange(len(labels)), labels])


def naive_loss(labels, logits):
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(labels)), labels]))


def clipped_loss(labels, logits):
    z = np.asarray(logits, dtype=np.float64)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p = np.clip(p / p.sum(axis=1, keepdims=True), 1e-7, 1 - 1e-7)
    return -np.mean(np.log(p[np.arange(len(labels)), labels]))


def test_stable_cross_entropy() -> None:
    import keras

    assert "correct" in fundamentals.check_stable_cross_entropy(stable_loss)
    keras_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    assert "correct" in fundamentals.check_stable_cross_entropy(lambda y, z: float(keras_loss(y, z)))
    with pytest.raises(ExerciseIncorrect, match="overflows"):
        fundamentals.check_stable_cross_entropy(naive_loss)
    with pytest.raises(ExerciseIncorrect, match="capped"):
        fundamentals.check_stable_cross_entropy(clipped_loss)
    with pytest.raises(ExerciseIncorrect, match="sign is flipped"):
        fundamentals.check_stable_cross_entropy(lambda y, z: -stable_loss(y, z))
    with pytest.raises(ExerciseIncorrect, match="raised IndexError"):
        fundamentals.check_stable_cross_entropy(lambda y, z: z[10, 10])


# 03, exercise 5: a convolution by hand
def conv2d(image, kernel, stride, padding):
    k = kernel.shape[0]
    if padding == "same":
        padded = []
        for n in image.shape:
            out = -(-n // stride)
            total = max((out - 1) * stride + k - n, 0)
            padded.append((total // 2, total - total // 2))
        image = np.pad(image, padded)
    rows = (image.shape[0] - k) // stride + 1
    columns = (image.shape[1] - k) // stride + 1
    out = np.zeros((rows, columns))
    for i in range(rows):
        for j in range(columns):
            out[i, j] = np.sum(image[i * stride : i * stride + k, j * stride : j * stride + k] * kernel)
    return out


def test_conv2d() -> None:
    assert "correct" in mnist.check_conv2d(conv2d)
    with pytest.raises(ExerciseIncorrect, match="flipped the kernel"):
        mnist.check_conv2d(lambda image, kernel, s, p: conv2d(image, kernel[::-1, ::-1], s, p))
    with pytest.raises(ExerciseIncorrect, match="output should be"):
        mnist.check_conv2d(lambda image, kernel, s, p: conv2d(image, kernel, s, "valid"))  # ignores padding
    with pytest.raises(ExerciseIncorrect, match="output should be"):
        mnist.check_conv2d(lambda image, kernel, s, p: conv2d(image, kernel, 1, p))  # ignores the stride

    def padding_on_the_wrong_side(image, kernel, stride, padding):
        if padding == "same":
            k, n = kernel.shape[0], image.shape[0]
            total = max((-(-n // stride) - 1) * stride + k - n, 0)
            if total % 2:  # the extra zero on top and left instead of bottom and right
                image = np.pad(image, ((1, 0), (1, 0)))
                return conv2d(image, kernel, stride, "same")[: -(-n // stride), : -(-image.shape[1] // stride)]
        return conv2d(image, kernel, stride, padding)

    with pytest.raises(ExerciseIncorrect):
        mnist.check_conv2d(padding_on_the_wrong_side)


# 05, exercise 5: the ROC AUC by hand
def auc(labels, scores):
    positives, negatives = scores[labels == 1], scores[labels == 0]
    pairs = positives[:, None] - negatives[None, :]
    return np.mean(pairs > 0) + 0.5 * np.mean(pairs == 0)


def test_auc() -> None:
    from sklearn.metrics import roc_auc_score

    assert "correct" in metrics.check_auc(auc)
    assert "correct" in metrics.check_auc(roc_auc_score)
    with pytest.raises(ExerciseIncorrect, match="ties are not handled"):
        metrics.check_auc(lambda y, s: np.mean(s[y == 1][:, None] > s[y == 0][None, :]))
    with pytest.raises(ExerciseIncorrect, match="1 minus"):
        metrics.check_auc(lambda y, s: 1 - auc(y, s))
    with pytest.raises(ExerciseIncorrect, match="one number"):
        metrics.check_auc(lambda y, s: s)
