"""Exercise checks of notebook 11 (graph neural networks): the normalised adjacency, mean aggregation.

Each check runs the learner's answer on a graph of its own (with a node that has no neighbours) and
compares the behaviour with what it must be, computed here in plain NumPy; known mistakes get a
sentence of their own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises import call_answer, close, expect, expect_close, passed

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


def scaled(matrix: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """diag(left) · matrix · diag(right), with 1/0 read as 0 (a node of degree zero)."""
    with np.errstate(divide="ignore"):
        left, right = (np.where(np.isfinite(v), v, 0.0) for v in (left, right))
    return left[:, None] * matrix * right[None, :]


def check_normalized_adjacency(answer: Any) -> str:
    """Exercise 1: ``answer(edges, num_nodes)`` = D^-1/2 (A + I) D^-1/2 as a dense (num_nodes, num_nodes) array."""
    exercise = "Exercise 1 (the normalised adjacency)"
    result = as_array(call_answer(answer, exercise, "5 nodes and the edges [[0, 1], [1, 2], [0, 2], [2, 3]]", EDGES, 5))
    expect(
        result.shape == (NUM_NODES, NUM_NODES),
        f"{exercise}: return a {NUM_NODES}×{NUM_NODES} matrix (one row and column per node); yours is {result.shape}.",
    )
    adjacency = dense_adjacency(EDGES, NUM_NODES)
    with_loops = adjacency + np.eye(NUM_NODES)
    loop_degree, plain_degree = with_loops.sum(axis=1), adjacency.sum(axis=1)
    with np.errstate(divide="ignore"):
        loop_root, plain_root = loop_degree**-0.5, plain_degree**-0.5
    expected = scaled(with_loops, loop_root, loop_root)
    expect(
        bool(np.all(np.isfinite(result))),
        f"{exercise}: your matrix holds NaN or infinity. Node 4 has no friends: with the self-loops of A + I its "
        "degree is 1, never 0, so nothing is divided by zero.",
    )
    expect(
        not close(result, scaled(with_loops, 1 / loop_degree, np.ones(NUM_NODES))),
        f"{exercise}: this is D⁻¹(A + I), each row divided by its degree (a mean). GCN's normalisation is "
        "symmetric: D^-1/2 on the left and on the right, so entry (i, j) is 1 / √(dᵢ dⱼ).",
    )
    expect(
        close(result, result.T),
        f"{exercise}: the matrix should be symmetric. Each undirected edge is listed once, as (i, j): "
        "set both A[i, j] and A[j, i].",
    )
    expect(
        not close(result, scaled(adjacency, plain_root, plain_root)),
        f"{exercise}: you normalised A without the self-loops: add the identity first (A + I), so that each node "
        "keeps its own features, and count the self-loop in its degree.",
    )
    expect(
        not close(result, scaled(with_loops, plain_root, plain_root)),
        f"{exercise}: the self-loops are there, but the degrees are those of A: take them from A + I "
        "(each node's degree plus one).",
    )
    expect(
        not close(result, with_loops),
        f"{exercise}: this is A + I, not normalised yet: multiply by D^-1/2 on both sides.",
    )
    expect(
        not close(result, scaled(with_loops, loop_degree**0.5, loop_degree**0.5)),
        f"{exercise}: the power of D is -1/2 (one over the square root of the degree), not +1/2.",
    )
    expect_close(result, expected, f"{exercise}: your matrix", rtol=1e-5, atol=1e-6)
    return passed(exercise)


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
