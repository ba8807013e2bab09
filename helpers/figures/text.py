"""Figures of notebook 07, drawn with matplotlib: boxes, arrows and labels, and two measured pictures.

Each function returns its :class:`matplotlib.figure.Figure`; the notebook shows it. They draw
only what the lesson explains: a text pipeline, skip-gram with negative sampling, an unrolled RNN,
the LSTM and GRU cells with their gates, a bidirectional RNN over a padded, masked sequence, word
vectors in two dimensions, and the models' accuracy on two tasks side by side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from helpers.figures.graphs import CLASS_COLORS, principal_components
from helpers.figures.primitives import arrow, box, canvas, chain_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def pipeline_figure(stages: Sequence[tuple[str, str]], title: str) -> Figure:
    """A left-to-right chain of boxes: ``stages`` is a list of (text, kind), kind a key of ``diagrams.COLORS``."""
    return chain_figure(stages, title, width=1.8)


def skipgram_figure() -> Figure:
    """Skip-gram with negative sampling: two embedding tables, a dot product, a sigmoid, a binary label."""
    figure, axes = canvas(8.6, 3.6, "skip-gram with negative sampling")
    box(axes, 1.2, 2.8, "target word id\n(e.g. 'oil')", kind="data")
    box(axes, 1.2, 0.8, "context word id\n(true or sampled)", kind="data")
    box(axes, 3.6, 2.8, "target embedding\nW[target]  (d)")
    box(axes, 3.6, 0.8, "context embedding\nC[context]  (d)")
    box(axes, 5.7, 1.8, "dot product\nW·C", kind="op", width=1.3)
    box(axes, 7.4, 1.8, "sigmoid:\nP(real pair)", kind="gate", width=1.6)
    arrow(axes, (2.0, 2.8), (2.8, 2.8))
    arrow(axes, (2.0, 0.8), (2.8, 0.8))
    arrow(axes, (4.4, 2.6), (5.1, 2.0))
    arrow(axes, (4.4, 1.0), (5.1, 1.6))
    arrow(axes, (6.35, 1.8), (6.6, 1.8))
    axes.text(7.4, 0.9, "label 1: a real neighbour\nlabel 0: a random word", ha="center", fontsize=7.5)
    return figure


def rnn_unrolled_figure(steps: int = 4, cell: str = "RNN cell") -> Figure:
    """A recurrent cell unrolled in time: the same weights at every step, the state passed along."""
    spacing = 2.0
    figure, axes = canvas(spacing * steps + 1.2, 3.6, f"{cell} unrolled over {steps} time steps (same weights)")
    for t in range(steps):
        x = 1.3 + spacing * t
        label = f"x{t + 1}"
        box(axes, x, 0.5, label, kind="data", width=0.9, height=0.5)
        box(axes, x, 1.8, cell, width=1.3, height=0.8)
        box(axes, x, 3.1, f"h{t + 1}", kind="state", width=0.9, height=0.5)
        arrow(axes, (x, 0.75), (x, 1.4))
        arrow(axes, (x, 2.2), (x, 2.85))
        if t:
            arrow(axes, (x - spacing + 0.65, 1.8), (x - 0.65, 1.8), f"h{t}")
    axes.text(0.1, 1.95, "h0=0", fontsize=7.5)
    return figure


def lstm_cell_figure() -> Figure:
    """The LSTM cell: forget, input and output gates, the candidate, the cell state c and the output h."""
    figure, axes = canvas(9.0, 4.6, "LSTM cell: c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)")
    box(axes, 1.0, 1.0, "[h_{t-1}, x_t]", kind="data", width=1.5)
    gates = [("f: forget\nσ", 2.8), ("i: input\nσ", 4.3), ("g: candidate\ntanh", 5.8), ("o: output\nσ", 7.3)]
    for text, x in gates:
        box(axes, x, 1.9, text, kind="gate", width=1.3, height=0.75)
        arrow(axes, (1.75, 1.0), (x - 0.3, 1.5))
    box(axes, 0.6, 3.9, "c_{t-1}", kind="state", width=0.9, height=0.5)
    box(axes, 2.8, 3.9, "×", kind="op", width=0.5, height=0.5)
    box(axes, 5.0, 3.9, "+", kind="op", width=0.5, height=0.5)
    box(axes, 5.05, 3.0, "i × g", kind="op", width=0.9, height=0.45)
    box(axes, 8.3, 3.9, "c_t", kind="state", width=0.7, height=0.5)
    box(axes, 7.3, 3.0, "o × tanh(c_t)", kind="op", width=1.5, height=0.45)
    box(axes, 8.5, 2.2, "h_t", kind="state", width=0.6, height=0.5)
    arrow(axes, (1.05, 3.9), (2.55, 3.9))
    arrow(axes, (2.8, 2.3), (2.8, 3.65), "f")
    arrow(axes, (3.05, 3.9), (4.75, 3.9))
    arrow(axes, (4.3, 2.3), (4.9, 2.78))
    arrow(axes, (5.8, 2.3), (5.2, 2.78))
    arrow(axes, (5.0, 3.22), (5.0, 3.65))
    arrow(axes, (5.25, 3.9), (7.95, 3.9))
    arrow(axes, (7.3, 2.3), (7.3, 2.78))
    arrow(axes, (8.0, 3.65), (7.6, 3.22))
    arrow(axes, (8.05, 3.0), (8.45, 2.45))
    axes.text(0.2, 4.35, "cell state: a conveyor belt, changed only by × and +", fontsize=7.5)
    return figure


def gru_cell_figure() -> Figure:
    """The GRU cell: update gate z, reset gate r, candidate, and the mix of old state and candidate."""
    figure, axes = canvas(8.6, 4.0, "GRU cell (Keras): h_t = z * h_{t-1} + (1 - z) * candidate")
    box(axes, 1.0, 1.0, "[h_{t-1}, x_t]", kind="data", width=1.5)
    box(axes, 2.7, 2.0, "z: update\nσ", kind="gate", width=1.3, height=0.75)
    box(axes, 4.3, 2.0, "r: reset\nσ", kind="gate", width=1.3, height=0.75)
    box(axes, 6.6, 2.0, "candidate\ntanh(x W + r × (h U))", kind="gate", width=2.2, height=0.75)
    for x in (2.7, 4.3, 6.6):
        arrow(axes, (1.75, 1.0), (x - 0.3, 1.6))
    arrow(axes, (4.95, 2.0), (5.5, 2.0), "r")
    box(axes, 0.8, 3.4, "h_{t-1}", kind="state", width=0.9, height=0.5)
    box(axes, 4.6, 3.4, "z × h_{t-1} + (1 − z) × candidate", kind="op", width=3.6, height=0.5)
    box(axes, 7.9, 3.4, "h_t", kind="state", width=0.7, height=0.5)
    arrow(axes, (1.25, 3.4), (2.8, 3.4))
    arrow(axes, (2.7, 2.4), (3.4, 3.15), "z")
    arrow(axes, (6.6, 2.4), (5.8, 3.15))
    arrow(axes, (6.4, 3.4), (7.55, 3.4))
    return figure


def bidirectional_figure(tokens: Sequence[str] = ("oil", "prices", "rose", "", "")) -> Figure:
    """A bidirectional RNN over a padded sequence: padded steps (grey) are skipped thanks to the mask."""
    steps = len(tokens)
    spacing = 1.7
    figure, axes = canvas(spacing * steps + 3.2, 4.8, "bidirectional RNN, masked: padding (grey) is skipped")
    real = [index for index, token in enumerate(tokens) if token]
    for t, token in enumerate(tokens):
        x = 1.2 + spacing * t
        kind = "data" if token else "masked"
        box(axes, x, 0.5, token or "pad (0)", kind=kind, width=1.2, height=0.5)
        box(axes, x, 1.6, "→ cell", kind="layer" if token else "masked", width=1.2, height=0.55)
        box(axes, x, 2.7, "← cell", kind="layer" if token else "masked", width=1.2, height=0.55)
        arrow(axes, (x, 0.75), (x, 1.32))
        if token and t + 1 in real:
            arrow(axes, (x + 0.6, 1.6), (x + spacing - 0.6, 1.6))
            arrow(axes, (x + spacing - 0.6, 2.7), (x + 0.6, 2.7))
    last = 1.2 + spacing * real[-1] if real else 1.2
    first = 1.2 + spacing * real[0] if real else 1.2
    concat_x = 1.2 + spacing * steps + 0.4
    box(axes, concat_x, 3.5, "concatenate\n[h→ last, h← first]", kind="op", width=2.2, height=0.8)
    arrow(axes, (last + 0.6, 1.6), (concat_x - 1.1, 3.3), "h→ (last real word)")
    arrow(axes, (first, 2.98), (concat_x - 1.1, 3.6), "h← (first word)")
    box(axes, concat_x, 4.45, "Dense softmax\n(8 topics)", width=2.0, height=0.5)
    arrow(axes, (concat_x, 3.9), (concat_x, 4.2))
    return figure


def embedding_map_figure(spaces: Mapping[str, Mapping[str, Mapping[str, np.ndarray]]]) -> Figure:
    """One panel per embedding space (``name -> {probe word -> {word: vector}}``, the probe's own vector and its
    neighbours'): every word on the first two principal components of that panel's vectors, each probe's group in
    one colour, the probe in bold."""
    import matplotlib.pyplot as plt

    figure, axes_row = plt.subplots(1, len(spaces), figsize=(6.2 * len(spaces), 5.2))
    for axes, (name, groups) in zip(np.atleast_1d(axes_row), spaces.items(), strict=True):
        words = [(probe, word) for probe, group in groups.items() for word in group]
        vectors = np.array([groups[probe][word] for probe, word in words], dtype=np.float64)
        points = principal_components(vectors)
        colors = {probe: CLASS_COLORS[i % len(CLASS_COLORS)] for i, probe in enumerate(groups)}
        for (probe, word), (x, y) in zip(words, points, strict=True):
            axes.scatter(x, y, color=colors[probe], s=60 if word == probe else 18)
            axes.annotate(
                word,
                (x, y),
                fontsize=10 if word == probe else 8,
                fontweight="bold" if word == probe else "normal",
                color=colors[probe],
                xytext=(3, 3),
                textcoords="offset points",
            )
        axes.set_title(name, fontsize=10)
        axes.set_xticks([])
        axes.set_yticks([])
    figure.suptitle("words and their nearest neighbours, first two principal components of each space", fontsize=11)
    figure.tight_layout()
    return figure


def word_order_figure(tasks: Mapping[str, Mapping[str, float]], chance: float = 0.5) -> Figure:
    """Test accuracy of each model (bars) on each task (groups, ``task -> {model: accuracy}``), with chance."""
    import matplotlib.pyplot as plt

    models = list(dict.fromkeys(model for accuracies in tasks.values() for model in accuracies))
    width = 0.8 / len(models)
    figure, axes = plt.subplots(figsize=(8.5, 3.6))
    for i, model in enumerate(models):
        positions = np.arange(len(tasks)) + (i - (len(models) - 1) / 2) * width
        values = [accuracies.get(model, np.nan) for accuracies in tasks.values()]
        bars = axes.bar(positions, values, width, label=model, color=CLASS_COLORS[i % len(CLASS_COLORS)])
        axes.bar_label(bars, fmt="%.2f", fontsize=8)
    axes.axhline(chance, color="grey", ls="--", lw=1, label=f"chance on word order ({chance:.0%})")
    axes.set_xticks(np.arange(len(tasks)), list(tasks))
    axes.set_ylim(0, 1.1)
    axes.set_ylabel("test accuracy")
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes.set_title("the same models on topics and on word order", fontsize=10)
    figure.tight_layout()
    return figure
