"""Build exercises' checks: a right answer written here (not the notebook's solution) passes, and each
typical wrong answer fails with the sentence that names it.

Build exercises and where their checks are tested: 00 (an honest timer), 01 (RMSprop by hand), 02 (a
deeper MLP with He initialisation), 05a (a threshold for a cost matrix), 05b (a stratified bootstrap)
and 07 (a 1-D convolutional text classifier) here; 02's custom ``train_step`` that clips gradients in
``test_checks_mlp.py``; 06's export with a custom serving signature in ``test_checks_deployment.py``;
10's byte-level BPE tokenizer in ``test_checks_build_10.py``; 11's graph attention layer in
``test_checks_build_11.py``.
Notebook 03's convolution by hand (not yet a build exercise) is tested here too.
"""

from __future__ import annotations

import itertools
import statistics
import time

import numpy as np
import pytest

from helpers.checks import fundamentals, metrics, mlp, mnist, setup, text
from helpers.exercises import ExerciseIncorrect, NotAnswered

# 00, build exercise 3: an honest timer --------------------------------------------------------------


def timer(fn, warmup=3, repeats=10, *, warm=True, wait=True, summary=statistics.median, time_warmup=False):
    """A timer written another way than the notebook's; the keywords make the typical mistakes."""
    if warm:
        for _ in range(warmup):
            np.asarray(fn())
    durations = []
    for _ in range((warmup if time_warmup else 0) + repeats):
        start = time.perf_counter()
        result = fn()
        if wait:
            result.numpy() if hasattr(result, "numpy") else np.asarray(result)
        durations.append(time.perf_counter() - start)
    return summary(durations)


def test_honest_timer_right_answer_passes() -> None:
    assert "correct" in setup.check_honest_timer(timer)


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"summary": statistics.mean}, "the mean of the repeats"),
        ({"summary": min}, "the fastest call"),
        ({"summary": sum}, "the total of all repeats"),
        ({"wait": False}, "returned before its work was done"),
        ({"warm": False}, "called fn 5 times"),
        ({"warm": False, "time_warmup": True}, "warm-up calls were timed too"),
    ],
)
def test_honest_timer_mistakes(keywords: dict, message: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=message):
        setup.check_honest_timer(lambda fn, warmup, repeats: timer(fn, warmup, repeats, **keywords))


def test_honest_timer_other_answers() -> None:
    with pytest.raises(NotAnswered):
        setup.check_honest_timer(None)
    with pytest.raises(ExerciseIncorrect, match="in milliseconds"):
        setup.check_honest_timer(lambda fn, warmup, repeats: 1000 * timer(fn, warmup, repeats))
    with pytest.raises(ExerciseIncorrect, match="one number"):
        setup.check_honest_timer(lambda fn, warmup, repeats: [0.02, 0.03])


# 01, build exercise 3: RMSprop by hand ----------------------------------------------------------------


class RMSprop:
    """RMSprop as Keras runs it (epsilon inside the square root, no bias correction), or with one mistake."""

    mistake = ""

    def __init__(self, learning_rate, rho=0.9, epsilon=1e-7):
        self.learning_rate, self.rho, self.epsilon = learning_rate, rho, epsilon
        self.mean_square, self.steps = None, 0

    def step(self, params, grad):
        rho = 0.9 if self.mistake == "fixed rho" else self.rho
        if self.mean_square is None:
            self.mean_square = np.zeros_like(grad)
        self.steps += 1
        if self.mistake == "swapped rho":
            self.mean_square = (1 - rho) * self.mean_square + rho * grad * grad
        else:
            self.mean_square = rho * self.mean_square + (1 - rho) * grad * grad
        mean_square = self.mean_square
        if self.mistake == "bias correction":
            mean_square = mean_square / (1 - rho**self.steps)
        if self.mistake in ("epsilon outside", "bias correction"):
            scale = np.sqrt(mean_square) + self.epsilon
        else:
            scale = np.sqrt(mean_square + self.epsilon)
        return params + self.learning_rate * grad / scale * (1 if self.mistake == "ascent" else -1)


def rmsprop_with(mistake: str) -> type:
    return type(f"RMSprop with {mistake}", (RMSprop,), {"mistake": mistake})


