"""Figures of notebook 09: masked language modelling, the sentence encoder and the retrieval chatbot, drawn in code."""

from __future__ import annotations

from matplotlib.figure import Figure

from helpers.figures.primitives import arrow, box, canvas, chain_figure


def masked_language_model_figure(layers: int = 2) -> Figure:
    """Masked language modelling: corrupted tokens in, the encoder, the MLM head scoring the chosen positions."""
    tokens = ["[CLS]", "oil", "prices", "[MASK]", "after", "opec", "talks", "[SEP]"]
    targets = {3: "rose", 5: "opec"}  # position 5 was chosen and left unchanged (the 10 % rule)
    figure, axes = canvas(9.6, 4.3, "Masked language modelling: give back the original token where it was chosen")
    xs = [0.75 + 1.15 * i for i in range(len(tokens))]
    for i, (x, token) in enumerate(zip(xs, tokens, strict=True)):
        box(axes, x, 0.45, token, kind="masked" if i in targets else "data", width=1.0, height=0.5)
        arrow(axes, (x, 0.72), (x, 1.25))
    box(
        axes,
        4.8,
        1.75,
        f"token + position embeddings, then {layers} encoder blocks:\nattention over every real "
        "token (padding mask, no causal mask) + MLP",
        kind="layer",
        width=9.0,
        height=0.9,
    )
    for position, target in targets.items():
        arrow(axes, (xs[position], 2.22), (xs[position], 2.7))
        box(axes, xs[position], 3.05, "MLM head:\nDense+GELU, norm,\n× embeddingsᵀ", kind="op", width=1.5, height=0.65)
        axes.text(xs[position], 3.75, f"→ “{target}”", ha="center", fontsize=9)
    axes.text(0.2, 3.05, "only the chosen\npositions are scored", fontsize=8, color="#444444", va="center")
    return figure


def sentence_encoder_figure(layers: int = 6) -> Figure:
    """all-MiniLM-L6-v2 as a sentence encoder: WordPiece ids, embeddings, blocks, mean pooling, normalise."""
    stages = [
        ("text →\nWordPiece ids\n+ padding mask", "data"),
        ("token + position\n+ segment emb.\n→ LayerNorm", "layer"),
        (f"{layers} × block:\nattention (no causal\nmask) + MLP, post-norm", "layer"),
        ("mean over the\nreal tokens\n(padding mask)", "op"),
        ("÷ length →\nunit vector\n(384 numbers)", "op"),
    ]
    return chain_figure(
        stages, f"A sentence encoder: a BERT-style model of {layers} blocks, then mean pooling", width=1.9
    )


def retrieval_chatbot_figure() -> Figure:
    """The retrieval chatbot: embed the question, find the nearest corpus question, answer with its answer."""
    stages = [
        ("your question", "data"),
        ("encoder →\nunit vector", "layer"),
        ("cosine with every\ncorpus question\n(one matrix product)", "op"),
        ("nearest question\n(similarity ≥ threshold?)", "op"),
        ("its answer, or\n“I don't know”", "data"),
    ]
    return chain_figure(stages, "A retrieval chatbot: it can only answer what its corpus already holds", width=1.9)
