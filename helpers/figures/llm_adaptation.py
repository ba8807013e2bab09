"""Figures of notebook 14 (adapting a real LLM): the retrieval-augmented generation pipeline, drawn in code."""

from __future__ import annotations

from matplotlib.figure import Figure

from helpers.figures.primitives import arrow, box, canvas


def rag_pipeline_figure() -> Figure:
    """Retrieval-augmented generation: the course's notebooks cut into passages and embedded once; a question
    embedded, the k most similar passages numbered into the chat prompt, SmolLM2 answering and citing them."""
    figure, axes = canvas(11.0, 4.2, "Retrieval-augmented generation: the model reads the passages it is given")
    # Once, before any question: the document collection as passages and their vectors.
    box(axes, 1.25, 3.2, "course notebooks\n(markdown cells)", kind="data", width=2.0, height=0.8)
    box(axes, 3.85, 3.2, "chunking: passages of\nN words, overlapping,\neach with its title", kind="op", width=2.4)
    box(axes, 6.6, 3.2, "MiniLM (or TF-IDF)\n→ one vector\nper passage", kind="layer", width=2.2, height=0.8)
    box(axes, 9.4, 3.2, "passage vectors\n(computed once)", kind="state", width=2.0, height=0.8)
    arrow(axes, (2.25, 3.2), (2.65, 3.2))
    arrow(axes, (5.05, 3.2), (5.5, 3.2))
    arrow(axes, (7.7, 3.2), (8.4, 3.2))
    # Each question: retrieve, then generate.
    box(axes, 1.25, 1.0, "question", kind="data", width=2.0, height=0.7)
    box(axes, 3.85, 1.0, "same encoder\n→ question vector", kind="layer", width=2.4, height=0.8)
    box(axes, 6.6, 1.0, "top k by cosine:\nretrieved passages\n[1] [2] [3]", kind="op", width=2.2, height=0.9)
    box(
        axes,
        9.4,
        1.0,
        "chat prompt: answer from\nthe passages, cite [1]...\n→ SmolLM2 (greedy)\n→ answer [2]",
        kind="layer",
        width=2.4,
        height=1.1,
    )
    arrow(axes, (2.25, 1.0), (2.65, 1.0))
    arrow(axes, (5.05, 1.0), (5.5, 1.0))
    arrow(axes, (7.7, 1.0), (8.2, 1.0))
    arrow(axes, (9.4, 2.8), (7.1, 1.45), "search")
    axes.text(0.25, 2.2, "once, before any question", fontsize=8, color="#444444")
    axes.text(0.25, 0.2, "for each question", fontsize=8, color="#444444")
    return figure
