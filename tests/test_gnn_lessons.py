"""helpers.lessons.graphs, the lesson code of notebook 11, its exercise checks and its figures, on small graphs."""

from __future__ import annotations

import dataclasses

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pytest
import tensorflow as tf

from helpers.checks import graphs as checks
from helpers.exercises import ExerciseIncorrect, NotAnswered
from helpers.figures import graphs as graph_figures
from helpers.lessons import graphs
from helpers.seeding import seed_everything


def random_edges(num_nodes: int, count: int, seed: int) -> np.ndarray:
    return graphs.undirected_edges(np.random.default_rng(seed).integers(0, num_nodes, size=(count, 2)))


def test_undirected_edges_keeps_each_edge_once_smaller_node_first() -> None:
    pairs = np.array([[3, 1], [1, 3], [2, 2], [0, 4], [4, 0], [1, 3]])
    assert graphs.undirected_edges(pairs).tolist() == [[0, 4], [1, 3]]


def test_karate_club_is_zacharys_graph_with_the_clubs_as_labels() -> None:
    karate = graphs.karate_club()
    assert karate.num_nodes == 34 and len(karate.edges) == 78 and karate.num_classes == 2
    assert np.bincount(karate.labels).tolist() == [17, 17]
    assert karate.labels[0] == 0 and karate.labels[33] == 1, "Mr. Hi leads club 0, the Officer club 1"
    assert np.array_equal(karate.features, np.eye(34))


def test_normalized_adjacency_matches_the_dense_formula() -> None:
    edges = random_edges(30, 60, 0)
    dense = graphs.adjacency_matrix(edges, 30) + np.eye(30)
    inverse_root = np.diag(1 / np.sqrt(dense.sum(axis=1)))
    sparse = graphs.normalized_adjacency(edges, 30)
    assert np.allclose(tf.sparse.to_dense(sparse).numpy(), inverse_root @ dense @ inverse_root, atol=1e-6)
    assert len(sparse.values) == 2 * len(edges) + 30
    assert np.array_equal(tf.sparse.reorder(sparse).indices.numpy(), sparse.indices.numpy()), "indices in order"


def test_mean_adjacency_averages_the_neighbours_and_leaves_isolated_nodes_at_zero() -> None:
    edges = np.array([[0, 1], [0, 2], [2, 3]])
    mean = tf.sparse.to_dense(graphs.mean_adjacency(edges, 5)).numpy()
    assert np.allclose(mean.sum(axis=1), [1, 1, 1, 1, 0])
    assert np.allclose(mean[0], [0, 0.5, 0.5, 0, 0]) and mean[2, 2] == 0, "no self-loops"


def test_graph_convolution_is_a_hat_h_w_plus_b() -> None:
    edges = random_edges(12, 20, 1)
    propagation = graphs.normalized_adjacency(edges, 12)
    features = np.random.default_rng(2).normal(size=(12, 5)).astype(np.float32)
    layer = graphs.GraphConvolution(3)
    output = layer(features, propagation).numpy()
    expected = tf.sparse.to_dense(propagation).numpy() @ features @ layer.kernel.numpy() + layer.bias.numpy()
    assert output.shape == (12, 3) and np.allclose(output, expected, atol=1e-5)


def test_receptive_field_is_the_k_hop_neighbourhood() -> None:
    graph = nx.karate_club_graph()
    karate = graphs.karate_club()
    propagation = graphs.normalized_adjacency(karate.edges, karate.num_nodes)
    for node, hops in ((16, 1), (16, 2), (0, 2), (25, 3)):
        expected = sorted(nx.single_source_shortest_path_length(graph, node, cutoff=hops))
        assert graphs.receptive_field(propagation, node, hops).tolist() == expected


