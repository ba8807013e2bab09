"""Exercise checks of notebook 14 (adapting a real LLM). Part 2, retrieval: build exercise 1, a hybrid
retriever that combines TF-IDF's and MiniLM's scores.

The check runs the learner's function on score matrices of its own, then on the notebook's question set,
and judges what it returns: the k best passages of each question, best first, whatever scale each
retriever's scores come on, using both retrievers, and finding a relevant passage for at least as many
questions as the better single retriever does. Known mistakes get a sentence of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from helpers.exercises import ExerciseIncorrect, call_answer, expect, passed, require_answer

HYBRID = "Build exercise 1 (a hybrid retriever)"


def hybrid_ranking(answer: Callable, first: np.ndarray, second: np.ndarray, k: int, what: str) -> np.ndarray:
    """``answer(first, second, k)`` as an integer array (questions, k) of passage indices, checked for shape."""
    ranking = call_answer(answer, HYBRID, what, first, second, k)
    array = np.asarray(ranking)
    expect(
        array.shape == (len(first), k),
        f"{HYBRID}: for {len(first)} questions and k={k}, return {k} passage indices per question, shape "
        f"({len(first)}, {k}); yours has shape {array.shape}. Use k, do not fix the number of passages.",
    )
    expect(
        np.issubdtype(array.dtype, np.integer) and bool(np.all((array >= 0) & (array < first.shape[1]))),
        f"{HYBRID}: return passage indices (whole numbers from 0 to {first.shape[1] - 1}), not scores.",
    )
    return array


def check_hybrid_retriever(
    answer: Any, tfidf_scores: np.ndarray, minilm_scores: np.ndarray, relevant: np.ndarray, k: int = 3
) -> str:
    """Build exercise 1: ``answer(first_scores, second_scores, k)`` takes two (questions, passages) score
    matrices on different scales and returns (questions, k) passage indices, best first.

    Judged on random scores of its own: when both retrievers order the passages the same way, the answer
    follows that order (sorted, best first, k of them, for two values of k); multiplying one retriever's
    scores by a positive number and adding a number per question changes nothing (each retriever's scale is
    its own); shuffling either retriever's scores changes the ranking (both are used). Then, on the
    notebook's scores (``tfidf_scores``, ``minilm_scores`` and ``relevant``, questions × passages), recall@k
    must be at least the better single retriever's.
    """
    require_answer(answer, HYBRID)
    rng = np.random.default_rng(14)
    questions, passages = 12, 20
    order = rng.normal(size=(questions, passages))
    agree_first, agree_second = 0.3 * order, 2.0 * order + 1.0  # the same order, on different scales
    for size in (2, 4):
        ranking = hybrid_ranking(
            answer, agree_first, agree_second, size, f"two score matrices ({questions}, {passages})"
        )
        best = np.argsort(-order, axis=1)[:, :size]
        if not np.array_equal(ranking, best):
            same_sets = all(set(row) == set(want) for row, want in zip(ranking.tolist(), best.tolist(), strict=True))
            raise ExerciseIncorrect(
                f"{HYBRID}: when both retrievers rank the passages in the same order, yours should return that "
                f"order's {size} best, the best first. "
                + (
                    "Yours returns the right passages in another order: sort them by the combined score, highest first "
                    "(np.argpartition does not sort; np.argsort sorts from the lowest)."
                    if same_sets
                    else "Yours returns other passages: take the highest combined scores (np.argsort(-scores))."
                )
            )
    first = rng.normal(size=(questions, passages)) * 0.05 + 0.2  # like TF-IDF cosines: small
    second = rng.normal(size=(questions, passages)) * 0.1 + 0.6  # like MiniLM cosines: larger
    base = hybrid_ranking(answer, first, second, 3, "two random score matrices")
    shifts = rng.normal(size=(questions, 1)) * 5
    for scaled, which in (
        ((first * 40 + shifts, second), "the first"),
        ((first, second * 0.02 + shifts), "the second"),
    ):
        expect(
            np.array_equal(hybrid_ranking(answer, *scaled, 3, "rescaled score matrices"), base),
            f"{HYBRID}: multiplying {which} retriever's scores by a positive number and adding a number per question "
            "changed your ranking. Each retriever's scores come on its own scale (TF-IDF cosines are small, MiniLM's "
            "larger), so adding them as they are lets one of them decide: put both on one scale per question first "
            "(subtract the mean and divide by the standard deviation of each row), or combine ranks instead of scores.",
        )
    for shuffled, which in (
        ((rng.permuted(first, axis=1), second), "first (TF-IDF's)"),
        ((first, rng.permuted(second, axis=1)), "second (MiniLM's)"),
    ):
        expect(
            not np.array_equal(hybrid_ranking(answer, *shuffled, 3, "shuffled score matrices"), base),
            f"{HYBRID}: shuffling the {which} scores does not change your ranking: your retriever ignores them. "
            "Combine both retrievers' scores.",
        )
    from helpers.lessons.llm_adaptation import recall_at_k

    tfidf_scores, minilm_scores = np.asarray(tfidf_scores, float), np.asarray(minilm_scores, float)
    ranking = hybrid_ranking(answer, tfidf_scores, minilm_scores, k, "the notebook's TF-IDF and MiniLM scores")
    singles = {
        name: recall_at_k(np.argsort(-scores, axis=1, kind="stable"), relevant, k)
        for name, scores in (("TF-IDF", tfidf_scores), ("MiniLM", minilm_scores))
    }
    ours = recall_at_k(ranking, relevant, k)
    better = max(singles, key=singles.get)
    expect(
        ours >= singles[better],
        f"{HYBRID}: recall@{k} on the question set is {ours:.3f}, below {better}'s {singles[better]:.3f} alone. "
        "Give both retrievers a fair share of the combined score (same scale, similar weights).",
    )
    print(f"recall@{k}: hybrid {ours:.3f}, " + ", ".join(f"{name} {value:.3f}" for name, value in singles.items()))
    return passed(HYBRID)
