"""Notebook 16's build exercise 1, a class-conditional generator. A right answer passes, and each typical wrong
answer fails with the sentence that names it. The digits here are ten random patterns with noise, judged by the
nearest pattern: the check's logic without training a generator."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.checks import generative as checks
from helpers.exercises import ExerciseIncorrect, NotAnswered

PATTERNS = (np.random.default_rng(16).random((10, 28, 28)) > 0.7).astype(np.float64)


def nearest_pattern(images: np.ndarray) -> np.ndarray:
    distances = ((images.reshape(len(images), 1, 784) - PATTERNS.reshape(1, 10, 784)) ** 2).sum(axis=2)
    return distances.argmin(axis=1)


def with_noise(patterns: np.ndarray, seed: int) -> np.ndarray:
    return np.clip(patterns + 0.2 * np.random.default_rng(seed).standard_normal(patterns.shape), 0, 1)


def right(labels, seed):
    return with_noise(PATTERNS[labels], seed)


def right_with_channel(labels, seed):
    return right(labels, seed)[..., None].astype(np.float32)


def ignores_the_label(labels, seed):
    return with_noise(PATTERNS[np.random.default_rng(seed).integers(0, 10, len(labels))], seed)


def one_image_per_class(labels, seed):
    return PATTERNS[labels]


def same_for_every_seed(labels, seed):
    return with_noise(PATTERNS[labels], 0)


def bytes_not_fractions(labels, seed):
    return 255 * right(labels, seed)


def flat(labels, seed):
    return right(labels, seed).reshape(len(labels), 784)


def raises(labels, seed):
    raise RuntimeError("decoder not built")


@pytest.mark.parametrize("answer", [right, right_with_channel])
def test_a_right_answer_passes(answer) -> None:
    assert "correct" in checks.check_conditional_generator(answer, nearest_pattern)


def test_no_answer_says_so() -> None:
    with pytest.raises(NotAnswered):
        checks.check_conditional_generator(None, nearest_pattern)


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (ignores_the_label, "ignores the label"),
        (one_image_per_class, "one image per class"),
        (same_for_every_seed, "seed 1 gives the same digits"),
        (bytes_not_fractions, "Divide by 255"),
        (flat, "shape (1000, 28, 28)"),
        (raises, "RuntimeError: decoder not built"),
    ],
)
def test_typical_mistakes_fail_with_their_sentence(answer, words: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=words.replace("(", r"\(").replace(")", r"\)")):
        checks.check_conditional_generator(answer, nearest_pattern)
