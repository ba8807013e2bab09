"""Figures of notebook 15 (model compression): the three techniques, pruning masks, Zhu and Gupta's schedule,
accuracy against sparsity, softened targets, and the size-accuracy front of every compressed model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from helpers.figures.primitives import arrow, box, canvas


def compression_figure() -> Figure:
    """Pruning, distillation and quantization side by side: what each one removes from a trained model."""
    figure, axes = canvas(11.0, 3.4, "Three ways to make a trained model smaller or faster")
    columns = (
        ("pruning", "trained weights", "zero the smallest\nweights (unstructured)\nor whole units\n(structured)"),
        ("distillation", "large teacher", "train a small student\non the teacher's\nsoftened outputs"),
        ("quantization", "float32 weights", "store (and multiply)\nweights as int8:\na scale per channel"),
    )
    for number, (name, start, step) in enumerate(columns):
        x = 1.9 + 3.6 * number
        axes.text(x, 3.0, name, ha="center", fontsize=10, fontweight="bold")
        box(axes, x, 2.3, start, kind="state", width=2.2, height=0.55)
        box(axes, x, 1.05, step, kind="op", width=2.6, height=1.05)
        arrow(axes, (x, 2.0), (x, 1.6))
    note = "each is measured by bytes on disk, milliseconds per call and accuracy"
    axes.text(5.5, 0.15, note, ha="center", fontsize=8)
    return figure


def pruning_masks_figure(masks: Mapping[str, np.ndarray], rows: int = 48, columns: int = 96) -> Figure:
    """The top-left corner of each kernel mask (white: kept, black: pruned): scattered zeros against whole units."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(masks), figsize=(4.2 * len(masks), 2.6))
    for axis, (name, mask) in zip(np.atleast_1d(axes), masks.items(), strict=True):
        axis.imshow(mask[:rows, :columns], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axis.set_title(f"{name}: {np.mean(mask == 0):.0%} zeros", fontsize=9)
        axis.set_xlabel("hidden unit (column)")
        axis.set_ylabel("input pixel (row)")
    figure.tight_layout()
    return figure


def sparsity_schedule_figure(steps: Sequence[int], sparsities: Sequence[float]) -> Figure:
    """Zhu and Gupta's gradual schedule: the target sparsity at each training step."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 2.8))
    axis.plot(steps, sparsities)
    axis.set(xlabel="training step", ylabel="sparsity", title="Gradual pruning: the sparsity rises, then holds")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def accuracy_against_sparsity_figure(curves: Mapping[str, Mapping[float, float]], baseline: float) -> Figure:
    """Test accuracy against the share of weights removed, one line per way of pruning, the dense model dashed."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.4))
    for name, points in curves.items():
        sparsities = sorted(points)
        axis.plot(sparsities, [points[s] for s in sparsities], marker="o", label=name)
    axis.axhline(baseline, color="gray", linestyle="--", label="dense model")
    axis.set(xlabel="sparsity (share of weights that are zero)", ylabel="test accuracy")
    axis.set_title("Magnitude pruning: accuracy against sparsity")
    axis.legend(fontsize=8)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def soft_targets_figure(probabilities: Mapping[str, np.ndarray], title: str) -> Figure:
    """One bar chart per softening temperature: the teacher's probabilities over the ten digits."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(probabilities), figsize=(3.2 * len(probabilities), 2.5), sharey=True)
    for axis, (name, values) in zip(np.atleast_1d(axes), probabilities.items(), strict=True):
        axis.bar(range(len(values)), values)
        axis.set_xticks(range(len(values)))
        axis.set_title(name, fontsize=9)
        axis.set_yscale("log")
        axis.set_ylim(1e-6, 1.5)
    np.atleast_1d(axes)[0].set_ylabel("probability (log scale)")
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


def distillation_figure() -> Figure:
    """Knowledge distillation: the frozen teacher's logits softened at T, the student's too, two losses added."""
    figure, axes = canvas(10.5, 3.6, "Knowledge distillation: the student learns from the teacher's soft labels")
    box(axes, 0.9, 1.8, "input x", kind="data", width=1.2, height=0.6)
    box(axes, 3.2, 2.8, "teacher (frozen)\n→ logits z_t", kind="state", width=2.2, height=0.7)
    box(axes, 3.2, 0.8, "student (trained)\n→ logits z_s", kind="layer", width=2.2, height=0.7)
    box(axes, 6.1, 2.8, "softmax(z_t / T)", kind="op", width=2.0, height=0.55)
    box(axes, 6.1, 1.7, "softmax(z_s / T)", kind="op", width=2.0, height=0.55)
    box(axes, 6.1, 0.55, "softmax(z_s)", kind="op", width=2.0, height=0.5)
    box(axes, 9.0, 2.25, "T² · KL(teacher ‖ student)\nweight 1 − alpha", kind="gate", width=2.5, height=0.7)
    box(axes, 9.0, 0.55, "cross-entropy with\nthe label, weight alpha", kind="gate", width=2.5, height=0.7)
    arrow(axes, (1.5, 2.0), (2.1, 2.7))
    arrow(axes, (1.5, 1.6), (2.1, 0.9))
    arrow(axes, (4.3, 2.8), (5.1, 2.8))
    arrow(axes, (4.3, 0.9), (5.1, 1.6))
    arrow(axes, (4.3, 0.7), (5.1, 0.55))
    arrow(axes, (7.1, 2.75), (7.75, 2.4))
    arrow(axes, (7.1, 1.75), (7.75, 2.1))
    arrow(axes, (7.1, 0.55), (7.75, 0.55))
    return figure


def pareto_figure(table: pd.DataFrame, front: pd.DataFrame, size: str = "bytes", score: str = "accuracy") -> Figure:
    """Every model of ``table`` as a point (``size`` on a log scale, ``score``), labelled, with the ``front`` joined."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7.5, 4.2))
    axis.scatter(table[size], table[score], color="tab:blue")
    for name, row in table.iterrows():
        axis.annotate(str(name), (row[size], row[score]), fontsize=7, xytext=(4, 3), textcoords="offset points")
    axis.plot(front[size], front[score], color="tab:red", drawstyle="steps-post", label="the front (nothing beats it)")
    axis.set_xscale("log")
    axis.set(xlabel=f"{size} (log scale)", ylabel=score, title="Size against accuracy of every model")
    axis.legend(fontsize=8)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    return figure
