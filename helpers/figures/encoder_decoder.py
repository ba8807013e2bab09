"""Figures of notebook 08b (encoder-decoder): the two architectures, accuracy against input length,
cross-attention maps. Each function returns its :class:`matplotlib.figure.Figure`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from helpers.figures.primitives import arrow, box, canvas

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def encoder_decoder_figure() -> Figure:
    """The transformer encoder-decoder: the encoder's vectors reach every decoder block through cross-attention."""
    figure, axes = canvas(10.0, 4.4, "transformer encoder-decoder: cross-attention reads every source vector")
    box(axes, 1.2, 0.6, "source words\n(S)", kind="data", width=1.8, height=0.7)
    box(axes, 1.2, 1.9, "word emb. +\nposition emb.", width=1.8, height=0.7)
    box(axes, 1.2, 3.3, "N × encoder block:\nself-attention\n(padding mask only), MLP", width=2.2, height=1.0)
    arrow(axes, (1.2, 0.95), (1.2, 1.55))
    arrow(axes, (1.2, 2.25), (1.2, 2.8))
    box(axes, 4.0, 3.3, "S vectors\n(S, d)", kind="state", width=1.3, height=0.8)
    arrow(axes, (2.3, 3.3), (3.35, 3.3))
    box(axes, 8.6, 0.6, "<start> + digits so far\n(T, teacher forcing)", kind="data", width=2.2, height=0.7)
    box(axes, 8.6, 1.9, "digit emb. +\nposition emb.", width=1.8, height=0.7)
    arrow(axes, (8.6, 0.95), (8.6, 1.55))
    box(axes, 6.6, 3.3, "N × decoder block:\ncausal self-attention,\ncross-attention, MLP", width=2.4, height=1.0)
    arrow(axes, (8.6, 2.25), (7.2, 2.8))
    arrow(axes, (4.65, 3.3), (5.4, 3.3), "keys, values")
    box(axes, 6.6, 1.5, "Dense → logits\n(T, digits + <end>)", width=2.0, height=0.7)
    arrow(axes, (6.6, 2.8), (6.6, 1.85))
    axes.text(4.4, 4.05, "queries come from the decoder, keys and values from the encoder", fontsize=8)
    return figure


def lstm_bottleneck_figure() -> Figure:
    """The LSTM encoder-decoder without attention: the encoder's final state is the only bridge."""
    figure, axes = canvas(10.0, 2.6, "LSTM encoder-decoder without attention: one fixed-size state in between")
    words = ["three", "hundred", "and", "twelve", "…"]
    for i, word in enumerate(words):
        box(axes, 0.6 + 0.95 * i, 0.5, word, kind="data", width=0.85, height=0.45)
        box(axes, 0.6 + 0.95 * i, 1.5, "LSTM", width=0.7, height=0.5)
        arrow(axes, (0.6 + 0.95 * i, 0.75), (0.6 + 0.95 * i, 1.25))
        if i:
            arrow(axes, (0.25 + 0.95 * i, 1.5), (0.25 + 0.95 * i + 0.0, 1.5))
    box(axes, 5.6, 1.5, "final state\n(h, c)", kind="state", width=1.1, height=0.7)
    arrow(axes, (4.75, 1.5), (5.05, 1.5), "")
    for i, digit in enumerate(["<start>", "3", "1", "2"]):
        box(axes, 6.9 + 0.85 * i, 1.5, "LSTM", width=0.65, height=0.5)
        box(axes, 6.9 + 0.85 * i, 0.5, digit, kind="data", width=0.75, height=0.45)
        arrow(axes, (6.9 + 0.85 * i, 0.75), (6.9 + 0.85 * i, 1.25))
    arrow(axes, (6.15, 1.5), (6.55, 1.5))
    axes.text(5.0, 2.25, "every digit must pass through this one vector", fontsize=8)
    return figure


def accuracy_by_length_figure(
    curves: dict[str, Sequence[float]], bucket_names: Sequence[str], title: str = "exact match against input length"
) -> Figure:
    """Exact-match accuracy of each model (a line each) per bucket of source lengths."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 3.4))
    for name, values in curves.items():
        axes.plot(range(len(bucket_names)), values, marker="o", label=name)
    axes.set_xticks(range(len(bucket_names)), bucket_names)
    axes.set_xlabel("source length (words)")
    axes.set_ylabel("exact match on held-out numbers")
    axes.set_ylim(-0.02, 1.02)
    axes.grid(alpha=0.3)
    axes.legend()
    axes.set_title(title, fontsize=11)
    figure.tight_layout()
    return figure


def cross_attention_figure(weights: np.ndarray, source_words: Sequence[str], output_tokens: Sequence[str]) -> Figure:
    """One cross-attention map per decoder layer, (layers, output tokens, source words), heads averaged."""
    import matplotlib.pyplot as plt

    layers = len(weights)
    figure, axes = plt.subplots(
        1, layers, figsize=(0.32 * len(source_words) * layers + 1.5, 0.3 * len(output_tokens) + 2)
    )
    for layer, ax in enumerate(np.atleast_1d(axes)):
        ax.imshow(weights[layer], cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
        ax.set_xticks(range(len(source_words)), source_words, rotation=90, fontsize=7)
        ax.set_yticks(range(len(output_tokens)), output_tokens, fontsize=7)
        ax.set_title(f"decoder layer {layer + 1}", fontsize=9)
        ax.set_xlabel("source word (keys)")
    np.atleast_1d(axes)[0].set_ylabel("output digit (query)")
    figure.suptitle("cross-attention: where each output digit looks in the source (heads averaged)", fontsize=10)
    figure.tight_layout()
    return figure
