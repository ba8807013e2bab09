"""Architecture figures of notebook 08 (attention, transformer, GPT), drawn with matplotlib.

Each function returns its :class:`matplotlib.figure.Figure`. They reuse the boxes and arrows of
:mod:`helpers.figures.text`, so notebooks 07 and 08 look alike.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from helpers.figures.primitives import arrow, box, canvas, chain_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def ngram_figure(order: int = 4) -> Figure:
    """A character n-gram model: the last ``order - 1`` characters predict the next one."""
    figure, axes = canvas(8.4, 2.2, f"a character {order}-gram: P(next | last {order - 1} characters)")
    text = "to be or no"
    for i, char in enumerate(text):
        kind = "state" if i >= len(text) - (order - 1) else "data"
        box(axes, 0.5 + 0.55 * i, 1.2, char if char != " " else "␣", kind=kind, width=0.45, height=0.5)
    box(axes, 7.4, 1.2, "counts of\n(context, next),\ndiscounted", kind="layer", width=1.6, height=1.0)
    arrow(axes, (6.3, 1.2), (6.55, 1.2))
    axes.text(0.3, 0.45, "interpolation: mix the counts of each order with the next-lower order", fontsize=8)
    return figure


def attention_figure() -> Figure:
    """Scaled dot-product attention: Q, K, V projections, scores, causal mask, softmax, weighted sum."""
    figure, axes = canvas(9.6, 3.4, "causal scaled dot-product attention (one head)")
    box(axes, 0.9, 1.6, "x\n(T, d)", kind="data", width=1.1, height=0.8)
    for name, y in (("Q = x Wq", 2.8), ("K = x Wk", 1.6), ("V = x Wv", 0.4)):
        box(axes, 2.7, y, name, width=1.5, height=0.55)
        arrow(axes, (1.45, 1.6), (1.95, y))
    box(axes, 4.7, 2.2, "scores\nQ Kᵀ / √d", kind="op", width=1.5, height=0.8)
    box(axes, 6.4, 2.2, "causal mask\n(j > i: −∞)", kind="gate", width=1.5, height=0.8)
    box(axes, 8.0, 2.2, "softmax\nover keys", kind="op", width=1.3, height=0.8)
    box(axes, 8.0, 0.4, "weights · V\n(T, d)", kind="state", width=1.5, height=0.6)
    arrow(axes, (3.45, 2.8), (3.95, 2.35))
    arrow(axes, (3.45, 1.6), (3.95, 2.05))
    arrow(axes, (5.45, 2.2), (5.65, 2.2))
    arrow(axes, (7.15, 2.2), (7.35, 2.2))
    arrow(axes, (8.0, 1.8), (8.0, 0.7))
    arrow(axes, (3.45, 0.4), (7.25, 0.4))
    return figure


def multi_head_figure(heads: int = 4) -> Figure:
    """Multi-head attention: the width is split into ``heads`` heads, each attends, outputs concatenated."""
    figure, axes = canvas(9.0, 3.0, f"multi-head attention: {heads} heads of width d / {heads}")
    box(axes, 0.9, 1.4, "x (T, d)", kind="data", width=1.2, height=0.6)
    for h in range(heads):
        y = 2.4 - h * (2.0 / max(heads - 1, 1))
        box(axes, 3.4, y, f"head {h + 1}: attention\non Q, K, V slices", width=2.3, height=0.45)
        arrow(axes, (1.5, 1.4), (2.25, y))
        arrow(axes, (4.55, y), (5.6, 1.4))
    box(axes, 6.3, 1.4, "concatenate\n(T, d)", kind="op", width=1.3, height=0.7)
    box(axes, 8.1, 1.4, "output\nprojection Wo", width=1.4, height=0.7)
    arrow(axes, (6.95, 1.4), (7.4, 1.4))
    return figure


def transformer_block_figure() -> Figure:
    """A pre-norm transformer block: x + Attention(LN(x)), then x + MLP(LN(x))."""
    figure, axes = canvas(9.6, 2.6, "pre-norm transformer block")
    stages = [
        ("x", "data", 0.6),
        ("LayerNorm", "op", 2.0),
        ("causal multi-head\nattention", "layer", 3.7),
        ("+", "op", 5.1),
        ("LayerNorm", "op", 6.2),
        ("MLP: d→4d→d\n(GELU)", "layer", 7.7),
        ("+", "op", 9.0),
    ]
    for text, kind, x in stages:
        box(axes, x, 1.1, text, kind=kind, width=0.5 if text in ("+", "x") else 1.3, height=0.7)
    for (_, _, left), (right_text, _, right) in itertools.pairwise(stages):
        half = 0.25 if right_text in ("+",) else 0.65
        arrow(axes, (left + (0.25 if left in (0.6, 5.1) else 0.65), 1.1), (right - half, 1.1))
    axes.annotate(
        "", xy=(5.1, 1.45), xytext=(0.6, 1.45), arrowprops={"arrowstyle": "->", "connectionstyle": "arc3,rad=-0.3"}
    )
    axes.annotate(
        "", xy=(9.0, 1.45), xytext=(5.1, 1.45), arrowprops={"arrowstyle": "->", "connectionstyle": "arc3,rad=-0.3"}
    )
    axes.text(2.2, 2.3, "residual", fontsize=8)
    axes.text(6.6, 2.3, "residual", fontsize=8)
    return figure


def gpt_figure(layers: int = 4) -> Figure:
    """The GPT: token embedding + position embedding, ``layers`` blocks, LayerNorm, linear head."""
    stages = [
        ("character ids\n(T)", "data"),
        ("token emb. +\nposition emb.", "layer"),
        (f"{layers} × pre-norm\nblock", "layer"),
        ("LayerNorm", "op"),
        ("Dense → logits\n(T, vocabulary)", "layer"),
    ]
    return chain_figure(stages, f"GPT: embeddings, {layers} transformer blocks, head", width=1.7)


def lstm_lm_figure() -> Figure:
    """The LSTM character language model: embedding, one LSTM, a linear head at every step."""
    stages = [
        ("character ids", "data"),
        ("Embedding", "layer"),
        ("LSTM\n(every step)", "layer"),
        ("Dense → logits", "layer"),
    ]
    return chain_figure(stages, "LSTM character language model", width=1.7)


def kv_cache_figure() -> Figure:
    """Generation with a KV cache: each step computes Q, K, V for the new token only and appends K, V."""
    figure, axes = canvas(9.0, 2.8, "KV cache: one new token per step, earlier keys and values kept")
    for i in range(6):
        kind = "state" if i < 5 else "gate"
        box(axes, 1.0 + 0.8 * i, 2.0, f"K{i + 1}", kind=kind, width=0.6, height=0.45)
        box(axes, 1.0 + 0.8 * i, 1.3, f"V{i + 1}", kind=kind, width=0.6, height=0.45)
    box(axes, 7.5, 1.65, "new token:\nq6 attends to\nK1..K6, V1..V6", kind="op", width=2.2, height=1.0)
    arrow(axes, (5.35, 1.65), (6.35, 1.65))
    axes.text(0.7, 0.45, "cached (computed once)   new this step", fontsize=8)
    return figure
