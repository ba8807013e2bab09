"""Notebook 02's exercise checks: reference answers pass, typical wrong answers fail with a reason."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.checks import mlp
from helpers.exercises import ExerciseIncorrect, NotAnswered

LOGITS = np.array([2.0, -1.0, 0.3, 3.5, -0.4, 4.0, -0.1, -2.0], dtype=np.float32)
LABELS = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0], dtype=np.float32)


def keras_bce(labels, outputs, from_logits: bool) -> float:
    import keras

    return float(keras.losses.BinaryCrossentropy(from_logits=from_logits)(labels, outputs))


def test_loss_from_logits_reference_passes() -> None:
    assert "correct" in mlp.check_loss_from_logits(keras_bce(LABELS, LOGITS, True), LOGITS, LABELS)
    assert "correct" in mlp.check_loss_from_logits(keras_bce(LABELS, LOGITS[:, None], True), LOGITS[:, None], LABELS)


def test_loss_from_logits_recognises_what_keras_gives_for_each_mistake() -> None:
    import tensorflow as tf

    double_sigmoid = keras_bce(LABELS, tf.sigmoid(LOGITS), from_logits=True)
    with pytest.raises(ExerciseIncorrect, match="sigmoid is applied twice"):
        mlp.check_loss_from_logits(double_sigmoid, LOGITS, LABELS)
    logits_as_probabilities = keras_bce(LABELS, LOGITS, from_logits=False)
    with pytest.raises(ExerciseIncorrect, match="expects probabilities"):
        mlp.check_loss_from_logits(logits_as_probabilities, LOGITS, LABELS)
    broadcast = float(
        tf.reduce_mean(
            tf.nn.sigmoid_cross_entropy_with_logits(LABELS[:, None] + 0 * LOGITS, LOGITS + 0 * LABELS[:, None])
        )
    )
    with pytest.raises(ExerciseIncorrect, match="N×N"):
        mlp.check_loss_from_logits(broadcast, LOGITS, LABELS)


@pytest.mark.parametrize(
    ("scale", "message"),
    [(len(LOGITS), "SUM"), (-1.0, "sign is flipped"), (1.1, "not right")],
)
def test_loss_from_logits_scaled_mistakes(scale: float, message: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=message):
        mlp.check_loss_from_logits(scale * keras_bce(LABELS, LOGITS, True), LOGITS, LABELS)


def test_loss_from_logits_not_answered_and_bad_inputs() -> None:
    with pytest.raises(NotAnswered):
        mlp.check_loss_from_logits(None, LOGITS, LABELS)
    with pytest.raises(ExerciseIncorrect, match="one number"):
        mlp.check_loss_from_logits(np.ones(8), LOGITS, LABELS)
    with pytest.raises(ValueError, match="8 logits but 2 labels"):
        mlp.check_loss_from_logits(0.5, LOGITS, LABELS[:2])


def test_parameter_count() -> None:
    assert "correct" in mlp.check_parameter_count(257, n_inputs=2, n_hidden=64, n_outputs=1)
    assert "correct" in mlp.check_parameter_count(np.int64(65), n_inputs=2, n_hidden=16, n_outputs=1)
    with pytest.raises(ExerciseIncorrect, match="weight matrices only"):
        mlp.check_parameter_count(192, n_inputs=2, n_hidden=64, n_outputs=1)
    with pytest.raises(ExerciseIncorrect, match="hidden layer alone"):
        mlp.check_parameter_count(192, n_inputs=2, n_hidden=64, n_outputs=0)
    with pytest.raises(ExerciseIncorrect, match="not right"):
        mlp.check_parameter_count(256, n_inputs=2, n_hidden=64, n_outputs=1)
    with pytest.raises(ExerciseIncorrect, match="whole number"):
        mlp.check_parameter_count(256.5, n_inputs=2, n_hidden=64, n_outputs=1)
    with pytest.raises(NotAnswered):
        mlp.check_parameter_count(None, n_inputs=2, n_hidden=64, n_outputs=1)


def clipping_class(*, clip: bool = True, apply: bool = True, report: bool = True) -> type:
    """A Sequential subclass with a custom train_step: right, or with one of three mistakes."""
    import keras
    import tensorflow as tf

    class Stepped(keras.Sequential):
        clip_norm = 1.0

        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
            gradients = tape.gradient(loss, self.trainable_variables)
            if clip:
                gradients, _ = tf.clip_by_global_norm(gradients, self.clip_norm)
            if apply:
                self.optimizer.apply(gradients, self.trainable_variables)
            for metric in self.metrics if report else []:  # the mistake: metrics never updated
                metric.update_state(loss) if metric.name == "loss" else metric.update_state(y, y_pred)
            return {metric.name: metric.result() for metric in self.metrics}

    return Stepped


@pytest.fixture(scope="module")
def moons_split():
    from sklearn.datasets import make_moons

    points, labels = make_moons(1500, noise=0.2, random_state=0)
    points, labels = points.astype("float32"), labels.astype("float32")
    return points[:1000], labels[:1000], points[1000:], labels[1000:]


def test_clipping_train_step_reference_passes(moons_split) -> None:
    assert "correct" in mlp.check_clipping_train_step(clipping_class(), *moons_split, min_accuracy=0.93)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (None, None),
        ("ClippingSequential", "give the class itself"),
        ("keras.Sequential", "does not override train_step"),
        ({"clip": False}, "moved the weight by 200"),
        ({"apply": False}, "did not move at all"),
        ({"report": False}, "fit reported no loss"),
    ],
)
def test_clipping_train_step_mistakes(moons_split, answer, message) -> None:
    import keras

    if answer is None:
        with pytest.raises(NotAnswered):
            mlp.check_clipping_train_step(None, *moons_split, min_accuracy=0.93)
        return
    wrong = keras.Sequential if answer == "keras.Sequential" else answer
    if isinstance(answer, dict):
        wrong = clipping_class(**answer)
    with pytest.raises(ExerciseIncorrect, match=message):
        mlp.check_clipping_train_step(wrong, *moons_split, min_accuracy=0.93)
