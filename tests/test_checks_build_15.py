"""Notebook 15's build exercise 1, int8 quantization by hand. A right answer written here passes, and each typical
wrong answer fails with the sentence that names it."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest

from helpers.checks import compression as checks
from helpers.exercises import ExerciseIncorrect, NotAnswered


@pytest.fixture(scope="module")
def model_and_data():
    """A small random MLP and inputs labelled by the model itself (its float accuracy is 1)."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(5)])
    images = np.random.default_rng(0).normal(size=(400, 20)).astype(np.float32)
    return model, images, model.predict(images, verbose=0).argmax(axis=1)


def per_channel(kernel):
    largest = np.abs(kernel).max(axis=0)
    scales = np.where(largest > 0, largest / 127.0, 1.0)
    return np.clip(np.round(kernel / scales), -127, 127).astype(np.int8), scales.astype(np.float32)


def per_channel_listed(kernel):
    """Another right answer: column by column."""
    codes, scales = np.zeros(kernel.shape, np.int8), []
    for column in range(kernel.shape[1]):
        top = float(np.max(np.abs(kernel[:, column]))) or 1.0
        scales.append(top / 127)
        codes[:, column] = np.rint(kernel[:, column] / scales[-1]).astype(np.int8)
    return codes, np.array(scales)


def per_tensor(kernel):
    scale = np.abs(kernel).max() / 127.0
    return np.round(kernel / scale).astype(np.int8), np.full(kernel.shape[1], scale)


def truncated(kernel):
    _, scales = per_channel(kernel)
    return (kernel / scales).astype(np.int8), scales


def over_255(kernel):
    scales = np.abs(kernel).max(axis=0) / 255.0
    return np.round(kernel / scales).astype(np.int8), scales


def per_row(kernel):
    codes, scales = per_channel(kernel.T)
    return codes.T, scales


def no_zero_guard(kernel):
    scales = np.abs(kernel).max(axis=0) / 127.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.nan_to_num(np.round(kernel / scales)).astype(np.int8), scales


def float_codes(kernel):
    codes, scales = per_channel(kernel)
    return codes.astype(np.float32), scales


@pytest.mark.parametrize("answer", [per_channel, per_channel_listed])
def test_right_answers_pass(answer, model_and_data) -> None:
    assert "correct" in checks.check_int8_quantizer(answer, *model_and_data)


@pytest.mark.parametrize(
    ("answer", "names"),
    [
        (per_tensor, "One scale for the whole kernel"),
        (truncated, "Round (np.round)"),
        (over_255, "wrapped around"),
        (per_row, "one per row"),
        (no_zero_guard, "a column of zeros"),
        (float_codes, "int8 array"),
    ],
)
def test_typical_mistakes_fail_with_their_sentence(answer, names, model_and_data) -> None:
    with pytest.raises(ExerciseIncorrect, match=re.escape(names)):
        checks.check_int8_quantizer(answer, *model_and_data)


def test_an_unanswered_exercise_says_so(model_and_data) -> None:
    with pytest.raises(NotAnswered):
        checks.check_int8_quantizer(None, *model_and_data)
