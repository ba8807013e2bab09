"""Notebook 11's exercises: the softmax over each node's neighbours (exercise 1) and build exercise 3, a graph
attention layer. A right answer written here (not the notebook's solution) passes, and each typical wrong answer
fails with the sentence that names it."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers.checks import graphs as checks
from helpers.exercises import ExerciseIncorrect, NotAnswered
from helpers.lessons import graphs


# Exercise 1: the softmax over each node's neighbours.
def neighbour_softmax(scores, rows, num_nodes, *, stable=True, per_row=True, exp=True):
    scores, rows = np.asarray(scores, dtype=float), np.asarray(rows)
    if stable:
        largest = np.full(num_nodes, -np.inf)
        np.maximum.at(largest, rows, scores)
        scores = scores - largest[rows]
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.exp(scores) if exp else scores
        totals = np.bincount(rows, values, minlength=num_nodes)[rows] if per_row else values.sum()
        return values / totals


def tensorflow_softmax(scores, rows, num_nodes):
    scores = tf.constant(scores, tf.float32)
    shifted = scores - tf.gather(tf.math.unsorted_segment_max(scores, rows, num_nodes), rows)
    return tf.exp(shifted) / tf.gather(tf.math.unsorted_segment_sum(tf.exp(shifted), rows, num_nodes), rows)


def test_neighbour_softmax_right_answers_pass() -> None:
    assert "correct" in checks.check_neighbour_softmax(neighbour_softmax)
    assert "correct" in checks.check_neighbour_softmax(tensorflow_softmax)


@pytest.mark.parametrize(
    ("mistake", "sentence"),
    [
        ({"per_row": False}, "over ALL the scores"),
        ({"exp": False, "stable": False}, "without exp"),
        ({"stable": False}, "overflows"),
    ],
)
def test_neighbour_softmax_mistakes(mistake, sentence) -> None:
    with pytest.raises(ExerciseIncorrect, match=sentence):
        checks.check_neighbour_softmax(lambda s, r, n: neighbour_softmax(s, r, n, **mistake))
    with pytest.raises(NotAnswered):
        checks.check_neighbour_softmax(None)


# Build exercise 3: a graph attention layer, written densely (masked scores), unlike the notebook's sparse one.
def attention_layer(*, self_loops=True, mask=True, normalise="softmax", attend=True, neighbours=True):
    """A GAT layer class: right with the defaults; each keyword makes one typical mistake."""

    class DenseGraphAttention(keras.layers.Layer):
        def __init__(self, units, activation=None, **kwargs):
            super().__init__(**kwargs)
            self.units, self.activation = units, keras.activations.get(activation)

        def build(self, features_shape):
            self.kernel = self.add_weight(shape=(features_shape[-1], self.units), name="kernel")
            self.a = self.add_weight(shape=(2 * self.units,), name="attention")
            self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

        def call(self, features, adjacency):
            z = features @ self.kernel
            nodes = tf.shape(z)[0]
            edges = tf.sparse.to_dense(tf.sparse.reorder(adjacency)) > 0
            if self_loops:
                edges |= tf.eye(nodes, dtype=tf.bool)
            if not neighbours:  # the mistake "edges ignored": each node attends to itself alone
                edges = tf.eye(nodes, dtype=tf.bool)
            scores = z @ self.a[: self.units, None] + tf.transpose(z @ self.a[self.units :, None])
            scores = tf.nn.leaky_relu(scores, 0.2) if attend else tf.zeros_like(scores)
            if normalise == "softmax":
                masked = tf.where(edges, scores, -1e30) if mask else scores
                weights = tf.nn.softmax(masked, axis=1)
            else:  # the mistake "no softmax": the scores themselves as weights
                weights = tf.where(edges, scores, 0.0)
            return self.activation(weights @ z + self.bias)

    return DenseGraphAttention


SMALL = graphs.stochastic_block_model(100, 3, 8.0, 2.0, 16, 1.0, seed=0)  # 300 people


def small_check(layer, min_accuracy=0.75):
    return checks.check_graph_attention(
        layer,
        SMALL,
        graphs.labelled_nodes(SMALL.labels, 0.1, 0),
        hidden_units=8,
        dropout=0.5,
        epochs=60,
        learning_rate=0.01,
        weight_decay=5e-4,
        min_accuracy=min_accuracy,
    )


def test_graph_attention_right_answer_passes() -> None:
    assert "correct" in small_check(attention_layer())


@pytest.mark.parametrize(
    ("mistake", "sentence"),
    [
        ({"mask": False}, "not over all the nodes"),
        ({"self_loops": False}, "add a self-loop"),
        ({"normalise": "none"}, "Normalise: a softmax"),
        ({"neighbours": False}, "change when a neighbour's features change"),
        ({"attend": False}, "do not depend on the features"),
    ],
)
def test_graph_attention_mistakes(mistake, sentence) -> None:
    with pytest.raises(ExerciseIncorrect, match=sentence):
        small_check(attention_layer(**mistake))


def test_graph_attention_shape_placeholder_and_bound() -> None:
    with pytest.raises(NotAnswered):
        small_check(None)
    with pytest.raises(ExerciseIncorrect, match="layer class itself"):
        small_check(attention_layer()(4))
    with pytest.raises(ExerciseIncorrect, match="at least 100%"):
        small_check(attention_layer(), min_accuracy=1.0)
