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
