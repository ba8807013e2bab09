"""Exercise checks of notebook 07 (text, embeddings and recurrent networks).

Each check runs the learner's answer on inputs of its own and compares the behaviour with what
it must be (computed here independently, or by Keras itself); known mistakes get a sentence of
their own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from helpers.exercises import ExerciseIncorrect, close, expect, passed, require_answer

PAD = 0  # token id 0 is padding, as with keras.layers.TextVectorization


# Exercise 1: skip-gram (target, context) pairs --------------------------------------------------


def _pairs_by_distance(tokens: Sequence[int], low: int, high: int, *, right_only: bool = False) -> Counter:
    """(target, context) pairs of non-padding tokens at a distance in [low, high], as a multiset."""
    found: Counter = Counter()
    for i, target in enumerate(tokens):
        for j, context in enumerate(tokens):
            distance = j - i if right_only else abs(j - i)
            if low <= distance <= high and target != PAD and context != PAD:
                found[(int(target), int(context))] += 1
    return found


def _as_pairs(value: Any, exercise: str) -> Counter:
    try:
        pairs = [tuple(int(number) for number in pair) for pair in value]
    except (TypeError, ValueError):
        raise ExerciseIncorrect(
            f"{exercise}: the function should return a list of (target, context) pairs of token ids, "
            f"got {type(value).__name__}."
        ) from None
    expect(
        all(len(pair) == 2 for pair in pairs),
        f"{exercise}: every pair should hold two token ids (target, context).",
    )
    return Counter(pairs)  # type: ignore[arg-type]


SKIPGRAM_CASES: tuple[tuple[tuple[int, ...], int], ...] = (
    ((5, 6, 7, 8), 1),
    ((5, 6, 7, 8, 9), 2),
    ((2, 2, 3), 1),  # the same word twice: two positions, so the pair (2, 2) is real
    ((4, 9, 3, 0, 0), 2),  # padded at the end
    ((7, 8), 5),  # a window wider than the sentence
    ((0, 0, 0), 1),
)


def check_skipgram_pairs(answer: Callable[[Sequence[int], int], Any]) -> str:
    """Exercise 1: ``answer(tokens, window)`` returns every (target, context) pair of the sentence.

    A pair is two non-padding tokens at distance 1 to ``window``, on either side; order of the
    pairs does not matter, repeated pairs count.
    """
    exercise = "Exercise 1 (skip-gram pairs)"
    require_answer(answer, exercise)
    expect(callable(answer), f"{exercise}: the answer should be a function of (tokens, window).")
    for tokens, window in SKIPGRAM_CASES:
        shown = f"tokens={list(tokens)}, window={window}"
        got = _as_pairs(answer(list(tokens), window), exercise)
        expected = _pairs_by_distance(tokens, 1, window)
        if got == expected:
            continue
        padded = [pair for pair in got if PAD in pair]
        if padded:
            raise ExerciseIncorrect(
                f"{exercise}: with {shown} you return pairs with the padding id 0, e.g. {padded[0]}; skip it."
            )
        expect(
            got != _pairs_by_distance(tokens, 0, window),
            f"{exercise}: with {shown} you pair each word with itself (distance 0); start at distance 1.",
        )
        expect(
            got != _pairs_by_distance(tokens, 1, window, right_only=True),
            f"{exercise}: with {shown} you only take the context on the right; the window goes both ways.",
        )
        expect(
            got != _pairs_by_distance(tokens, 1, window + 1),
            f"{exercise}: with {shown} you go one step too far: the context is at most `window` words away.",
        )
        expect(
            got != _pairs_by_distance(tokens, 1, window - 1),
            f"{exercise}: with {shown} you stop one step short: a word exactly `window` away is context too.",
        )
        if got == Counter({pair: count for pair, count in expected.items() if pair[0] != pair[1]}):
            raise ExerciseIncorrect(
                f"{exercise}: with {shown} you skip pairs of equal words; the same word at two different places "
                "is a real (target, context) pair. Compare positions, not words."
            )
        if set(got) == set(expected):
            raise ExerciseIncorrect(
                f"{exercise}: with {shown} the right pairs come back, but not as many times each: a pair that "
                "occurs at two places in the sentence must appear twice (do not deduplicate, do not skip equal words)."
            )
        missing = sorted((expected - got).elements())[:3]
        extra = sorted((got - expected).elements())[:3]
        raise ExerciseIncorrect(
            f"{exercise}: with {shown} the pairs are not right; missing e.g. {missing}, unexpected e.g. {extra}."
        )
    return passed(exercise)


# Exercise 2: a masked mean of embeddings ----------------------------------------------------


def check_masked_mean(answer: Callable[[Any, Any], Any], seed: int = 7) -> str:
    """Exercise 2: ``answer(embeddings, token_ids)``: mean over the non-padding positions of each row.

    ``embeddings`` is (batch, time, dim), ``token_ids`` (batch, time) with 0 for padding; a row of
    only padding must give zeros (not NaN).
    """
    exercise = "Exercise 2 (a masked mean)"
    require_answer(answer, exercise)
    expect(callable(answer), f"{exercise}: the answer should be a function of (embeddings, token_ids).")
    rng = np.random.default_rng(seed)
    token_ids = np.array([[4, 7, 2, 0, 0], [3, 0, 0, 0, 0], [5, 6, 8, 9, 1], [0, 0, 0, 0, 0]], dtype=np.int64)
    embeddings = rng.normal(size=(*token_ids.shape, 3)).astype(np.float32)
    mask = (token_ids != PAD)[..., None]
    counts = mask.sum(axis=1)
    expected = (embeddings * mask).sum(axis=1) / np.maximum(counts, 1)
    try:
        value = np.asarray(answer(embeddings, token_ids), dtype=np.float64)
    except Exception as error:
        raise ExerciseIncorrect(f"{exercise}: the function raised {type(error).__name__}: {error}") from error
    expect(
        value.shape == expected.shape,
        f"{exercise}: the result should have shape (batch, dim) = {expected.shape}, but it has shape {value.shape}.",
    )
    only_padding_is_wrong = close(value[:3], expected[:3], rtol=1e-5, atol=1e-6) and not np.all(np.isfinite(value[3]))
    expect(
        not only_padding_is_wrong,
        f"{exercise}: a row made only of padding gives NaN (0 / 0): divide by max(count, 1), so that it gives zeros.",
    )
    expect(
        not close(value, embeddings.mean(axis=1)),
        f"{exercise}: that is the mean over all positions, padding included; divide by the number of real tokens.",
    )
    expect(
        not close(value, (embeddings * mask).sum(axis=1)),
        f"{exercise}: that is the sum of the real tokens' vectors; divide by how many there are.",
    )
    expect(
        not close(value, (embeddings * mask).sum(axis=1) / token_ids.shape[1]),
        f"{exercise}: the padding is left out of the sum, but you divide by the full length; "
        "divide by the number of real tokens.",
    )
    expect(
        close(value, expected, rtol=1e-5, atol=1e-6),
        f"{exercise}: the result is not the mean of the non-padding positions (largest difference "
        f"{float(np.max(np.abs(value - expected))):.3g}).",
    )
    return passed(exercise)


# Exercise 3: one GRU step, matched to keras.layers.GRU -----------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _gru_sequence(
    x: np.ndarray,
    kernel: np.ndarray,
    recurrent_kernel: np.ndarray,
    bias: np.ndarray,
    *,
    swap_update: bool = False,
    reset_before: bool = False,
    swap_gates: bool = False,
    no_recurrent_bias: bool = False,
) -> np.ndarray:
    """Hidden states of a GRU over ``x`` (batch, time, features), Keras layout; flags give known mistakes."""
    units = recurrent_kernel.shape[0]
    input_bias, recurrent_bias = bias[0], (np.zeros_like(bias[1]) if no_recurrent_bias else bias[1])
    h = np.zeros((x.shape[0], units))
    states = []
    for t in range(x.shape[1]):
        xs = x[:, t] @ kernel + input_bias
        hs = h @ recurrent_kernel + recurrent_bias
        z_slice, r_slice = (
            (slice(units, 2 * units), slice(0, units)) if swap_gates else (slice(0, units), slice(units, 2 * units))
        )
        z = _sigmoid(xs[:, z_slice] + hs[:, z_slice])
        r = _sigmoid(xs[:, r_slice] + hs[:, r_slice])
        if reset_before:
            candidate = np.tanh(
                xs[:, 2 * units :] + (r * h) @ recurrent_kernel[:, 2 * units :] + recurrent_bias[2 * units :]
            )
        else:
            candidate = np.tanh(xs[:, 2 * units :] + r * hs[:, 2 * units :])
        h = (1 - z) * h + z * candidate if swap_update else z * h + (1 - z) * candidate
        states.append(h)
    return np.stack(states, axis=1)


def gru_reference(seed: int = 3, *, units: int = 4, features: int = 3, steps: int = 6) -> tuple[np.ndarray, ...]:
    """(inputs, kernel, recurrent_kernel, bias, Keras' outputs) of a ``keras.layers.GRU`` with random weights."""
    import keras

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, steps, features)).astype(np.float32)
    layer = keras.layers.GRU(units, return_sequences=True)
    layer.build((None, steps, features))
    kernel = rng.normal(scale=0.6, size=(features, 3 * units)).astype(np.float32)
    recurrent_kernel = rng.normal(scale=0.6, size=(units, 3 * units)).astype(np.float32)
    bias = rng.normal(scale=0.5, size=(2, 3 * units)).astype(np.float32)
    layer.set_weights([kernel, recurrent_kernel, bias])
    outputs = np.asarray(layer(x))
    return x, kernel, recurrent_kernel, bias, outputs