def test_rmsprop_right_answer_passes() -> None:
    assert "correct" in fundamentals.check_rmsprop(RMSprop)


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        ("epsilon outside", "epsilon is outside the square root"),
        ("bias correction", "as Adam does"),
        ("swapped rho", "the decay is the wrong way round"),
        ("fixed rho", "use the rho it is given"),
        ("ascent", "moved away from the minimum"),
    ],
)
def test_rmsprop_mistakes(mistake: str, message: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=message):
        fundamentals.check_rmsprop(rmsprop_with(mistake))


def test_rmsprop_other_answers() -> None:
    with pytest.raises(NotAnswered):
        fundamentals.check_rmsprop(None)
    with pytest.raises(ExerciseIncorrect, match="arguments learning_rate, rho and epsilon"):
        fundamentals.check_rmsprop(lambda learning_rate: None)
    with pytest.raises(ExerciseIncorrect, match="needs a method step"):
        fundamentals.check_rmsprop(lambda learning_rate, rho=0.9, epsilon=1e-7: object())


def test_the_checks_keras_path_starts_at_the_start_and_reaches_the_minimum() -> None:
    path = fundamentals.keras_rmsprop_path(0.9)
    assert path.shape == (fundamentals.RMSPROP_STEPS + 1, 3)
    assert np.array_equal(path[0], fundamentals.RMSPROP_START)
    start, end = (np.abs(point - fundamentals.RMSPROP_TARGET) for point in (path[0], path[-1]))
    assert np.all(end[:2] < start[:2] / 2), "the gentle and the steep directions head for the minimum"
    assert 0 < start[2] - end[2] < 0.1, "the flat direction moves, a little (epsilon dominates its tiny v)"


# 02, build exercise 3: a deeper MLP with He initialisation ----------------------------------------------


def initialiser(kind: str = "he"):
    """``init(layer_sizes, seed)`` with Keras' initialisers (not the notebook's NumPy draw)."""
    import keras
    import tensorflow as tf

    def init(layer_sizes, seed):
        make = {
            "he": keras.initializers.HeNormal,
            "he uniform": keras.initializers.HeUniform,
            "glorot": keras.initializers.GlorotNormal,
            "glorot uniform": keras.initializers.GlorotUniform,
            "zeros": lambda seed: keras.initializers.Zeros(),
            "std 1": lambda seed: keras.initializers.RandomNormal(stddev=1.0, seed=seed),
            "uniform ±√(2/fan_in)": None,
        }[kind]
        params = []
        for fan_in, fan_out in itertools.pairwise(layer_sizes):
            if make is None:
                limit = np.sqrt(2 / fan_in)
                weights = np.random.default_rng(seed).uniform(-limit, limit, (fan_in, fan_out)).astype("float32")
            else:
                weights = make(seed=seed + fan_in)((fan_in, fan_out))
            params += [tf.Variable(weights), tf.Variable(tf.zeros(fan_out))]
        return params

    return init


def deep_forward(params, x, *, relu_out=False, hidden_layers=None, biases=True):
    import tensorflow as tf

    pairs = list(zip(params[::2], params[1::2], strict=True))
    hidden = pairs[:-1] if hidden_layers is None else pairs[:hidden_layers]
    for weights, bias in hidden:
        x = tf.nn.relu(x @ weights + (bias if biases else 0.0))
    logits = tf.squeeze(x @ pairs[-1][0] + pairs[-1][1], axis=-1)
    return tf.nn.relu(logits) if relu_out else logits


@pytest.fixture(scope="module")
def moons():
    from sklearn.datasets import make_moons

    points, labels = make_moons(2000, noise=0.2, random_state=42)
    points, labels = points.astype("float32"), labels.astype("float32")
    return points[:1000], labels[:1000], points[1000:], labels[1000:]


