"""Notebook 09's build exercise 3, contrastive fine-tuning with in-batch negatives: a right answer written here
(not the notebook's solution) passes, and each typical wrong loss fails with the sentence that names it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from helpers.checks import encoders
from helpers.exercises import ExerciseIncorrect, NotAnswered


def in_batch_loss(a, b, temperature, *, normalise=True, scale=True, negatives=True, labels="range", both=False):
    """The loss written another way than the notebook's (log-softmax by hand); the keywords make the mistakes."""
    if normalise:
        a = a / tf.norm(a, axis=1, keepdims=True)
        b = b / tf.norm(b, axis=1, keepdims=True)
    similarity = tf.matmul(a, b, transpose_b=True)
    if scale:
        similarity = similarity / temperature
    if not negatives:
        return -tf.reduce_mean(tf.linalg.diag_part(similarity))
    n = tf.shape(a)[0]
    targets = {"range": tf.range(n), "zeros": tf.zeros([n], tf.int32), "reversed": tf.range(n)[::-1]}[labels]
    rows = tf.nn.log_softmax(similarity, axis=1)
    loss = -tf.reduce_mean(tf.gather(rows, targets, axis=1, batch_dims=1))
    if both:
        columns = tf.nn.log_softmax(tf.transpose(similarity), axis=1)
        loss = (loss - tf.reduce_mean(tf.gather(columns, targets, axis=1, batch_dims=1))) / 2
    return loss


def train_step(encoder, optimizer, first, second, temperature, *, loss=in_batch_loss, apply=True):
    with tf.GradientTape() as tape:
        value = loss(encoder(first, training=True), encoder(second, training=True), temperature)
    if apply:
        gradients = tape.gradient(value, encoder.trainable_variables)
        optimizer.apply_gradients(zip(gradients, encoder.trainable_variables, strict=True))
    return value


def check_loss(loss) -> None:
    encoders._check_contrastive_loss(loss, "Build exercise 3")


@pytest.mark.parametrize("both", [False, True])
def test_right_losses_pass(both: bool) -> None:
    check_loss(lambda a, b, t: in_batch_loss(a, b, t, both=both))
    check_loss(lambda a, b, t: in_batch_loss(b, a, t))  # columns rather than rows: also right


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"negatives": False}, "uses only the matched pairs"),
        ({"normalise": False}, "you compare dot products"),
        ({"labels": "zeros"}, "the labels are tf.range"),
        ({"labels": "reversed"}, "the labels are tf.range"),
        ({"scale": False}, "does not change with the temperature"),
    ],
)
def test_loss_mistakes(keywords: dict, message: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=message):
        check_loss(lambda a, b, t: in_batch_loss(a, b, t, **keywords))


def test_loss_other_mistakes() -> None:
    with pytest.raises(ExerciseIncorrect, match="multiply the cosines by the temperature"):
        check_loss(lambda a, b, t: in_batch_loss(a, b, 1 / t))
    with pytest.raises(ExerciseIncorrect, match="one number"):
        check_loss(lambda a, b, t: in_batch_loss(a, b, t) * tf.ones(3))
    with pytest.raises(ExerciseIncorrect, match=r"against labels 0\.\.n-1"):
        check_loss(lambda a, b, t: 1.1 * in_batch_loss(a, b, t))


@pytest.fixture(scope="module")
def retrieval_task() -> dict:
    import keras_hub

    from helpers.datasets.chatbot import PARAPHRASES_PATH, load_paraphrases, load_question_answers
    from helpers.datasets.registry import fetch

    folder = fetch("all_minilm_l6_v2") / "model"
    tokenizer = keras_hub.models.BertTokenizer.from_preset(str(folder))
    questions = [entry.question for entry in load_question_answers()]
    held_out = load_paraphrases()
    training = load_paraphrases(PARAPHRASES_PATH.with_name("chatbot_training_pairs.yml"))
    return {
        "model_folder": folder,
        "preprocessor": keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=32),
        "pairs": [(p.asks, p.means) for p in training],
        "questions": questions,
        "asked": [p.asks for p in held_out],
        "targets": np.array([questions.index(p.means) for p in held_out]),
        "blocks": 2,
    }


def test_contrastive_fine_tuning_improves_retrieval(retrieval_task: dict) -> None:
    result = encoders.check_contrastive_fine_tuning(
        (in_batch_loss, train_step), **retrieval_task, steps=12, min_gain=0.02
    )
    assert result["MRR after"] > result["MRR before"]


def test_contrastive_fine_tuning_mistakes(retrieval_task: dict) -> None:
    frozen = lambda *args: train_step(*args, apply=False)  # noqa: E731 (computes the loss, never steps)
    with pytest.raises(ExerciseIncorrect, match="went from"):
        encoders.check_contrastive_fine_tuning((in_batch_loss, frozen), **retrieval_task, steps=2, min_gain=0.01)
    with pytest.raises(ExerciseIncorrect, match="uses only the matched pairs"):
        encoders.check_contrastive_fine_tuning(
            (lambda a, b, t: in_batch_loss(a, b, t, negatives=False), train_step), **retrieval_task, steps=2, min_gain=0
        )
    with pytest.raises(ExerciseIncorrect, match="pair of functions"):
        encoders.check_contrastive_fine_tuning(in_batch_loss, **retrieval_task, steps=2, min_gain=0)
    with pytest.raises(NotAnswered):
        encoders.check_contrastive_fine_tuning(None, **retrieval_task, steps=2, min_gain=0)


def test_training_pairs_do_not_touch_the_held_out_paraphrases() -> None:
    from helpers.datasets.chatbot import PARAPHRASES_PATH, load_paraphrases, load_question_answers

    questions = {entry.question for entry in load_question_answers()}
    held_out = load_paraphrases()
    training = load_paraphrases(Path(PARAPHRASES_PATH).with_name("chatbot_training_pairs.yml"))
    assert len(training) >= 100 and [p.means for p in training if p.means not in questions] == []
    assert [p.asks for p in training if p.asks in questions] == []
    assert not {p.asks for p in training} & {p.asks for p in held_out}
    assert not {p.means for p in training} & {p.means for p in held_out}, "a held-out question must stay unseen"