def check_gru_step(answer: Callable[..., Any]) -> str:
    """Exercise 3: ``answer(x_t, h_prev, kernel, recurrent_kernel, bias)`` is one step of Keras' GRU.

    Keras' defaults: gates in the order update z, reset r, candidate; ``reset_after=True`` (the
    reset gate multiplies ``h_prev @ recurrent_kernel + recurrent bias``); ``bias`` has two rows
    (input bias, recurrent bias); ``h_t = z * h_prev + (1 - z) * candidate``.
    """
    exercise = "Exercise 3 (a GRU step by hand)"
    require_answer(answer, exercise)
    expect(
        callable(answer), f"{exercise}: the answer should be a function (x_t, h_prev, kernel, recurrent_kernel, bias)."
    )
    x, kernel, recurrent_kernel, bias, keras_outputs = gru_reference()
    h = np.zeros((x.shape[0], recurrent_kernel.shape[0]), dtype=np.float32)
    states = []
    for t in range(x.shape[1]):
        try:
            h = np.asarray(answer(x[:, t], h, kernel, recurrent_kernel, bias), dtype=np.float32)
        except Exception as error:
            raise ExerciseIncorrect(f"{exercise}: the step raised {type(error).__name__}: {error}") from error
        expect(
            h.shape == (x.shape[0], recurrent_kernel.shape[0]),
            f"{exercise}: a step should return the new state, shape (batch, units) = "
            f"{(x.shape[0], recurrent_kernel.shape[0])}, but it has shape {h.shape}.",
        )
        states.append(h)
    mine = np.stack(states, axis=1)
    if close(mine, keras_outputs, rtol=1e-4, atol=1e-5):
        return passed(exercise)
    mistakes = (
        (
            {"swap_update": True},
            "z and 1 - z are swapped: Keras keeps z of the old state, h = z * h_prev + (1 - z) * candidate.",
        ),
        (
            {"reset_before": True},
            "you apply the reset gate before the recurrent product (reset_after=False); Keras' default "
            "resets after it: candidate = tanh(x W_h + b_h + r * (h_prev U_h + b'_h)).",
        ),
        ({"swap_gates": True}, "the update and reset gates are swapped: Keras' columns are [z | r | candidate]."),
        ({"no_recurrent_bias": True}, "the recurrent bias (bias[1]) is missing: Keras adds one bias per product."),
    )
    for flags, message in mistakes:
        if close(mine, _gru_sequence(x, kernel, recurrent_kernel, bias, **flags), rtol=1e-4, atol=1e-5):
            raise ExerciseIncorrect(f"{exercise}: {message}")
    worst = float(np.max(np.abs(mine - keras_outputs)))
    raise ExerciseIncorrect(
        f"{exercise}: the states differ from keras.layers.GRU by up to {worst:.3g}. Check the three column blocks "
        "[z | r | candidate] of kernel, recurrent_kernel and bias, and the final mix of h_prev and the candidate."
    )


