"""Exercise checks of notebook 07 (text, embeddings and recurrent networks).

Each check runs the learner's answer on inputs of its own and compares the behaviour with what
it must be (computed here independently, or by Keras itself); known mistakes get a sentence of
their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from helpers.exercises import ExerciseIncorrect, call_answer, close, expect, passed, require_answer

PAD = 0  # token id 0 is padding, as with keras.layers.TextVectorization


# Exercise 1: a masked mean of embeddings ----------------------------------------------------


def check_masked_mean(answer: Callable[[Any, Any], Any], seed: int = 7) -> str:
    """Exercise 1: ``answer(embeddings, token_ids)``: mean over the non-padding positions of each row.

    ``embeddings`` is (batch, time, dim), ``token_ids`` (batch, time) with 0 for padding; a row of
    only padding must give zeros (not NaN).
    """
    exercise = "Exercise 1 (a masked mean)"
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


# Exercise 2: parameters of a bidirectional LSTM ----------------------------------------------


def check_bidirectional_lstm_parameters(answer: Any, *, units: int = 32, features: int = 64) -> str:
    """Exercise 2: parameters of ``Bidirectional(LSTM(units))`` on ``features``-dimensional inputs."""
    import keras

    exercise = "Exercise 2 (parameters of a bidirectional LSTM)"
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


# Build exercise 3: a 1-D convolutional text classifier -------------------------------------------

CNN_PROBE_STORIES = 16


def _probabilities(model: Any, ids: np.ndarray, exercise: str, what: str) -> np.ndarray:
    """The model's outputs on ``ids`` (inference mode), or a message saying why it could not read them."""
    try:
        return np.asarray(model(ids, training=False), dtype=np.float64)
    except Exception as error:  # the learner's model: report any failure in words
        raise ExerciseIncorrect(
            f"{exercise}: the model could not read {what} ({type(error).__name__}: {str(error)[:200]}). It must read "
            "stories of any length: keras.Input((None,), dtype='int64') and a GLOBAL pooling over the positions "
            "(a Flatten would need one fixed length)."
        ) from error


def _all_layers(model: Any) -> list[Any]:
    """Every layer of a Keras model, those of nested models included."""
    found = []
    for layer in getattr(model, "layers", []):
        found += [layer, *_all_layers(layer)]
    return found


def _shuffle_words(ids: np.ndarray, seed: int = 0) -> np.ndarray:
    """The stories with their real (non-padding) tokens in a random order, the padding left at the end."""
    rng = np.random.default_rng(seed)
    shuffled = ids.copy()
    for row in shuffled:
        real = row != PAD
        row[real] = rng.permutation(row[real])
    return shuffled


def check_conv1d_classifier(
    answer: Any,
    train: Any,
    test: Any,
    *,
    vocabulary_size: int,
    num_classes: int,
    embedding_dim: int,
    epochs: int,
    learning_rate: float,
    min_accuracy: float,
    seed: int = 42,
) -> str:
    """Build exercise 3: ``answer(vocabulary_size, num_classes, embedding_dim)`` builds an untrained Keras model
    (token ids in, ``num_classes`` probabilities out) whose core is a ``Conv1D`` over the embeddings.

    Judged by behaviour, on the notebook's own pipeline: before training, the model must read
    stories of any length, output probabilities, and change its output when the words of a story are
    shuffled (a convolution reads neighbouring words; an average or a kernel of size 1 cannot tell).
    Then it is trained with the notebook's ``fit_classifier`` (``epochs`` epochs, Adam with a cosine
    decay from ``learning_rate``) on ``train`` and must reach ``min_accuracy`` on ``test``.
    About 5 s in fast mode on 2 cores.
    """
    import keras

    from helpers.lessons.text import fit_classifier

    exercise = "Build exercise 3 (a 1-D convolutional text classifier)"
    require_answer(answer, exercise)
    expect(
        callable(answer),
        f"{exercise}: answer_3 should be the function build(vocabulary_size, num_classes, embedding_dim) that makes "
        f"the model, not {type(answer).__name__}.",
    )
    keras.utils.set_random_seed(seed)
    model = call_answer(
        answer,
        exercise,
        f"({vocabulary_size}, {num_classes}, {embedding_dim})",
        vocabulary_size,
        num_classes,
        embedding_dim,
    )
    expect(
        isinstance(model, keras.Model),
        f"{exercise}: the function should return a keras.Model (untrained), got {type(model).__name__}.",
    )
    expect(
        any(isinstance(layer, keras.layers.Conv1D) for layer in _all_layers(model)),
        f"{exercise}: the model has no keras.layers.Conv1D: slide filters over the sequence of embeddings.",
    )
    ids = np.concatenate([np.asarray(batch[0]) for batch in test.take(1)])[:CNN_PROBE_STORIES]
    outputs = _probabilities(model, ids, exercise, f"a batch of {len(ids)} test stories")
    expect(
        outputs.shape == (len(ids), num_classes),
        f"{exercise}: the model should give {num_classes} numbers per story (one per topic), shape "
        f"({len(ids)}, {num_classes}); it gives shape {outputs.shape}.",
    )
    expect(
        outputs.min() >= 0 and np.allclose(outputs.sum(axis=1), 1, atol=1e-3),
        f"{exercise}: the outputs are not probabilities (they range from {outputs.min():.3g} to {outputs.max():.3g}); "
        "end with Dense(num_classes, activation='softmax'), as the notebook's models do (the loss expects them).",
    )
    for what, other in (
        ("the stories cut to 20 tokens", ids[:, :20]),
        ("the stories with 30 more padding tokens", np.pad(ids, ((0, 0), (0, 30)))),
    ):
        other_outputs = _probabilities(model, other, exercise, what)
        expect(
            other_outputs.shape == outputs.shape,
            f"{exercise}: on {what} the model gives shape {other_outputs.shape}, not {outputs.shape}: pool over the "
            "positions (GlobalMaxPooling1D), so that any length gives one vector per story.",
        )
    shuffled = _probabilities(model, _shuffle_words(ids), exercise, "the stories with their words shuffled")
    expect(
        float(np.max(np.abs(shuffled - outputs))) > 1e-4,
        f"{exercise}: the model gives the same outputs when the words of each story are shuffled: it reads a bag of "
        "words. A Conv1D with kernel_size k > 1 reads k neighbouring words at once (kernel_size=1 looks at one word "
        "at a time), and it must be the path from the embeddings to the output.",
    )
    run = fit_classifier(model, train, epochs, learning_rate)
    accuracy = float(model.evaluate(test, verbose=0, return_dict=True)["accuracy"])
    expect(
        accuracy >= min_accuracy,
        f"{exercise}: trained {epochs} epochs with the notebook's fit_classifier, the model reaches {accuracy:.2%} "
        f"test accuracy; at least {min_accuracy:.0%} expected. Enough filters (64 or more), kernel_size 3 to 5, "
        "ReLU, GlobalMaxPooling1D, then the softmax layer.",
    )
    print(
        f"order-sensitive, any length; trained {epochs} epochs in {run.seconds:.1f} s: test accuracy {accuracy:.2%}, "
        f"{model.count_params():,} parameters"
    )
    return passed(exercise)
