"""Figures of notebook 09: the sentence encoder and the retrieval chatbot, drawn in code."""

from __future__ import annotations

from matplotlib.figure import Figure

from helpers.diagrams import chain_figure


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
