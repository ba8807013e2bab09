"""Figures of notebook 11 (graph neural networks): the GCN layer and model, graphs drawn with networkx,
receptive fields, node embeddings during training, and the timing curve.

Each function returns its :class:`matplotlib.figure.Figure`; the notebook shows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from helpers.figures.primitives import chain_figure

if TYPE_CHECKING:
    import networkx as nx
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

LAYOUT_SEED = 8
CLASS_COLORS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3")


def gcn_layer_figure() -> Figure:
    """One graph convolution: a shared Dense transform, then every node averages itself and its neighbours."""
    stages = [
        ("node features H\n(nodes × width)", "data"),
        ("H W: the same\nweights for\nevery node", "layer"),
        ("Â (H W): sum over\nself and neighbours,\nweights 1/√(dᵢ dⱼ)", "op"),
        ("+ b,\nactivation", "op"),
        ("H′\n(nodes × units)", "state"),
    ]
    return chain_figure(stages, "a graph convolution: H′ = σ(Â H W + b), Â = D^-1/2 (A + I) D^-1/2 (sparse)")


def gcn_model_figure(hidden_units: int, num_classes: int) -> Figure:
    """The two-layer GCN of the notebook, trained on the labelled nodes only."""
    stages = [
        ("features of all\nnodes + sparse Â", "data"),
        (f"dropout →\ngraph convolution\n{hidden_units} units, ReLU", "layer"),
        (f"dropout →\ngraph convolution\n{num_classes} scores", "layer"),
        ("cross-entropy on\nthe labelled nodes\nonly", "gate"),
        ("every node's class:\nargmax of its scores", "state"),
    ]
    return chain_figure(stages, "the GCN: two graph convolutions, the whole graph as one batch")


def node_positions(graph: nx.Graph) -> dict[int, np.ndarray]:
    """A spring layout of ``graph`` (the same drawing every time; this seed keeps the karate club's nodes apart)."""
    import networkx as nx

    return nx.spring_layout(graph, seed=LAYOUT_SEED)


def draw_graph(
    graph: nx.Graph,
    labels: Sequence[int],
    *,
    class_names: Sequence[str] = (),
    title: str = "",
    ringed: Sequence[int] = (),
    axes: Axes | None = None,
    with_numbers: bool = True,
) -> Figure:
    """``graph`` with each node coloured by its class; ``ringed`` nodes (the labelled ones) get a black ring."""
    import matplotlib.pyplot as plt
    import networkx as nx
    from matplotlib.lines import Line2D

    if axes is None:
        figure, axes = plt.subplots(figsize=(6, 4.5))
    else:
        figure = axes.figure
    positions = node_positions(graph)
    colors = [CLASS_COLORS[label] for label in labels]
    nx.draw_networkx_edges(graph, positions, ax=axes, alpha=0.3, width=0.8)
    size = 260 if with_numbers else 40
    nx.draw_networkx_nodes(graph, positions, ax=axes, node_color=colors, node_size=size, edgecolors="white")
    if ringed:
        nx.draw_networkx_nodes(
            graph,
            positions,
            nodelist=list(ringed),
            ax=axes,
            node_color="none",
            node_size=size * 1.9,
            edgecolors="black",
            linewidths=2,
        )
    if with_numbers:
        nx.draw_networkx_labels(graph, positions, ax=axes, font_size=7, font_color="white")
    if class_names:
        handles = [Line2D([], [], marker="o", ls="", color=CLASS_COLORS[i], label=n) for i, n in enumerate(class_names)]
        axes.legend(handles=handles, loc="lower left", fontsize=8, frameon=False)
    axes.set_title(title, fontsize=10)
    axes.axis("off")
    return figure


def receptive_field_figure(graph: nx.Graph, node: int, fields: Mapping[int, Sequence[int]]) -> Figure:
    """One panel per number of layers: the nodes whose features reach ``node``'s output (``fields[layers]``)."""
    import matplotlib.pyplot as plt
    import networkx as nx

    figure, axes_row = plt.subplots(1, len(fields), figsize=(4.2 * len(fields), 3.6))
    positions = node_positions(graph)
    for axes, (layers, field) in zip(np.atleast_1d(axes_row), sorted(fields.items()), strict=True):
        inside = set(int(n) for n in field)
        colors = ["#c44e52" if n == node else "#f0b27a" if n in inside else "#dddddd" for n in graph.nodes]
        nx.draw_networkx_edges(graph, positions, ax=axes, alpha=0.25, width=0.7)
        nx.draw_networkx_nodes(graph, positions, ax=axes, node_color=colors, node_size=120, edgecolors="white")
        axes.set_title(
            f"{layers} layer{'s' * (layers > 1)}: {len(inside)} of {graph.number_of_nodes()} nodes", fontsize=10
        )
        axes.axis("off")
    figure.suptitle(f"what node {node}'s output can see (its receptive field)", fontsize=11)
    figure.tight_layout()
    return figure


def principal_components(vectors: np.ndarray) -> np.ndarray:
    """The rows of ``vectors`` projected on their first two principal components (centred, by SVD)."""
    centred = vectors - vectors.mean(axis=0)
    _, _, directions = np.linalg.svd(centred, full_matrices=False)
    projected = centred @ directions[:2].T
    return np.pad(projected, ((0, 0), (0, 2 - projected.shape[1])))  # a one-dimensional embedding: y = 0


def embeddings_figure(embeddings: Mapping[int, np.ndarray], labels: Sequence[int], labelled: Sequence[int]) -> Figure:
    """Every node's hidden vector at a few epochs, on its first two principal components, coloured by class;
    the labelled nodes are drawn as black-edged squares."""
    import matplotlib.pyplot as plt

    labels = np.asarray(labels)
    figure, axes_row = plt.subplots(1, len(embeddings), figsize=(3.2 * len(embeddings), 3.0))
    for axes, (epoch, vectors) in zip(np.atleast_1d(axes_row), sorted(embeddings.items()), strict=True):
        points = principal_components(np.asarray(vectors, dtype=np.float64))
        axes.scatter(points[:, 0], points[:, 1], c=[CLASS_COLORS[label] for label in labels], s=25)
        chosen = np.asarray(labelled)
        axes.scatter(
            points[chosen, 0],
            points[chosen, 1],
            c=[CLASS_COLORS[label] for label in labels[chosen]],
            s=90,
            marker="s",
            edgecolors="black",
            linewidths=1.5,
        )
        axes.set_title(f"epoch {epoch}" + (" (untrained)" * (epoch == 0)), fontsize=10)
        axes.set_xticks([])
        axes.set_yticks([])
    figure.suptitle("node embeddings (hidden layer, first two principal components)", fontsize=11)
    figure.tight_layout()
    return figure


def adjacency_pattern_figure(edges: np.ndarray, num_nodes: int, title: str) -> Figure:
    """The non-zeros of the adjacency matrix, one dot per edge (both directions): blocks show communities."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(4, 4))
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    columns = np.concatenate([edges[:, 1], edges[:, 0]])
    axes.scatter(columns, rows, s=0.05, c="#333333", marker=".", linewidths=0)
    axes.set_xlim(0, num_nodes)
    axes.set_ylim(num_nodes, 0)
    axes.set_aspect("equal")
    axes.set_xlabel("node")
    axes.set_ylabel("node")
    axes.set_title(title, fontsize=10)
    figure.tight_layout()
    return figure


def epoch_time_figure(
    edges: Sequence[float], seconds: Sequence[float], fixed_seconds: float, seconds_per_edge: float
) -> Figure:
    """Milliseconds per training epoch against edges: the measured points, the fitted straight line
    (a fixed part plus a cost per edge) and growth in proportion to the edges from the first graph."""
    import matplotlib.pyplot as plt

    edges, seconds = np.asarray(edges, dtype=float), np.asarray(seconds, dtype=float)
    span = np.array([0.0, edges.max()])
    figure, axes = plt.subplots(figsize=(5.5, 3.5))
    axes.plot(edges, 1000 * seconds, "o", label="GCN, measured")
    axes.plot(
        span,
        1000 * (fixed_seconds + seconds_per_edge * span),
        label=f"{1000 * fixed_seconds:.1f} ms + {1e8 * seconds_per_edge:.2f} ms per 100,000 edges",
    )
    axes.plot(span, 1000 * seconds[0] * span / edges[0], ls="--", color="grey", label="in proportion to the edges")
    axes.set_xlim(0, edges.max() * 1.05)
    axes.set_ylim(0, 1000 * seconds.max() * 1.6)
    axes.set_xlabel("edges")
    axes.set_ylabel("milliseconds per epoch")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    axes.set_title("training time per epoch against the number of edges", fontsize=10)
    figure.tight_layout()
    return figure


def depth_figure(
    accuracy: Mapping[str, Mapping[int, float]],
    spread: Mapping[str, Mapping[int, float]],
    layer_spread: Mapping[str, Sequence[float]],
) -> Figure:
    """Over-smoothing in three panels: accuracy against the number of layers and the spread of the last hidden
    vectors against it (``model -> {layers: value}``, trained models), then the spread after each layer of
    untrained deep models (``model -> [spread of the features, after layer 1, ...]``)."""
    import matplotlib.pyplot as plt

    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 3.6))
    styles = {"plain": ("#c44e52", "o"), "residual": ("#4c72b0", "s")}
    for axes, values, label in ((left, accuracy, "accuracy on the unlabelled nodes"), (middle, spread, "spread")):
        for model, by_layers in values.items():
            layers = sorted(by_layers)
            color, marker = styles.get(model, ("#333333", "^"))
            axes.plot(layers, [by_layers[n] for n in layers], marker=marker, color=color, label=f"{model} GCN")
        axes.set_xscale("log", base=2)
        axes.set_xticks(layers, [str(n) for n in layers])
        axes.set_xlabel("graph convolutions (layers)")
        axes.set_ylabel(label)
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
    left.set_title("trained: accuracy against depth", fontsize=10)
    middle.set_title("trained: spread of the last hidden vectors", fontsize=10)
    for model, values in layer_spread.items():
        color, marker = styles.get(model, ("#333333", "^"))
        right.plot(range(len(values)), values, marker=marker, color=color, label=f"{model} GCN")
    right.set_xlabel("after layer (0: the input features)")
    right.set_ylabel("spread")
    right.set_ylim(bottom=0)
    right.grid(alpha=0.3)
    right.legend(fontsize=8)
    right.set_title("untrained: spread after each hidden layer", fontsize=10)
    figure.suptitle("over-smoothing: spread = mean cosine distance between the nodes' vectors", fontsize=11)
    figure.tight_layout()
    return figure
