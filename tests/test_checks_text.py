"""The checks of notebook 07's exercises: a right answer passes, each known mistake fails with its own words."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.checks import text as checks
from helpers.exercises import ExerciseIncorrect, NotAnswered


def test_unanswered_exercise_says_so() -> None:
    with pytest.raises(NotAnswered):
        checks.check_masked_mean(None)  # type: ignore[arg-type]
    with pytest.raises(NotAnswered):
        checks.check_bidirectional_lstm_parameters(None)


# Exercise 1: masked mean


def right_mean(embeddings: np.ndarray, token_ids: np.ndarray) -> np.ndarray:
    mask = (np.asarray(token_ids) != 0)[..., None]
    return (embeddings * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1)


def test_masked_mean_right_answer_passes() -> None:
    assert checks.check_masked_mean(right_mean).startswith("✅")


def test_masked_mean_with_keras_layers_passes() -> None:
    import keras

    def keras_mean(embeddings: np.ndarray, token_ids: np.ndarray) -> np.ndarray:
        mask = np.asarray(token_ids) != 0
        pooled = np.asarray(keras.layers.GlobalAveragePooling1D()(embeddings, mask=mask))
        return np.nan_to_num(pooled)  # Keras gives NaN for a row of only padding

    assert checks.check_masked_mean(keras_mean).startswith("✅")


@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (lambda e, t: np.asarray(e).mean(axis=1), "padding included"),
        (lambda e, t: (e * (np.asarray(t) != 0)[..., None]).sum(axis=1), "sum of the real tokens"),
        (lambda e, t: (e * (np.asarray(t) != 0)[..., None]).sum(axis=1) / np.shape(t)[1], "full length"),
        (lambda e, t: (e * (t != 0)[..., None]).sum(axis=1) / (t != 0).sum(axis=1, keepdims=True), "NaN"),
        (lambda e, t: right_mean(e, t)[:, :2], "shape"),
        (lambda e, t: right_mean(e, t) + 0.1, "not the mean"),
        (lambda e, t: 1 / 0, "raised ZeroDivisionError"),
    ],
)
def test_masked_mean_wrong_answers_fail_with_a_reason(wrong, words: str) -> None:
    with np.errstate(invalid="ignore", divide="ignore"), pytest.raises(ExerciseIncorrect, match=words):
        checks.check_masked_mean(wrong)


# Exercise 2: parameters of a bidirectional LSTM


def test_bidirectional_lstm_parameters_right_answer_passes() -> None:
    assert checks.check_bidirectional_lstm_parameters(2 * 4 * (32 * (64 + 32) + 32)).startswith("✅")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (4 * (32 * (64 + 32) + 32), "one direction"),
        (32 * (64 + 32) + 32, "four"),
        (2 * 4 * 32 * (64 + 32), "forgets the biases"),
        (2 * 4 * (32 * (64 + 32) + 64), "two biases per gate"),
        (12345, "not right"),
        ("24832", "one whole number"),
        (2.5, "one whole number"),
    ],
)
def test_bidirectional_lstm_parameters_wrong_answers_fail(value: object, words: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=words):
        checks.check_bidirectional_lstm_parameters(value)
