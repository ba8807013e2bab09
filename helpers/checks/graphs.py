"""Exercise checks of notebook 11 (graph neural networks): the softmax over each node's neighbours, mean
aggregation, and build exercise 3, a graph attention layer (GAT) trained on the stochastic block model.

Each check runs the learner's answer on graphs of its own (with a node that has no neighbours) and
judges the behaviour: mean aggregation against plain NumPy; the attention layer by what its outputs
depend on, then by the accuracy it reaches once trained; known mistakes get a sentence of their own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises import ExerciseIncorrect, call_answer, close, expect, expect_close, passed, require_answer

# Five people: a triangle 0-1-2, a pendant 3 on 2, and 4 alone. Each undirected edge is listed once.
EDGES = np.array([[0, 1], [1, 2], [0, 2], [2, 3]])
NUM_NODES = 5


def as_array(value: Any) -> np.ndarray:
    """A dense NumPy array of ``value`` (a NumPy array, a tensor or a ``tf.SparseTensor``)."""
    if hasattr(value, "dense_shape"):  # tf.SparseTensor
        import tensorflow as tf

        value = tf.sparse.to_dense(tf.sparse.reorder(value))
    return np.asarray(value, dtype=np.float64)


def dense_adjacency(edges: np.ndarray, num_nodes: int) -> np.ndarray:
    """The symmetric 0/1 adjacency matrix of ``edges``."""
    adjacency = np.zeros((num_nodes, num_nodes))
    adjacency[edges[:, 0], edges[:, 1]] = adjacency[edges[:, 1], edges[:, 0]] = 1.0
    return adjacency


def check_mean_aggregation(answer: Any) -> str:
    """Exercise 2: ``answer(features, edges)``: each node's mean of its neighbours' features (zeros if none)."""
    exercise = "Exercise 2 (mean aggregation)"
    rng = np.random.default_rng(11)
    features = rng.normal(size=(NUM_NODES, 3)) + 2.0
    result = as_array(
        call_answer(answer, exercise, "features (5, 3) and the edges [[0, 1], [1, 2], [0, 2], [2, 3]]", features, EDGES)
    )
    expect(
        result.shape == features.shape,
        f"{exercise}: return one vector per node, shape {features.shape}; yours is {result.shape}.",
    )
    adjacency = dense_adjacency(EDGES, NUM_NODES)
    degree = adjacency.sum(axis=1)
    expected = (adjacency @ features) / np.maximum(degree, 1)[:, None]
    expect(
        bool(np.all(np.isfinite(result))),
        f"{exercise}: your result holds NaN or infinity: node 4 has no neighbours (0 / 0). "
        "A node without neighbours gets a vector of zeros.",
    )
    expect(
        not close(result, adjacency @ features),
        f"{exercise}: this is the SUM of the neighbours' features: divide by the number of neighbours.",
    )
    with_self = (adjacency + np.eye(NUM_NODES)) @ features / (degree + 1)[:, None]
    expect(
        not close(result, with_self),
        f"{exercise}: you included each node itself in the mean: GraphSAGE keeps the node apart "
        "(it gets its own weights), so average over the neighbours only.",
    )
    one_way = np.zeros((NUM_NODES, NUM_NODES))
    one_way[EDGES[:, 0], EDGES[:, 1]] = 1.0
    for directed in (one_way, one_way.T):
        counts = np.maximum(directed.sum(axis=1), 1)[:, None]
        expect(
            not close(result, directed @ features / counts),
            f"{exercise}: only one direction of each edge counted: an edge (i, j) makes j a neighbour of i "
            "AND i a neighbour of j.",
        )
    expect_close(result, expected, f"{exercise}: the neighbours' means", rtol=1e-5, atol=1e-6)
    many = rng.integers(0, 40, size=(300, 2))
    many = many[many[:, 0] != many[:, 1]]
    pairs = np.unique(np.sort(many, axis=1), axis=0)
    bigger = rng.normal(size=(40, 4))
    bigger_result = as_array(
        call_answer(answer, exercise, "features (40, 4) and 40 nodes' random edges", bigger, pairs)
    )
    big_adjacency = dense_adjacency(pairs, 40)
    big_expected = big_adjacency @ bigger / np.maximum(big_adjacency.sum(axis=1), 1)[:, None]
    expect_close(bigger_result, big_expected, f"{exercise}: on a random graph of 40 nodes, the means", rtol=1e-5)
    return passed(exercise)


def check_neighbour_softmax(answer: Any) -> str:
    """Exercise 1: ``answer(scores, rows, num_nodes)``: a softmax of the ``scores`` (one per edge) within each row.

    ``rows[k]`` is the node that edge ``k`` belongs to; the weights of each node's edges are exp(score) over the sum
    of exp(score) of that node's edges only, and must not overflow for large scores.
    """
    exercise = "Exercise 1 (softmax over each node's neighbours)"
    rows = np.array([0, 0, 0, 1, 1, 2, 4, 4, 4, 4])  # node 3 has no edge
    scores = np.array([1.0, 2.0, 3.0, -1.0, 0.5, 7.0, 0.0, 0.0, 2.0, -3.0])
    called_on = "10 scores of the rows [0, 0, 0, 1, 1, 2, 4, 4, 4, 4]"
    result = as_array(call_answer(answer, exercise, called_on, scores, rows, 5))
    expect(
        result.shape == scores.shape,
        f"{exercise}: return one weight per score, shape {scores.shape}; yours is {result.shape}.",
    )
    expected = np.exp(scores) / np.bincount(rows, np.exp(scores), minlength=5)[rows]
    expect(
        not close(result, scores / np.bincount(rows, scores, minlength=5)[rows]),
        f"{exercise}: the scores are divided by their row's sum without exp: take exp(score) first.",
    )
    sums = np.bincount(rows, result, minlength=5)[[0, 1, 2, 4]]
    expect(
        np.allclose(sums, 1, atol=1e-5),
        f"{exercise}: the weights of each node should sum to 1 over its own edges; those of nodes 0, 1, 2 and 4 sum "
        f"to {np.round(sums, 3).tolist()}. Normalise within each row, not over ALL the scores (add up exp(score) "
        "per row, e.g. with np.bincount or tf.math.unsorted_segment_sum).",
    )
    expect_close(result, expected, f"{exercise}: the weights", rtol=1e-5, atol=1e-7)
    large = as_array(call_answer(answer, exercise, "scores near 1000", scores + 1000.0, rows, 5))
    expect(
        bool(np.all(np.isfinite(large))) and close(large, expected, rtol=1e-4, atol=1e-6),
        f"{exercise}: with scores near 1000 (the same scores plus 1000) the weights should not change, but exp(1000) "
        "overflows: subtract each row's largest score before exp (the weights are the same, the numbers safe).",
    )
    return passed(exercise)


# Build exercise 3: a graph attention layer -------------------------------------------------------------------------

# Seven people: a triangle 0-1-2, node 6 linked to all three, a path 2-3-4 (4 a leaf), and 5 alone.
PROBE_EDGES = np.array([[0, 1], [1, 2], [0, 2], [0, 6], [1, 6], [2, 6], [2, 3], [3, 4]])
PROBE_NODES = 7


def edge_adjacency(edges: np.ndarray, num_nodes: int) -> Any:
    """The 0/1 adjacency matrix A as a tf.SparseTensor: both directions of every edge, no self-loops, sorted."""
    import tensorflow as tf

    pairs = np.concatenate([edges, edges[:, ::-1]]).astype(np.int64)
    keys = np.unique(pairs[:, 0] * num_nodes + pairs[:, 1])
    indices = np.stack([keys // num_nodes, keys % num_nodes], axis=1)
    return tf.SparseTensor(indices, np.ones(len(indices), np.float32), (num_nodes, num_nodes))


def check_graph_attention(
    answer: Any,
    graph: Any,
    labelled: np.ndarray,
    *,
    hidden_units: int,
    dropout: float,
    epochs: int,
    learning_rate: float,
    weight_decay: float,
    min_accuracy: float,
    seed: int = 42,
) -> str:
    """Build exercise 3: ``answer`` is a Keras layer class, ``answer(units, activation=None)``, called as
    ``layer(features, adjacency)`` with ``adjacency`` the 0/1 sparse A (both directions, no self-loops).

    Judged by behaviour on a graph of 7 nodes: a node's output depends on its own features (self-loop), even for a
    leaf or an isolated node; with every node's features equal, every output is the same (weights that sum to 1,
    whatever the degree); it changes with a neighbour's features and not with a non-neighbour's (attention over
    the edges only); it depends on the features beyond a fixed average (attention); renumbering the nodes of a
    random graph renumbers the outputs. Then the notebook's 2-layer ``GCN`` with this layer instead of the graph
    convolution is trained with ``train_node_classifier`` from the ``labelled`` nodes of ``graph`` and must
    classify ``min_accuracy`` of the others.
    """
    import keras
    import tensorflow as tf

    from helpers.lessons.graphs import GCN, accuracy, predict_classes, train_node_classifier
    from helpers.seeding import seed_everything

    exercise = "Build exercise 3 (a graph attention layer)"
    require_answer(answer, exercise)
    expect(
        isinstance(answer, type) and issubclass(answer, keras.layers.Layer),
        f"{exercise}: answer_3 should be your layer class itself (a subclass of keras.layers.Layer, like "
        f"GraphConvolution), not {answer!r}.",
    )
    seed_everything(seed)
    rng = np.random.default_rng(seed)
    adjacency = edge_adjacency(PROBE_EDGES, PROBE_NODES)
    features = rng.normal(size=(PROBE_NODES, 3)).astype(np.float32)
    layer = call_answer(answer, exercise, "4 units (a layer of 4 units)", 4)

    def output(x: np.ndarray, a: Any = adjacency, what: str = "the 7-node graph") -> np.ndarray:
        try:
            result = np.asarray(layer(tf.constant(x, tf.float32), a), dtype=np.float64)
        except Exception as error:  # the learner's code: report any failure in words
            raise ExerciseIncorrect(
                f"{exercise}: calling your layer on {what} (features ({len(x)}, 3) and the sparse A) raised "
                f"{type(error).__name__}: {error}"
            ) from error
        expect(
            result.shape == (len(x), 4),
            f"{exercise}: {answer.__name__}(4) should give 4 numbers per node, shape ({len(x)}, 4); yours gives "
            f"{result.shape}.",
        )
        return result

    def changed(node: int, moved: int) -> bool:
        other = features.copy()
        other[moved] += rng.normal(size=3).astype(np.float32) * 2
        return not np.allclose(output(other)[node], base[node], atol=1e-5)

    base = output(features)
    expect(
        bool(np.all(np.isfinite(np.delete(base, 5, axis=0)))),
        f"{exercise}: your layer gives NaN or infinity on the 7-node graph: subtract each node's largest score "
        "before exp.",
    )
    if not np.all(np.isfinite(base[5])) or not changed(5, 5) or not changed(4, 4):
        raise ExerciseIncorrect(
            f"{exercise}: a node's output should depend on its own features: add a self-loop to every node, so that "
            "it attends to itself as well as to its neighbours. Without one, node 5 (no neighbours) has nothing to "
            "attend to (NaN or the bias alone), and leaf node 4 only copies its one neighbour."
        )
    same = output(np.repeat(features[:1], PROBE_NODES, axis=0))
    degrees = np.bincount(PROBE_EDGES.ravel(), minlength=PROBE_NODES) + 1  # with the self-loop
    expect(
        np.allclose(same, same[5], atol=1e-5),
        f"{exercise}: with every node's features the same, every node's output should be the same (a weighted "
        f"average of equal vectors, whatever the number of neighbours), but yours differ, from "
        f"{np.abs(same).sum(axis=1).min():.3g} to {np.abs(same).sum(axis=1).max():.3g} in size over nodes with "
        f"{min(degrees)} to {max(degrees)} neighbours counting themselves. Normalise: a softmax of the scores over "
        "each node's neighbours (itself included), so that its weights sum to 1.",
    )
    expect(
        not changed(0, 4) and not changed(6, 3) and not changed(1, 5),
        f"{exercise}: node 0's output changes when node 4, which is not its neighbour, changes: attention should "
        "run over each node's neighbours only (the non-zeros of A, and itself), not over all the nodes. Take the "
        "softmax over the edges of each node, not over a whole row of a dense matrix of scores.",
    )
    expect(
        changed(0, 1) and changed(3, 4) and changed(6, 2),
        f"{exercise}: a node's output should change when a neighbour's features change (node 0 and its neighbour "
        "1, node 3 and its neighbour 4); yours does not: each node sums its neighbours' W h_j, weighted.",
    )
    expect(
        not np.allclose(output(3 * features), 3 * base - 2 * output(0 * features), atol=1e-4),
        f"{exercise}: your weights do not depend on the features (tripling every feature vector triples the output, "
        "as a fixed average would): each weight comes from a · [W h_i || W h_j] through LeakyReLU and the softmax. "
        "(If the attention vector a starts at zeros, every weight starts equal: initialise it like the kernel.)",
    )
    pairs = rng.integers(0, 30, size=(80, 2))
    pairs = np.unique(np.sort(pairs[pairs[:, 0] != pairs[:, 1]], axis=1), axis=0)
    big = rng.normal(size=(30, 3)).astype(np.float32)
    order = rng.permutation(30)
    renumbered = np.argsort(order)[pairs]  # node order[k] becomes node k
    outputs = output(big, edge_adjacency(pairs, 30), "a random graph of 30 nodes")
    permuted = output(big[order], edge_adjacency(renumbered, 30), "the same graph, its nodes renumbered")
    expect_close(
        permuted,
        outputs[order],
        f"{exercise}: renumbering the nodes should only renumber the outputs (permutation equivariance); the outputs "
        "of the renumbered graph",
        rtol=1e-4,
        atol=1e-5,
    )

    class AttentionModel(GCN):
        layer_type = answer
        graph_operator = staticmethod(edge_adjacency)

    seed_everything(seed)
    model = AttentionModel(hidden_units, graph.num_classes, dropout)
    adjacency = edge_adjacency(graph.edges, graph.num_nodes)
    training = train_node_classifier(
        model,
        tf.constant(graph.features),
        adjacency,
        tf.constant(graph.labels),
        labelled,
        epochs=epochs,
        learning_rate=learning_rate,
        weight_decay=weight_decay,
    )
    unlabelled = np.setdiff1d(np.arange(graph.num_nodes), labelled)
    correct = accuracy(predict_classes(model, tf.constant(graph.features), adjacency), graph.labels, unlabelled)
    expect(
        correct >= min_accuracy,
        f"{exercise}: the GCN with your layer in place of the graph convolution, trained {epochs} epochs from "
        f"{len(labelled)} labels, classifies {correct:.1%} of the other {len(unlabelled):,} nodes; at least "
        f"{min_accuracy:.0%} expected. (Loss {training.losses[0]:.3f} -> {training.losses[-1]:.3f}.)",
    )
    print(
        f"self-loops, weights summing to 1, neighbours only, feature-dependent, permutation-equivariant; trained "
        f"{epochs} epochs ({1000 * training.seconds_per_epoch:.1f} ms each): {correct:.1%} of the unlabelled nodes"
    )
    return passed(exercise)