def test_stochastic_block_model_has_the_asked_degrees_and_is_reproducible() -> None:
    graph = graphs.stochastic_block_model(500, 3, 8.0, 2.0, 6, 1.0, seed=3)
    assert graph.num_nodes == 1500 and graph.features.shape == (1500, 6) and graph.num_classes == 3
    assert 9.0 < 2 * len(graph.edges) / graph.num_nodes < 11.0
    inside = graph.labels[graph.edges[:, 0]] == graph.labels[graph.edges[:, 1]]
    assert 0.75 < inside.mean() < 0.85
    assert np.array_equal(graph.edges, graphs.undirected_edges(graph.edges)), "edges once each, no self-loops"
    again = graphs.stochastic_block_model(500, 3, 8.0, 2.0, 6, 1.0, seed=3)
    assert np.array_equal(again.edges, graph.edges) and np.array_equal(again.features, graph.features)


def test_labelled_nodes_takes_a_share_of_every_class() -> None:
    labels = np.repeat([0, 1, 2], [100, 300, 5])
    picked = graphs.labelled_nodes(labels, 0.1, seed=0)
    assert np.bincount(labels[picked]).tolist() == [10, 30, 1]
    assert np.array_equal(picked, np.sort(picked)) and len(set(picked)) == len(picked)


def test_label_propagation_labels_two_cliques_from_one_label_each() -> None:
    first = [(i, j) for i in range(5) for j in range(i + 1, 5)]
    edges = graphs.undirected_edges(np.array([*first, *[(i + 5, j + 5) for i, j in first], (4, 5)]))
    labels = np.repeat([0, 1], 5)
    predicted = graphs.label_propagation(graphs.normalized_adjacency(edges, 10), labels, np.array([0, 9]), 2)
    assert predicted.tolist() == labels.tolist()


def test_a_gcn_learns_the_karate_club_from_two_labels_and_the_mlp_cannot() -> None:
    karate = graphs.karate_club()
    plan = graphs.graph_plan("fast")
    rows = graphs.compare_node_classifiers(karate, np.array([0, 33]), graphs.gcn_and_mlp(plan, 2), plan, seed=0)
    accuracy = {row["approach"]: row["accuracy"] for row in rows}
    assert accuracy["GCN"] >= 0.9 and accuracy["label propagation"] >= 0.9
    assert accuracy["MLP (features only)"] <= 0.7


def test_training_records_losses_embeddings_and_time() -> None:
    karate = graphs.karate_club()
    model = graphs.GraphSAGE(8, 2, dropout=0.0)
    training = graphs.train_node_classifier(
        model,
        tf.constant(karate.features),
        graphs.mean_adjacency(karate.edges, karate.num_nodes),
        tf.constant(karate.labels),
        np.array([0, 33]),
        epochs=30,
        learning_rate=0.01,
        weight_decay=5e-4,
        embedding_epochs=(0, 30),
    )
    assert len(training.losses) == 30 and training.losses[-1] < training.losses[0]
    assert sorted(training.embeddings) == [0, 30] and training.embeddings[0].shape == (34, 8)
    assert training.seconds_per_epoch > 0


def test_growth_against_linear_is_the_time_ratio_over_the_edge_ratio() -> None:
    rows = [{"edges": 1000, "seconds per epoch": 0.01}, {"edges": 10_000, "seconds per epoch": 0.05}]
    assert graphs.growth_against_linear(rows) == pytest.approx(0.5)


class DenseGraphConvolution(graphs.GraphConvolution):
    """The wrong way: Â stored dense, a number for every pair of people."""

    def call(self, features, adjacency):
        return self.activation(tf.sparse.to_dense(adjacency) @ (features @ self.kernel) + self.bias)


class DenseGCN(graphs.GCN):
    layer_type = DenseGraphConvolution


def test_the_linearity_check_passes_a_sparse_adjacency_and_fails_a_dense_one() -> None:
    """Notebook 11's bound (time ratio over edge ratio at most 1, as the network grows at a fixed degree) can
    fail: a dense Â grows with the square of the people, about 4 x faster than the edges over a 4 x range."""
    plan = dataclasses.replace(graphs.graph_plan("fast"), timing_sizes=(500, 2000), timing_epochs=6)
    sparse = graphs.epoch_seconds_against_size(plan, 42)
    dense = graphs.epoch_seconds_against_size(plan, 42, DenseGCN)
    assert [row["people"] for row in sparse] == [1500, 6000] and sparse[1]["edges"] > 3.5 * sparse[0]["edges"]
    max_growth_against_linear = 1.0  # the notebook's MAX_GROWTH_AGAINST_LINEAR
    assert graphs.growth_against_linear(sparse) <= max_growth_against_linear, sparse
    assert graphs.growth_against_linear(dense) > 1.5 * max_growth_against_linear, dense


