"""Exercise checks of notebook 08 (attention, transformers and a small GPT).

Each check runs the learner's answer on inputs of its own and compares the behaviour with what it
must be (computed here, in plain NumPy); known mistakes get a sentence of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from helpers.exercises import ExerciseIncorrect, close, expect, expect_shape, passed, require_answer

# Exercise 1: the causal mask ------------------------------------------------------------------


def check_causal_mask(answer: Callable[[int], Any]) -> str:
    """Exercise 1: ``answer(length)`` is True where query i may look at key j, that is j <= i."""
    exercise = "Exercise 1 (causal mask)"
    require_answer(answer, exercise)
    expect(callable(answer), f"{exercise}: the answer should be a function of the length.")
    for length in (5, 8, 2, 1):
        got = expect_shape(answer(length), (length, length), f"{exercise}: the mask for length {length}")
        expect(
            got.dtype == bool or set(np.unique(got)) <= {0, 1},
            f"{exercise}: the mask should hold booleans (or 0 and 1), got values like {got.flat[0]!r}.",
        )
        got = got.astype(bool)
        rows, columns = np.indices((length, length))
        expected = columns <= rows
        if np.array_equal(got, expected):
            continue
        if np.array_equal(got, ~expected):
            raise ExerciseIncorrect(
                f"{exercise}: True and False are swapped: True must mean 'may look' (key j at or before query i)."
            )
        if np.array_equal(got, columns < rows):
            raise ExerciseIncorrect(
                f"{exercise}: the diagonal is False: a position must be allowed to look at itself (j = i)."
            )
        if np.array_equal(got, columns >= rows):
            raise ExerciseIncorrect(
                f"{exercise}: your mask lets position i look at later positions j > i (the future) and hides the "
                "past: it is the transpose of the causal mask. Row i is the query, column j the key."
            )
        wrong = np.argwhere(got != expected)[0]
        raise ExerciseIncorrect(
            f"{exercise}: for length {length}, entry (i={wrong[0]}, j={wrong[1]}) "
            f"should be {bool(expected[tuple(wrong)])}."
        )
    return passed(exercise)


# Exercise 2: scaled dot-product attention ------------------------------------------------------


def _softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = np.exp(scores - np.max(scores, axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def _attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray, scale: float, axis: int = -1):
    scores = np.where(mask, q @ k.T / scale, -np.inf if axis == -1 else -1e30)
    return np.nan_to_num(_softmax(scores, axis=axis)) @ v


def check_attention(answer: Callable[..., Any]) -> str:
    """Exercise 2: ``answer(q, k, v, mask)`` is softmax(q kᵀ / √d) v with masked keys left out."""
    exercise = "Exercise 2 (scaled dot-product attention)"
    require_answer(answer, exercise)
    expect(callable(answer), f"{exercise}: the answer should be a function of (q, k, v, mask).")
    rng = np.random.default_rng(8)
    cases = [(4, 4, 16, 3, True), (3, 5, 9, 2, False), (6, 6, 4, 4, True)]
    for t_q, t_k, d, d_v, causal in cases:
        q, k = rng.normal(size=(t_q, d)) * 2, rng.normal(size=(t_k, d)) * 2
        v = rng.normal(size=(t_k, d_v))
        mask = np.tril(np.ones((t_q, t_k), dtype=bool)) if causal else rng.random((t_q, t_k)) < 0.7
        mask[:, 0] = True  # every query sees at least one key
        shown = f"q {q.shape}, k {k.shape}, v {v.shape}"
        got = expect_shape(
            answer(q.copy(), k.copy(), v.copy(), mask.copy()), (t_q, d_v), f"{exercise}: the output for {shown}"
        )
        expected = _attention(q, k, v, mask, np.sqrt(d))
        if close(got, expected, rtol=1e-5, atol=1e-6):
            continue
        if close(got, _attention(q, k, v, mask, 1.0), rtol=1e-5, atol=1e-6):
            raise ExerciseIncorrect(f"{exercise}: the scores are not divided by √d (d = {d}, the width of q and k).")
        if close(got, _attention(q, k, v, mask, float(d)), rtol=1e-5, atol=1e-6):
            raise ExerciseIncorrect(f"{exercise}: you divide the scores by d; divide them by √d.")
        if close(got, _attention(q, k, v, np.ones_like(mask), np.sqrt(d)), rtol=1e-5, atol=1e-6):
            raise ExerciseIncorrect(f"{exercise}: the mask is ignored: keys where mask is False must get weight 0.")
        if close(got, _attention(q, k, v, mask, np.sqrt(d), axis=0), rtol=1e-5, atol=1e-6):
            raise ExerciseIncorrect(
                f"{exercise}: the softmax runs over the queries (axis 0); each query's weights over the keys "
                "(the last axis) must sum to 1."
            )
        worst = float(np.abs(got - expected).max())
        raise ExerciseIncorrect(f"{exercise}: for {shown} your output differs from the right one by up to {worst:.3g}.")
    return passed(exercise)


# Exercise 3: top-p (nucleus) filtering ---------------------------------------------------------


def _nucleus(probabilities: np.ndarray, p: float, *, strict: bool = False, normalise: bool = True) -> np.ndarray:
    order = np.argsort(-probabilities, kind="stable")
    cumulative = np.cumsum(probabilities[order])
    kept = np.zeros(len(probabilities), dtype=bool)
    kept[order[(cumulative < p) if strict else (cumulative - probabilities[order] < p)]] = True
    filtered = np.where(kept, probabilities, 0.0)
    return filtered / filtered.sum() if normalise and filtered.sum() > 0 else filtered


TOP_P_CASES: tuple[tuple[tuple[float, ...], float], ...] = (
    ((0.5, 0.3, 0.15, 0.05), 0.7),
    ((0.1, 0.6, 0.05, 0.25), 0.5),  # not sorted
    ((0.05, 0.05, 0.9), 0.5),  # one character is enough
    ((0.25, 0.25, 0.25, 0.25), 0.6),
    ((0.4, 0.3, 0.2, 0.1), 1.0),
)


def check_top_p(answer: Callable[[np.ndarray, float], Any]) -> str:
    """Exercise 3: ``answer(probabilities, p)`` keeps the smallest most-likely set reaching ``p``, renormalised."""
    exercise = "Exercise 3 (top-p filtering)"
    require_answer(answer, exercise)
    expect(callable(answer), f"{exercise}: the answer should be a function of (probabilities, p).")
    for values, p in TOP_P_CASES:
        probabilities = np.array(values)
        shown = f"probabilities {list(values)}, p = {p}"
        got = expect_shape(answer(probabilities.copy(), p), probabilities.shape, f"{exercise}: the result for {shown}")
        expected = _nucleus(probabilities, p)
        if close(got, expected, rtol=1e-6, atol=1e-9):
            continue
        if close(got, _nucleus(probabilities, p, normalise=False), rtol=1e-6, atol=1e-9):
            raise ExerciseIncorrect(
                f"{exercise}: with {shown} the kept probabilities are not renormalised to sum to 1."
            )
        if close(got, _nucleus(probabilities, p, strict=True), rtol=1e-6, atol=1e-9) or (
            close(got, _nucleus(probabilities, p, strict=True, normalise=False), rtol=1e-6, atol=1e-9)
        ):
            raise ExerciseIncorrect(
                f"{exercise}: with {shown} you drop the character that makes the kept mass reach p; keep it "
                "(the set must add up to at least p)."
            )
        kept = got > 0
        if kept.any() and probabilities[kept].min() < probabilities[~kept].max(initial=0.0):
            raise ExerciseIncorrect(
                f"{exercise}: with {shown} you keep a character less likely than one you drop: "
                "keep the most likely ones."
            )
        raise ExerciseIncorrect(f"{exercise}: with {shown} the result should be {np.round(expected, 4).tolist()}.")
    return passed(exercise)