def test_he_deep_mlp_right_answers_pass(moons) -> None:
    assert "correct" in mlp.check_he_deep_mlp((initialiser("he"), deep_forward), *moons, min_accuracy=0.93)
    assert "correct" in mlp.check_he_deep_mlp((initialiser("he uniform"), deep_forward), *moons, min_accuracy=0.93)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("glorot", "HALVES at every layer"),
        ("glorot uniform", "HALVES at every layer"),
        ("uniform ±√(2/fan_in)", "a third of He's"),
        ("zeros", "all zero"),
        ("std 1", "GROW at every layer"),
    ],
)
def test_he_deep_mlp_wrong_initialisations(moons, kind: str, message: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=message):
        mlp.check_he_deep_mlp((initialiser(kind), deep_forward), *moons, min_accuracy=0.93)


def test_he_deep_mlp_wrong_forward_passes_and_answers(moons) -> None:
    init = initialiser("he")
    with pytest.raises(ExerciseIncorrect, match="applies ReLU to the output"):
        mlp.check_he_deep_mlp((init, lambda p, x: deep_forward(p, x, relu_out=True)), *moons, min_accuracy=0.93)
    with pytest.raises(ExerciseIncorrect, match="and so on"):  # the hidden layers' biases left out
        mlp.check_he_deep_mlp((init, lambda p, x: deep_forward(p, x, biases=False)), *moons, min_accuracy=0.93)
    with pytest.raises(ExerciseIncorrect, match=r"forward\(params, x\) raised"):  # only the first hidden layer
        mlp.check_he_deep_mlp((init, lambda p, x: deep_forward(p, x, hidden_layers=1)), *moons, min_accuracy=0.93)
    two_layers = lambda sizes, seed: init([sizes[0], 16, 1], seed)  # noqa: E731  (whatever the sizes asked)
    with pytest.raises(ExerciseIncorrect, match="but init returned 4"):
        mlp.check_he_deep_mlp((two_layers, deep_forward), *moons, min_accuracy=0.93)
    with pytest.raises(ExerciseIncorrect, match="pair of functions"):
        mlp.check_he_deep_mlp(init, *moons, min_accuracy=0.93)
    with pytest.raises(NotAnswered):
        mlp.check_he_deep_mlp(None, *moons, min_accuracy=0.93)


# 05a, build exercise 3: a threshold for a cost matrix --------------------------------------------------


def cheapest_threshold(labels, scores, cost_fp, cost_fn):
    """Sort once, then every cut between two scores in one pass (another way than the notebook's loop)."""
    order = np.argsort(-scores, kind="stable")
    ranked, sorted_scores = labels[order], scores[order]
    false_alarms = np.concatenate([[0], np.cumsum(ranked == 0)])
    misses = ranked.sum() - np.concatenate([[0], np.cumsum(ranked == 1)])
    flagged = int(np.argmin(cost_fp * false_alarms + cost_fn * misses))  # flag the `flagged` highest scores
    return np.inf if flagged == 0 else float(sorted_scores[flagged - 1])


def test_cost_threshold_right_answer_passes() -> None:
    assert "correct" in metrics.check_cost_threshold(cheapest_threshold)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda y, s, c_fp, c_fn: 0.5, "0.5 is the default"),
        (lambda y, s, c_fp, c_fn: cheapest_threshold(y, s, 1.0, 1.0), "best ACCURACY"),
        (lambda y, s, c_fp, c_fn: cheapest_threshold(y, s, c_fn, c_fp), "two costs swapped"),
        (lambda y, s, c_fp, c_fn: c_fp / (c_fp + c_fn), "CALIBRATED probabilities"),
        (lambda y, s, c_fp, c_fn: c_fn / (c_fp + c_fn), "the wrong way round"),
        (lambda y, s, c_fp, c_fn: 0.9, "more than the best threshold"),
        (lambda y, s, c_fp, c_fn: "0.3", "one number"),
    ],
)
def test_cost_threshold_mistakes(wrong, message: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=message):
        metrics.check_cost_threshold(wrong)


def test_cost_threshold_not_answered_and_the_cost_helpers() -> None:
    with pytest.raises(NotAnswered):
        metrics.check_cost_threshold(None)
    labels, scores = np.array([0, 0, 1, 1, 0]), np.array([0.1, 0.4, 0.35, 0.8, 0.9])
    assert metrics.expected_cost(labels, scores, 0.35, 1.0, 5.0) == pytest.approx(2 / 5)
    assert metrics.lowest_cost(labels, scores, 1.0, 5.0) == pytest.approx(2 / 5)  # flag 4 birds: 2 males for nothing