# Exercise 2: mean aggregation.
def neighbour_mean(features, edges, *, include_self=False, both_ways=True, mean=True, guard=True):
    features, edges = np.asarray(features, dtype=float), np.asarray(edges)
    adjacency = np.zeros((len(features), len(features)))
    adjacency[edges[:, 0], edges[:, 1]] = 1.0
    if both_ways:
        adjacency[edges[:, 1], edges[:, 0]] = 1.0
    if include_self:
        adjacency += np.eye(len(features))
    sums = adjacency @ features
    if not mean:
        return sums
    counts = adjacency.sum(axis=1)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / np.maximum(counts, 1) if guard else sums / counts


def tensorflow_mean(features, edges):
    num_nodes = len(features)
    return tf.sparse.sparse_dense_matmul(
        graphs.mean_adjacency(np.asarray(edges), num_nodes), tf.constant(features, tf.float32)
    )


def test_check_mean_aggregation_accepts_numpy_and_tensorflow_answers() -> None:
    assert "correct" in checks.check_mean_aggregation(neighbour_mean)
    assert "correct" in checks.check_mean_aggregation(tensorflow_mean)


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        ({"guard": False}, "0 / 0"),
        ({"mean": False}, "SUM"),
        ({"include_self": True}, "included each node itself"),
        ({"both_ways": False}, "one direction"),
    ],
)
def test_check_mean_aggregation_names_the_mistake(mistake: dict, message: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=message):
        checks.check_mean_aggregation(lambda features, edges: neighbour_mean(features, edges, **mistake))
    with pytest.raises(NotAnswered):
        checks.check_mean_aggregation(None)


def test_figures_draw_the_lessons_terms() -> None:
    karate = graphs.karate_club()
    graph = nx.karate_club_graph()
    layer_text = " ".join(t.get_text() for t in graph_figures.gcn_layer_figure().axes[0].texts)
    assert "H W" in layer_text and "1/√(dᵢ dⱼ)" in layer_text
    assert "labelled" in " ".join(t.get_text() for t in graph_figures.gcn_model_figure(16, 2).axes[0].texts)
    figures = [
        graph_figures.draw_graph(graph, karate.labels, class_names=karate.class_names, ringed=[0, 33]),
        graph_figures.receptive_field_figure(graph, 16, {1: [0, 16], 2: [0, 5, 16]}),
        graph_figures.embeddings_figure({0: np.random.default_rng(0).normal(size=(34, 4))}, karate.labels, [0, 33]),
        graph_figures.adjacency_pattern_figure(karate.edges, 34, "karate"),
        graph_figures.epoch_time_figure([1e4, 1e5], [0.01, 0.05], 0.0056, 4.4e-7),
    ]
    assert len(figures[1].axes) == 2 and "2 layers: 3 of 34 nodes" in figures[1].axes[1].get_title()
    assert graph_figures.principal_components(np.ones((5, 1))).shape == (5, 2)
    plt.close("all")


def test_representation_spread_is_the_mean_cosine_distance_between_distinct_nodes() -> None:
    assert graphs.representation_spread(np.tile([[2.0, 1.0]], (5, 1))) == pytest.approx(0.0)
    assert graphs.representation_spread(np.array([[1.0, 0.0], [0.0, 3.0]])) == pytest.approx(1.0)
    assert graphs.representation_spread(np.array([[1.0, 0.0], [-2.0, 0.0]])) == pytest.approx(2.0)
    with_zeros = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 3.0]])
    assert graphs.representation_spread(with_zeros) == pytest.approx(1.0), "rows of zeros have no direction"
    assert graphs.representation_spread(np.zeros((4, 3))) == 0.0
    vectors = np.random.default_rng(0).normal(size=(30, 5))
    units = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosines = units @ units.T
    brute_force = 1 - cosines[~np.eye(30, dtype=bool)].mean()
    assert graphs.representation_spread(vectors) == pytest.approx(brute_force)


