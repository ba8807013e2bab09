"""Figures of notebook 10: the Llama block that SmolLM2 stacks 30 times, drawn in code."""

from __future__ import annotations

from matplotlib.figure import Figure

from helpers.figures.primitives import chain_figure


def llama_block_figure(layers: int = 30) -> Figure:
    """SmolLM2 (Llama): tokens, embedding, a block (RMSNorm, rotary grouped-query attention, RMSNorm, SwiGLU), head."""
    stages = [
        ("byte-level BPE\ntoken ids", "data"),
        ("token embedding\n(49,152 × 576)", "layer"),
        ("RMSNorm →\nattention: 9 query heads,\n3 key/value heads,\nrotary positions\n+ residual", "layer"),
        ("RMSNorm →\nSwiGLU MLP:\ndown(silu(gate) × up)\n+ residual", "layer"),
        (f"× {layers} blocks,\nthen RMSNorm", "op"),
        ("× embeddingᵀ (tied)\n→ next-token logits", "op"),
    ]
    return chain_figure(stages, f"SmolLM2-135M: a Llama decoder of {layers} pre-norm blocks", width=1.9)


# (request, slot, arrival step, first decode step, last decode step) of continuous_batching_figure's story
BATCHING_STORY = (
    ("A", 0, 0, 1, 9),
    ("B", 1, 0, 1, 4),
    ("C", 2, 2, 3, 11),
    ("D", 1, 5, 6, 8),
    ("E", 3, 6, 7, 10),
    ("F", 1, 9, 10, 11),
)


def continuous_batching_figure(slots: int = 4, steps: int = 12) -> Figure:
    """Requests in the slots of a batched KV cache over decode steps: each arrival prefilled, then decoding
    with the others at every step; a finished request frees its slot, which the next arrival takes."""
    from matplotlib.patches import Rectangle

    from helpers.figures.primitives import COLORS, canvas

    figure, axes = canvas(steps * 0.62 + 1.6, slots * 0.62 + 1.4, "Continuous batching: one decode step for all slots")
    left, size = 1.3, 0.62
    for slot in range(slots):
        y = 0.5 + (slots - 1 - slot) * size
        axes.text(left - 0.1, y + size / 2, f"slot {slot}", ha="right", va="center", fontsize=8.5)
        for step in range(steps):
            axes.add_patch(Rectangle((left + step * size, y), size, size, facecolor="none", edgecolor="#dddddd"))
    for name, slot, arrival, first, last in BATCHING_STORY:
        y = 0.5 + (slots - 1 - slot) * size
        axes.add_patch(
            Rectangle((left + arrival * size, y), size, size, facecolor=COLORS["state"], edgecolor="#333333")
        )
        axes.text(left + (arrival + 0.5) * size, y + size / 2, f"{name}\nprefill", ha="center", va="center", fontsize=6)
        axes.add_patch(
            Rectangle(
                (left + first * size, y),
                (last - first + 1) * size,
                size,
                facecolor=COLORS["layer"],
                edgecolor="#333333",
            )
        )
        axes.text(
            left + (first + last + 1) / 2 * size, y + size / 2, f"{name} decodes", ha="center", va="center", fontsize=7
        )
    axes.text(
        left + steps * size / 2,
        0.15,
        "decode step →  (each column: one step for every running sequence, every weight read once)",
        ha="center",
        fontsize=7.5,
    )
    return figure