# Exercise 4: parameters of a bidirectional LSTM ----------------------------------------------


def check_bidirectional_lstm_parameters(answer: Any, *, units: int = 32, features: int = 64) -> str:
    """Exercise 4: parameters of ``Bidirectional(LSTM(units))`` on ``features``-dimensional inputs."""
    import keras

    exercise = "Exercise 4 (parameters of a bidirectional LSTM)"
    require_answer(answer, exercise)
    number = np.asarray(answer) if not isinstance(answer, str | bytes) else np.asarray(np.nan)
    expect(
        number.ndim == 0 and number.dtype.kind in "iuf" and float(number) == np.floor(float(number)),
        f"{exercise}: the answer should be one whole number (a parameter count), got {answer!r}.",
    )
    value = int(number)
    layer = keras.layers.Bidirectional(keras.layers.LSTM(units))
    layer.build((None, None, features))
    expected = layer.count_params()
    one_direction = expected // 2
    weights = units * (features + units)
    expect(value != one_direction, f"{exercise}: {value} is one direction; a bidirectional layer has two LSTMs.")
    expect(
        value not in (expected // 4, one_direction // 4),
        f"{exercise}: {value} counts one set of weights; an LSTM has four (input, forget and output gates, and the "
        "candidate), each with its own kernel, recurrent kernel and bias.",
    )
    expect(value != 2 * 4 * weights, f"{exercise}: {value} forgets the biases (one per unit, per gate, per direction).")
    expect(
        value != 2 * 4 * (weights + 2 * units),
        f"{exercise}: {value} counts two biases per gate (PyTorch's layout); Keras has one.",
    )
    expect(
        value == expected,
        f"{exercise}: {value} is not right; per direction: 4 × (units × (inputs + units) + units), "
        f"with units={units} and inputs={features}.",
    )
    return passed(exercise)