def test_a_residual_gcn_of_two_layers_is_the_plain_one_and_deeper_it_adds_its_input() -> None:
    karate = graphs.karate_club()
    features, adjacency = tf.constant(karate.features), graphs.normalized_adjacency(karate.edges, karate.num_nodes)
    outputs = {}
    for residual in (False, True):
        for depth in (2, 4):
            seed_everything(0)
            model = graphs.DeepGCN(8, 2, 0.0, depth, residual)
            states = model.hidden_states(features, adjacency)
            assert len(states) == depth and states[0] is features, "the features, then one per hidden layer"
            outputs[residual, depth] = model(features, adjacency).numpy()
            if residual and depth == 4:
                update = model.hidden_layers[2](states[2], adjacency)
                np.testing.assert_allclose(states[3], states[2] + update, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outputs[True, 2], outputs[False, 2], rtol=1e-6)
    assert not np.allclose(outputs[True, 4], outputs[False, 4])


def untrained_layer_spreads(adjacency: tf.SparseTensor, graph: graphs.NodeGraph, residual: bool) -> list[float]:
    seed_everything(0)
    return graphs.layer_spreads(
        graphs.DeepGCN(16, graph.num_classes, 0.0, 8, residual), tf.constant(graph.features), adjacency
    )


def test_the_spread_falls_with_depth_in_a_plain_gcn_and_more_slowly_with_residuals() -> None:
    graph = graphs.stochastic_block_model(200, 3, 8.0, 2.0, 16, 1.0, seed=0)
    adjacency = graphs.normalized_adjacency(graph.edges, graph.num_nodes)
    plain = untrained_layer_spreads(adjacency, graph, residual=False)
    residual = untrained_layer_spreads(adjacency, graph, residual=True)
    assert len(plain) == 8 and plain[0] > 0.9, "noisy features in 16 dimensions point all ways"
    assert plain[-1] <= 0.1 * plain[1], plain  # the notebook's check
    assert residual[4] >= 1.5 * plain[4], (plain, residual)
    # The check can fail: without the averaging (an identity matrix instead of Â) nothing smooths the vectors.
    identity = tf.sparse.eye(graph.num_nodes)
    no_graph = untrained_layer_spreads(identity, graph, residual=False)
    assert no_graph[-1] > 0.1 * no_graph[1], no_graph


def test_depth_sweep_trains_plain_and_residual_gcns_of_every_depth() -> None:
    plan = dataclasses.replace(graphs.graph_plan("fast"), community_size=100, epochs=30, depths=(1, 2, 3))
    graph = graphs.plan_sbm(plan, seed=0)
    rows = graphs.depth_sweep(graph, graphs.labelled_nodes(graph.labels, 0.05, seed=0), plan, seed=0)
    assert [(row["model"], row["layers"]) for row in rows] == [
        ("plain", 1),
        ("plain", 2),
        ("plain", 3),
        ("residual", 1),
        ("residual", 2),
        ("residual", 3),
    ]
    assert rows[3]["accuracy"] == rows[0]["accuracy"] and rows[4]["spread"] == rows[1]["spread"], "copied"
    assert all(0.0 <= row["accuracy"] <= 1.0 and 0.0 <= row["spread"] <= 2.0 for row in rows)
    assert rows[1]["accuracy"] > 0.6, "a 2-layer GCN learns the communities"


def test_depth_figure_draws_accuracy_and_spread_against_layers() -> None:
    by_layers = {"plain": {1: 0.7, 2: 0.9, 8: 0.6}, "residual": {1: 0.7, 2: 0.9, 8: 0.95}}
    figure = graph_figures.depth_figure(by_layers, by_layers, {"plain": [0.9, 0.5, 0.1], "residual": [0.9, 0.6, 0.4]})
    assert len(figure.axes) == 3 and "accuracy" in figure.axes[0].get_title()
    assert [len(line.get_xdata()) for line in figure.axes[2].get_lines()] == [3, 3]
    plt.close("all")
