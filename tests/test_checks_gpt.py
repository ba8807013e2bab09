"""The checks of notebook 08's exercises: a right answer passes, each known mistake fails with its own words."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.checks import gpt as checks
from helpers.exercises import ExerciseIncorrect, NotAnswered

# Exercise 1: the causal mask


def test_causal_mask_right_answers_pass(capsys) -> None:
    assert "correct" in checks.check_causal_mask(lambda n: np.tril(np.ones((n, n), dtype=bool)))
    assert "correct" in checks.check_causal_mask(lambda n: np.tril(np.ones((n, n))).astype(int))  # 0 and 1 are fine


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda n: np.tril(np.ones((n, n), dtype=bool), -1), "look at itself"),
        (lambda n: np.triu(np.ones((n, n), dtype=bool)), "later positions"),
        (lambda n: ~np.tril(np.ones((n, n), dtype=bool)), "swapped"),
        (lambda n: np.ones((n, n), dtype=bool), "should be False"),
        (lambda n: np.tril(np.ones((n, n + 1), dtype=bool)), "shape"),
        (lambda n: np.tril(np.full((n, n), 0.5)), "booleans"),
    ],
)
def test_causal_mask_mistakes_fail_with_their_own_words(answer, words: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=words):
        checks.check_causal_mask(answer)


def test_unanswered_exercises_say_so() -> None:
    for check in (checks.check_causal_mask, checks.check_attention, checks.check_top_p):
        with pytest.raises(NotAnswered):
            check(None)


# Exercise 2: scaled dot-product attention


def attention(q, k, v, mask, scale=None, axis=-1, use_mask=True):
    scores = q @ k.T / (np.sqrt(q.shape[-1]) if scale is None else scale)
    if use_mask:
        scores = np.where(mask, scores, -1e30)
    weights = np.exp(scores - scores.max(axis=axis, keepdims=True))
    weights /= weights.sum(axis=axis, keepdims=True)
    return weights @ v


def test_attention_right_answer_passes(capsys) -> None:
    assert "correct" in checks.check_attention(attention)


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda q, k, v, m: attention(q, k, v, m, scale=1.0), "not divided by √d"),
        (lambda q, k, v, m: attention(q, k, v, m, scale=q.shape[-1]), "divide the scores by d"),
        (lambda q, k, v, m: attention(q, k, v, m, use_mask=False), "mask is ignored"),
        (lambda q, k, v, m: attention(q, k, v, m, axis=0), "over the queries"),
        (lambda q, k, v, m: attention(q, k, v, m) + 0.1, "differs"),
        (lambda q, k, v, m: attention(q, k, v, m).T, "shape"),
    ],
)
def test_attention_mistakes_fail_with_their_own_words(answer, words: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=words):
        checks.check_attention(answer)


# Exercise 3: top-p filtering


def top_p(probabilities, p, strict=False, normalise=True, unsorted=False):
    order = np.arange(len(probabilities)) if unsorted else np.argsort(-probabilities, kind="stable")
    cumulative = np.cumsum(probabilities[order])
    before = cumulative - probabilities[order]
    kept = np.zeros(len(probabilities), dtype=bool)
    kept[order[(cumulative < p) if strict else (before < p)]] = True
    filtered = np.where(kept, probabilities, 0.0)
    return filtered / filtered.sum() if normalise else filtered


def test_top_p_right_answer_passes(capsys) -> None:
    assert "correct" in checks.check_top_p(top_p)


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda probabilities, p: top_p(probabilities, p, normalise=False), "not renormalised"),
        (lambda probabilities, p: top_p(probabilities, p, strict=True), "makes the kept mass reach p"),
        (lambda probabilities, p: top_p(probabilities, p, unsorted=True), "less likely than one you drop"),
        (lambda probabilities, p: probabilities, "should be"),
        (lambda probabilities, p: probabilities[:-1], "shape"),
    ],
)
def test_top_p_mistakes_fail_with_their_own_words(answer, words: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=words):
        checks.check_top_p(answer)
