"""The checks of notebook 07's exercises: a right answer passes, each known mistake fails with its own words."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from helpers.checks import text as checks
from helpers.exercises import ExerciseIncorrect, NotAnswered

# Exercise 1: skip-gram pairs


def right_pairs(tokens: Sequence[int], window: int) -> list[tuple[int, int]]:
    pairs = []
    for i, target in enumerate(tokens):
        if target == 0:
            continue
        for j in range(max(0, i - window), min(len(tokens), i + window + 1)):
            if j != i and tokens[j] != 0:
                pairs.append((target, tokens[j]))
    return pairs


def with_itself(tokens: Sequence[int], window: int) -> list[tuple[int, int]]:
    return right_pairs(tokens, window) + [(token, token) for token in tokens if token != 0]


def right_only(tokens: Sequence[int], window: int) -> list[tuple[int, int]]:
    return [(a, b) for i, a in enumerate(tokens) for b in tokens[i + 1 : i + 1 + window] if a and b]


def with_padding(tokens: Sequence[int], window: int) -> list[tuple[int, int]]:
    return [
        (tokens[i], tokens[j])
        for i in range(len(tokens))
        for j in range(max(0, i - window), min(len(tokens), i + window + 1))
        if i != j
    ]


def one_too_far(tokens: Sequence[int], window: int) -> list[tuple[int, int]]:
    return right_pairs(tokens, window + 1)


def one_short(tokens: Sequence[int], window: int) -> list[tuple[int, int]]:
    return right_pairs(tokens, window - 1)


def deduplicated(tokens: Sequence[int], window: int) -> list[tuple[int, int]]:
    return sorted(set(right_pairs(tokens, window)))


def skips_equal_words(tokens: Sequence[int], window: int) -> list[tuple[int, int]]:
    return [(a, b) for a, b in right_pairs(tokens, window) if a != b]


def test_skipgram_pairs_right_answer_passes(capsys) -> None:
    assert checks.check_skipgram_pairs(right_pairs).startswith("✅")
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (with_itself, "with itself"),
        (right_only, "only take the context on the right"),
        (with_padding, "padding id 0"),
        (one_too_far, "one step too far"),
        (one_short, "one step short"),
        (deduplicated, "as many times"),
        (skips_equal_words, "equal words"),
        (lambda tokens, window: 3, "should return a list"),
        (lambda tokens, window: [(1, 2, 3)], "two token ids"),
    ],
)
def test_skipgram_pairs_wrong_answers_fail_with_a_reason(wrong, words: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=words):
        checks.check_skipgram_pairs(wrong)


def test_unanswered_exercise_says_so() -> None:
    with pytest.raises(NotAnswered):
        checks.check_skipgram_pairs(None)  # type: ignore[arg-type]
    with pytest.raises(NotAnswered):
        checks.check_bidirectional_lstm_parameters(None)


# Exercise 2: masked mean


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


# Exercise 3: a GRU step


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def gru_step(x_t, h_prev, kernel, recurrent_kernel, bias, *, swap=False, before=False, gates=False, no_rb=False):
    units = recurrent_kernel.shape[0]
    xs = x_t @ kernel + bias[0]
    recurrent_bias = 0 if no_rb else bias[1]
    hs = h_prev @ recurrent_kernel + recurrent_bias
    z_cols, r_cols = slice(0, units), slice(units, 2 * units)
    if gates:
        z_cols, r_cols = r_cols, z_cols
    z = sigmoid(xs[:, z_cols] + hs[:, z_cols])
    r = sigmoid(xs[:, r_cols] + hs[:, r_cols])
    if before:
        candidate = np.tanh(xs[:, 2 * units :] + (r * h_prev) @ recurrent_kernel[:, 2 * units :] + bias[1][2 * units :])
    else:
        candidate = np.tanh(xs[:, 2 * units :] + r * hs[:, 2 * units :])
    return (1 - z) * h_prev + z * candidate if swap else z * h_prev + (1 - z) * candidate


def test_gru_step_right_answer_passes() -> None:
    assert checks.check_gru_step(gru_step).startswith("✅")


@pytest.mark.parametrize(
    ("flag", "words"),
    [
        ("swap", "z and 1 - z are swapped"),
        ("before", "reset gate before the recurrent product"),
        ("gates", "update and reset gates are swapped"),
        ("no_rb", "recurrent bias"),
    ],
)
def test_gru_step_known_mistakes_are_named(flag: str, words: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=words):
        checks.check_gru_step(lambda *arguments: gru_step(*arguments, **{flag: True}))


def test_gru_step_other_errors_are_explained() -> None:
    with pytest.raises(ExerciseIncorrect, match=r"differ from keras\.layers\.GRU"):
        checks.check_gru_step(lambda x, h, k, rk, b: np.tanh(x @ k[:, : rk.shape[0]] + h @ rk[:, : rk.shape[0]]))
    with pytest.raises(ExerciseIncorrect, match="shape"):
        checks.check_gru_step(lambda x, h, k, rk, b: h[:, :1])


def test_the_checks_gru_equals_keras() -> None:
    x, kernel, recurrent_kernel, bias, outputs = checks.gru_reference(seed=11)
    np.testing.assert_allclose(checks._gru_sequence(x, kernel, recurrent_kernel, bias), outputs, rtol=1e-4, atol=1e-5)


# Exercise 4: parameters of a bidirectional LSTM


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
