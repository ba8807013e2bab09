"""Figures of notebook 14 (adapting a real LLM): LoRA's factorisation, the masked SFT loss, accuracy against
labelled examples, and the retrieval-augmented generation pipeline, drawn in code."""

from __future__ import annotations

from collections.abc import Sequence

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


def lora_figure() -> Figure:
    """LoRA: the frozen W beside the trained low-rank product A·B, added to its output."""
    figure, axes = canvas(10.0, 3.6, "LoRA: a frozen W plus a trained low-rank update (alpha / r)·A·B")
    box(axes, 0.9, 1.7, "x\n(d_in)", kind="data", width=1.1, height=0.7)
    box(axes, 3.6, 2.8, "W (frozen)\nd_in × d_out", kind="state", width=2.2, height=0.8)
    box(axes, 3.0, 0.7, "A (trained)\nd_in × r", width=1.6, height=0.7)
    box(axes, 5.2, 0.7, "B (trained, starts at 0)\nr × d_out", width=2.2, height=0.7)
    arrow(axes, (1.45, 1.9), (2.5, 2.6))
    arrow(axes, (1.45, 1.5), (2.2, 0.9))
    arrow(axes, (3.8, 0.7), (4.1, 0.7), "")
    box(axes, 7.6, 1.7, "+", width=0.5, height=0.5)
    arrow(axes, (4.7, 2.8), (7.35, 1.85), "x·W")
    arrow(axes, (6.3, 0.7), (7.35, 1.55), "(alpha / r)·x·A·B")
    box(axes, 9.1, 1.7, "y\n(d_out)", kind="data", width=1.0, height=0.7)
    arrow(axes, (7.85, 1.7), (8.6, 1.7))
    axes.text(0.3, 3.45, "r ≪ d_in, d_out: r·(d_in + d_out) trained weights instead of d_in·d_out;"
              " for serving, W + (alpha / r)·A·B is merged into one kernel", fontsize=8)  # fmt: skip
    return figure


def masked_loss_figure(tokens: Sequence[str], targets: Sequence[int]) -> Figure:
    """One training example's tokens, the loss's targets (the answer's tokens: ``targets`` 1) highlighted."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(10.0, 1.9))
    shown = list(range(len(tokens)))
    if len(tokens) > 26:  # the start and the end of the example, where the answer is
        shown = [*range(8), -1, *range(len(tokens) - 17, len(tokens))]
    for column, index in enumerate(shown):
        label, counted = ("…", 0) if index < 0 else (tokens[index].replace("\n", "\\n"), targets[index])
        axes.add_patch(plt.Rectangle((column, 0), 0.95, 0.9, color="tab:orange" if counted else "0.9"))
        axes.text(column + 0.47, 0.45, label, ha="center", va="center", fontsize=7, rotation=90)
    axes.set_xlim(0, len(shown))
    axes.set_ylim(0, 1)
    axes.axis("off")
    axes.set_title("SFT loss: only the answer's tokens are targets (orange); the prompt is context, never a target",
                   fontsize=10)  # fmt: skip
    figure.tight_layout()
    return figure


def approach_accuracy_figure(accuracy: dict[str, float], stories: int) -> Figure:
    """Held-out accuracy of each approach (a bar each), the chance of guessing one of eight topics dashed."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7.0, 3.2))
    names = list(accuracy)
    axes.barh(names, [accuracy[name] for name in names], color="tab:blue")
    for row, name in enumerate(names):
        axes.text(accuracy[name] + 0.01, row, f"{accuracy[name]:.3f}", va="center", fontsize=8)
    axes.axvline(1 / 8, color="0.4", linestyle="--", label="guessing one of 8 topics")
    axes.set_xlim(0, 1.1)
    axes.set_xlabel(f"accuracy on {stories} held-out stories")
    axes.invert_yaxis()
    axes.legend(fontsize=8, loc="lower right")
    axes.set_title("R8 topics: prompting the base model against fine-tuning it", fontsize=11)
    figure.tight_layout()
    return figure
