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
    for check in (checks.check_causal_mask, checks.check_attention, checks.check_tied_gpt):
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


# Build exercise 3: weight tying


def tied_gpt(bias: bool = True):
    """A GPT whose logits are LN(x) Eᵀ (+ b), written differently from the notebook's solution (einsum)."""
    import keras
    import tensorflow as tf

    from helpers.lessons import gpt

    class Tied(gpt.GPT):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            del self.head
            self.bias = self.add_weight(shape=(self.vocabulary_size,), initializer="zeros") if bias else None

        def call(self, ids, training=False):
            x = self.embed(ids)
            for block in self.blocks:
                x = block(x, training=training)
            logits = tf.einsum("btd,vd->btv", self.final_norm(x), self.token_embedding.embeddings)
            return logits if self.bias is None else logits + self.bias

    def build(vocabulary_size, context, width, layers, heads):
        model = Tied(vocabulary_size, context, width, layers, heads)
        model(tf.zeros((1, context), tf.int32))
        return model

    keras.utils.set_random_seed(0)
    return build


def untied_gpt(vocabulary_size, context, width, layers, heads):
    import tensorflow as tf

    from helpers.lessons import gpt

    model = gpt.GPT(vocabulary_size, context, width, layers, heads)
    model(tf.zeros((1, context), tf.int32))
    return model


def test_tied_gpt_right_answer_passes(capsys) -> None:
    assert "correct" in checks.check_tied_gpt(tied_gpt())


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (untied_gpt, "still has a kernel of its own"),
        (tied_gpt(bias=False), "keep one bias per character"),
        (lambda **sizes: untied_gpt(**{**sizes, "context": 9}), "should have"),
        (lambda **sizes: 3, "should return a Keras model"),
    ],
)
def test_tied_gpt_mistakes_fail_with_their_own_words(answer, words: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=words):
        checks.check_tied_gpt(answer)
