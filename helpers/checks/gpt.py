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


# Build exercise 3: weight tying ----------------------------------------------------------------

TIED_SIZES = {"vocabulary_size": 11, "context": 8, "width": 16, "layers": 1, "heads": 2}
# After 40 steps on a text that repeats 6 characters, a tied GPT of width 16 (the reference, seeds 0 to 4) scored
# 0.83 to 1.05 bits/char on it; one that learned nothing scores log2(6) = 2.58.
MAX_TIED_BITS = 1.5


def check_tied_gpt(answer: Callable[..., Any]) -> str:
    """Build exercise 3: ``answer(vocabulary_size, context, width, layers, heads)`` is a built GPT whose output
    layer reuses the token embedding (logits = LN(x) Eᵀ + b): the head's own kernel gone, one bias per character."""
    import dataclasses

    import keras
    import tensorflow as tf

    from helpers.lessons import gpt

    exercise = "Build exercise 3 (weight tying)"
    require_answer(answer, exercise)
    expect(callable(answer), f"{exercise}: the answer should be a function of the GPT's sizes that returns a model.")
    vocabulary, context, width, layers = (TIED_SIZES[key] for key in ("vocabulary_size", "context", "width", "layers"))
    keras.utils.set_random_seed(0)
    model = answer(**TIED_SIZES)
    expect(isinstance(model, keras.Model), f"{exercise}: the answer should return a Keras model, not {model!r}.")
    ids = tf.constant(np.random.default_rng(0).integers(0, vocabulary, (2, context)), tf.int32)
    expect_shape(np.asarray(model(ids)), (2, context, vocabulary), f"{exercise}: the logits of 2 windows")
    untied, weights = gpt.gpt_parameter_count(vocabulary, context, width, layers), model.count_params()
    if weights == untied:
        raise ExerciseIncorrect(
            f"{exercise}: the model has as many weights as the GPT ({untied:,}): its head still has a kernel of its "
            "own. Compute the logits with the token embedding's matrix, transposed, instead of a Dense head."
        )
    if weights == untied - vocabulary * width - vocabulary:
        raise ExerciseIncorrect(f"{exercise}: keep one bias per character: logits = LN(x) Eᵀ + b.")
    expect(
        weights == untied - vocabulary * width,
        f"{exercise}: with vocabulary {vocabulary} and width {width} it should have {untied - vocabulary * width:,} "
        f"weights (the GPT's {untied:,} less the head's {vocabulary} × {width} kernel), not {weights:,}.",
    )
    tables = [weight for weight in model.weights if tuple(weight.shape) == (vocabulary, width)]
    expect(len(tables) == 1, f"{exercise}: the model should hold one (vocabulary, width) matrix, the token embedding.")
    saved = tables[0].numpy()
    tables[0].assign(np.zeros_like(saved))  # every character's vector 0: the logits can only be the bias
    flat = np.asarray(model(ids))
    tables[0].assign(saved)
    if not np.allclose(flat, flat[0, 0], atol=1e-5):
        raise ExerciseIncorrect(
            f"{exercise}: with the token embedding set to 0 the logits should all be the bias (LN(x) times a zero "
            "matrix is 0), but they still depend on the position: the output does not use the embedding's matrix."
        )
    plan = dataclasses.replace(
        gpt.gpt_plan("fast"), context=context, width=width, layers=layers, heads=TIED_SIZES["heads"], steps=40,
        evaluations=2, warmup_steps=4, curve_characters=None, batch_size=8,
    )  # fmt: skip
    text = np.array(list(range(6)) * 300, dtype=np.int32)
    keras.utils.set_random_seed(0)
    learner = answer(6, context, width, layers, TIED_SIZES["heads"])
    bits = gpt.train_language_model(learner, text, text[:200], plan, seed=0).rows[-1]["validation bits/char"]
    expect(
        bits < MAX_TIED_BITS,
        f"{exercise}: after 40 training steps on a text that repeats 6 characters the model still scores {bits:.2f} "
        f"bits/char (a tied GPT gets below {MAX_TIED_BITS}): does the training reach every weight?",
    )
    return passed(exercise)