# 05b, build exercise 2: a stratified bootstrap ---------------------------------------------------------


def stratified_interval(metric, y_true, y_other, n_resamples, seed, *, mistake=""):
    """A stratified percentile interval (one permutation of all positions, grouped by class), or a mistake."""
    rng = np.random.default_rng(seed)
    y_true, y_other = np.asarray(y_true), np.asarray(y_other)
    by_class = [np.flatnonzero(y_true == c) for c in np.unique(y_true)]
    values = []
    for _ in range(n_resamples):
        if mistake == "reseeded":
            rng = np.random.default_rng(seed)
        if mistake == "plain":
            sample = rng.integers(0, len(y_true), len(y_true))
        elif mistake == "shuffle":
            sample = np.concatenate([rng.permutation(members) for members in by_class])
        elif mistake == "last member never drawn":
            sample = np.concatenate([members[rng.integers(0, len(members) - 1, len(members))] for members in by_class])
        elif mistake == "equal counts":
            sample = np.concatenate([rng.choice(members, len(y_true) // len(by_class)) for members in by_class])
        else:
            sample = np.concatenate([members[rng.integers(0, len(members), len(members))] for members in by_class])
        values.append(metric(y_true[sample], y_other[sample]))
    if mistake == "mean ± std":
        return float(np.mean(values) - np.std(values)), float(np.mean(values) + np.std(values))
    if mistake == "90 %":
        return tuple(np.quantile(values, [0.05, 0.95]))
    return tuple(np.quantile(values, [0.025, 0.975]))


def test_stratified_bootstrap_right_answer_passes() -> None:
    assert "correct" in metrics.check_stratified_bootstrap(stratified_interval)


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        ("plain", "A stratified resample draws, within each class"),
        ("equal counts", "the same number for every class"),
        ("shuffle", "that is a shuffle"),
        ("last member never drawn", "an integer upper bound is exclusive"),
        ("reseeded", "every resample holds the same examples"),
        ("mean ± std", r"holds 6\d% of the metric's values"),
        ("90 %", "holds 90% of the metric's values"),
    ],
)
def test_stratified_bootstrap_mistakes(mistake: str, message: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=message):
        metrics.check_stratified_bootstrap(lambda *arguments: stratified_interval(*arguments, mistake=mistake))


def test_stratified_bootstrap_other_answers() -> None:
    with pytest.raises(NotAnswered):
        metrics.check_stratified_bootstrap(None)
    with pytest.raises(ExerciseIncorrect, match=r"low .* is above high"):
        metrics.check_stratified_bootstrap(lambda *arguments: stratified_interval(*arguments)[::-1])
    with pytest.raises(ExerciseIncorrect, match="same seed gave two different"):
        metrics.check_stratified_bootstrap(
            lambda metric, y, o, n, seed: stratified_interval(metric, y, o, n, int(time.perf_counter_ns()))
        )


# 07, build exercise 3: a 1-D convolutional text classifier ----------------------------------------------


@pytest.fixture(scope="module")
def r8_pipeline():
    """Notebook 07's fast-mode pipeline (R8 through the course's data layer): train, test, vocabulary size, plan."""
    from helpers.datasets.text import load_r8
    from helpers.lessons.text import make_vectorizer, text_dataset, text_plan, training_subset

    plan = text_plan("fast")
    r8 = load_r8()
    texts, labels = training_subset(r8, plan.train_documents, 42)
    vectorizer = make_vectorizer(texts, plan.max_tokens, plan.sequence_length)
    train = text_dataset(texts, r8.label_ids(labels), vectorizer, plan.batch_size, shuffle_seed=42)
    test = text_dataset(r8.test_texts, r8.label_ids(r8.test_labels), vectorizer, 512)
    for _ in test:  # fill the cache, as the notebook's evaluations do before the check
        pass
    return train, test, len(vectorizer.get_vocabulary()), plan


def cnn_builder(*, kernel_size=3, filters=96, softmax=True, length=None, flatten=False):
    """A 1-D CNN written here (kernel 3, 96 filters, "same" padding), or one with a known mistake."""
    import keras

    def build(vocabulary_size, num_classes, embedding_dim):
        ids = keras.Input((length,), dtype="int64")
        x = keras.layers.Embedding(vocabulary_size, embedding_dim)(ids)
        x = keras.layers.Conv1D(filters, kernel_size, activation="relu", padding="same")(x)
        x = keras.layers.Flatten()(x) if flatten else keras.layers.GlobalMaxPooling1D()(x)
        x = keras.layers.Dropout(0.2)(x)
        return keras.Model(ids, keras.layers.Dense(num_classes, activation="softmax" if softmax else None)(x))

    return build


def run_cnn_check(answer, r8_pipeline) -> str:
    train, test, vocabulary_size, plan = r8_pipeline
    return text.check_conv1d_classifier(
        answer,
        train,
        test,
        vocabulary_size=vocabulary_size,
        num_classes=8,
        embedding_dim=plan.embedding_dim,
        epochs=3,
        learning_rate=plan.average_learning_rate,
        min_accuracy=0.92,
    )


def test_conv1d_classifier_right_answer_passes(r8_pipeline) -> None:
    assert "correct" in run_cnn_check(cnn_builder(), r8_pipeline)


def test_conv1d_classifier_mistakes(r8_pipeline) -> None:
    from helpers.lessons.text import build_average_embedding_model

    mistakes = {
        "reads a bag of words": cnn_builder(kernel_size=1),
        "has no keras.layers.Conv1D": lambda v, c, d: build_average_embedding_model(v, c, d),
        "not probabilities": cnn_builder(softmax=False),
        "stories of any length": cnn_builder(length=64, flatten=True),
        "at least 92% expected": cnn_builder(kernel_size=2, filters=1),  # too small to learn the topics
        "should return a keras.Model": lambda v, c, d: "a model",
    }
    for message, answer in mistakes.items():
        with pytest.raises(ExerciseIncorrect, match=message):
            run_cnn_check(answer, r8_pipeline)
    with pytest.raises(NotAnswered):
        run_cnn_check(None, r8_pipeline)


# 03, exercise 5: a convolution by hand ----------------------------------------------------------------
def conv2d(image, kernel, stride, padding):
    k = kernel.shape[0]
    if padding == "same":
        padded = []
        for n in image.shape:
            out = -(-n // stride)
            total = max((out - 1) * stride + k - n, 0)
            padded.append((total // 2, total - total // 2))
        image = np.pad(image, padded)
    rows = (image.shape[0] - k) // stride + 1
    columns = (image.shape[1] - k) // stride + 1
    out = np.zeros((rows, columns))
    for i in range(rows):
        for j in range(columns):
            out[i, j] = np.sum(image[i * stride : i * stride + k, j * stride : j * stride + k] * kernel)
    return out


def test_conv2d() -> None:
    assert "correct" in mnist.check_conv2d(conv2d)
    with pytest.raises(ExerciseIncorrect, match="flipped the kernel"):
        mnist.check_conv2d(lambda image, kernel, s, p: conv2d(image, kernel[::-1, ::-1], s, p))
    with pytest.raises(ExerciseIncorrect, match="output should be"):
        mnist.check_conv2d(lambda image, kernel, s, p: conv2d(image, kernel, s, "valid"))  # ignores padding
    with pytest.raises(ExerciseIncorrect, match="output should be"):
        mnist.check_conv2d(lambda image, kernel, s, p: conv2d(image, kernel, 1, p))  # ignores the stride

    def padding_on_the_wrong_side(image, kernel, stride, padding):
        if padding == "same":
            k, n = kernel.shape[0], image.shape[0]
            total = max((-(-n // stride) - 1) * stride + k - n, 0)
            if total % 2:  # the extra zero on top and left instead of bottom and right
                image = np.pad(image, ((1, 0), (1, 0)))
                return conv2d(image, kernel, stride, "same")[: -(-n // stride), : -(-image.shape[1] // stride)]
        return conv2d(image, kernel, stride, padding)

    with pytest.raises(ExerciseIncorrect):
        mnist.check_conv2d(padding_on_the_wrong_side)
