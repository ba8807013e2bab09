"""Notebook 14's build exercise 1, a hybrid retriever. A right answer written here (reciprocal rank fusion, not the
notebook's standardised sum) passes, and each typical wrong answer fails with the sentence that names it."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.checks import llm_adaptation as checks
from helpers.exercises import ExerciseIncorrect, NotAnswered


def question_set(questions: int = 40, passages: int = 30, seed: int = 0):
    """Scores of two retrievers on different scales, each of which ranks the relevant passage first for half the
    questions and low for the other half: only a combination finds it for (nearly) all."""
    rng = np.random.default_rng(seed)
    tfidf = rng.uniform(0.0, 0.1, size=(questions, passages))
    minilm = rng.uniform(0.3, 0.5, size=(questions, passages))
    relevant = np.zeros((questions, passages), dtype=bool)
    for row in range(questions):
        target = row % passages
        relevant[row, target] = True
        if row % 2:
            tfidf[row, target], minilm[row, target] = 0.3, 0.47
        else:
            tfidf[row, target], minilm[row, target] = 0.09, 0.8
    return tfidf, minilm, relevant


def ranks(scores: np.ndarray) -> np.ndarray:
    """Each passage's rank in its row, 1 for the highest score."""
    return np.argsort(np.argsort(-scores, axis=1), axis=1) + 1


def reciprocal_rank_fusion(first, second, k):
    fused = 1 / (60 + ranks(np.asarray(first))) + 1 / (60 + ranks(np.asarray(second)))
    return np.argsort(-fused, axis=1)[:, :k]


def standardised(scores):
    return (scores - scores.mean(axis=1, keepdims=True)) / scores.std(axis=1, keepdims=True)


def test_right_answers_pass() -> None:
    tfidf, minilm, relevant = question_set()
    assert "correct" in checks.check_hybrid_retriever(reciprocal_rank_fusion, tfidf, minilm, relevant, k=3)
    min_max = lambda s: (s - s.min(axis=1, keepdims=True)) / np.ptp(s, axis=1, keepdims=True)  # noqa: E731
    as_list = lambda a, b, k: np.argsort(-(min_max(a) + min_max(b)), axis=1)[:, :k].tolist()  # noqa: E731
    assert "correct" in checks.check_hybrid_retriever(as_list, tfidf, minilm, relevant, k=3)


@pytest.mark.parametrize(
    ("wrong", "sentence"),
    [
        # the right passages, unsorted (argpartition does not sort)
        (
            lambda a, b, k: np.argpartition(-(standardised(a) + standardised(b)), k, axis=1)[:, :k][:, ::-1],
            "another order",
        ),
        # sorted from the lowest
        (lambda a, b, k: np.argsort(standardised(a) + standardised(b), axis=1)[:, :k], "other passages"),
        # k ignored
        (lambda a, b, k: np.argsort(-(standardised(a) + standardised(b)), axis=1)[:, :3], "Use k"),
        # the combined scores themselves, not indices
        (lambda a, b, k: np.sort(standardised(a) + standardised(b), axis=1)[:, ::-1][:, :k], "indices"),
        # raw scores added: one scale decides
        (lambda a, b, k: np.argsort(-(np.asarray(a) + np.asarray(b)), axis=1)[:, :k], "own scale"),
        # one retriever ignored
        (lambda a, b, k: np.argsort(-np.asarray(b), axis=1)[:, :k], "ignores them"),
        (lambda a, b, k: np.argsort(-standardised(a), axis=1)[:, :k], "ignores them"),
    ],
)
def test_typical_mistakes_fail_with_their_sentence(wrong, sentence) -> None:
    tfidf, minilm, relevant = question_set()
    with pytest.raises(ExerciseIncorrect, match=sentence):
        checks.check_hybrid_retriever(wrong, tfidf, minilm, relevant, k=3)


def test_a_hybrid_worse_than_the_better_retriever_fails() -> None:
    """Scale-free and using both, but MiniLM weighted so low that it rarely counts: below TF-IDF alone."""
    tfidf, minilm, relevant = question_set()
    tfidf[1::2] = np.random.default_rng(1).uniform(0.0, 0.1, size=tfidf[1::2].shape)  # TF-IDF now finds half
    minilm[1::2, :] = minilm[1::2, :] * 0 + np.random.default_rng(2).uniform(0.3, 0.5, size=minilm[1::2].shape)
    for row in range(1, len(relevant), 2):
        minilm[row, row % relevant.shape[1]] = 0.9  # MiniLM finds the other half too: it is the better one
    lopsided = lambda a, b, k: np.argsort(-(standardised(a) + 0.05 * standardised(b)), axis=1)[:, :k]  # noqa: E731
    with pytest.raises(ExerciseIncorrect, match="below MiniLM's"):
        checks.check_hybrid_retriever(lopsided, tfidf, minilm, relevant, k=3)


def test_none_is_not_answered() -> None:
    tfidf, minilm, relevant = question_set()
    with pytest.raises(NotAnswered):
        checks.check_hybrid_retriever(None, tfidf, minilm, relevant)
