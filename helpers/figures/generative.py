"""Figures of notebook 16 (generative models of images): the four models side by side, the autoencoder's latent
map, chains of images (interpolation, noising, denoising), class histograms and digit FID against training step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from helpers.figures.primitives import arrow, box, canvas

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def generative_models_figure() -> Figure:
    """The autoencoder, the VAE, the GAN and the diffusion model: what goes in, what is learned, what generates."""
    figure, axes = canvas(12.4, 4.2, "Four generative models of digits: how each one makes a new image")
    columns = (
        ("autoencoder", "digit", "encoder → 2 numbers\n→ decoder", "the same digit\n(reconstruction)"),
        ("VAE", "digit", "encoder → mean, variance\ncode drawn → decoder", "decode z ~ N(0, I)\nto generate"),
        ("GAN", "noise z", "generator → fake digit\ndiscriminator: real?", "generator(z)\nto generate"),
        ("diffusion", "digit + noise\nof level t", "U-Net predicts\nthe noise", "pure noise, denoised\nstep by step"),
    )
    for number, (name, start, middle, end) in enumerate(columns):
        x = 1.6 + 3.1 * number
        axes.text(x, 3.8, name, ha="center", fontsize=10, fontweight="bold")
        box(axes, x, 3.15, start, kind="data", width=2.3, height=0.6)
        box(axes, x, 1.95, middle, kind="layer", width=2.7, height=0.85)
        box(axes, x, 0.7, end, kind="state", width=2.5, height=0.75)
        arrow(axes, (x, 2.83), (x, 2.4))
        arrow(axes, (x, 1.5), (x, 1.1))
    return figure


def unet_figure() -> Figure:
    """The small U-Net that predicts the noise: down 28 → 14 → 7 and back up, with skip connections."""
    figure, axes = canvas(11.0, 3.6, "The noise predictor ε(x_t, t, y): a small U-Net")
    levels = (("28×28×16", 1.0, 2.9), ("14×14×32", 2.8, 1.9), ("7×7×64", 5.5, 0.8), ("14×14×32", 8.2, 1.9),
              ("28×28×16", 10.0, 2.9))  # fmt: skip
    for text, x, y in levels:
        box(axes, x, y, text, kind="layer", width=1.5, height=0.55)
    for (_, x0, y0), (_, x1, y1) in pairwise(levels):
        arrow(axes, (x0 + 0.5, y0 - 0.3), (x1 - 0.5, y1 + 0.3), "pool" if y1 < y0 else "upsample")
    for left, right in ((0, 4), (1, 3)):
        _, x0, y = levels[left]
        _, x1, _ = levels[right]
        arrow(axes, (x0 + 0.78, y), (x1 - 0.78, y), "skip: joined")
    axes.text(5.5, 3.3, "every block adds the condition: embedding(t) + embedding(class or 'no class')", ha="center",
              fontsize=8.5)  # fmt: skip
    return figure


def latent_map_figure(codes: np.ndarray, labels: np.ndarray, title: str) -> Figure:
    """Test digits placed at their 2-number codes, coloured by class."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6.2, 5.2))
    points = axis.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=3, alpha=0.7)
    figure.colorbar(points, ax=axis, ticks=range(10), label="class")
    axis.set(xlabel="code 1", ylabel="code 2", title=title)
    figure.tight_layout()
    return figure


def strip_figure(rows: Mapping[str, np.ndarray], captions: Sequence[str] = ()) -> Figure:
    """One row of images per entry (name → (K, 28, 28[, 1]) images), captions under the first row's columns."""
    import matplotlib.pyplot as plt

    columns = max(len(images) for images in rows.values())
    figure, axes = plt.subplots(len(rows), columns, figsize=(1.05 * columns, 1.25 * len(rows)), squeeze=False)
    for row, (name, images) in zip(axes, rows.items(), strict=True):
        for column, axis in enumerate(row):
            axis.set_xticks([])
            axis.set_yticks([])
            axis.axis("off") if column >= len(images) else axis.imshow(images[column].squeeze(), cmap="gray")
        row[0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
        row[0].axis("on")
        for spine in row[0].spines.values():
            spine.set_visible(False)
    for axis, caption in zip(axes[-1], captions, strict=False):
        axis.set_title(caption, fontsize=7, y=-0.35)
    figure.tight_layout()
    return figure


def class_histogram_figure(histograms: Mapping[str, np.ndarray]) -> Figure:
    """The share of each class among generated digits, one bar group per model; the dashed line is 10 %."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 3))
    width = 0.8 / len(histograms)
    for number, (name, shares) in enumerate(histograms.items()):
        axis.bar(np.arange(10) + number * width - 0.4 + width / 2, shares, width, label=name)
    axis.axhline(0.1, color="#333333", linestyle="--", linewidth=1)
    axis.set(xticks=range(10), xlabel="class the CNN gives", ylabel="share of samples", title="Class histograms")
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def fid_curves_figure(curves: Mapping[str, Sequence[tuple[int, float]]], levels: Mapping[str, float]) -> Figure:
    """Digit FID (log scale) against training step for each model; the ``levels`` (baselines) as dotted lines."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 3.6))
    for name, curve in curves.items():
        steps, values = zip(*curve, strict=True)
        axis.plot(steps, values, marker="o", markersize=3, label=name)
    for name, value in levels.items():
        axis.axhline(value, linestyle=":", color="#666666", linewidth=1)
        axis.text(axis.get_xlim()[1], value, f" {name}", fontsize=7, va="center")
    axis.set(xlabel="training step", ylabel="digit FID (lower is better)", yscale="log",
             title="Digit FID while training (the course's full-mode models)")  # fmt: skip
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def loss_curves_figure(histories: Mapping[str, Sequence[float]], every: int, title: str) -> Figure:
    """Losses recorded every ``every`` steps, one line each."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6.5, 3))
    for name, values in histories.items():
        axis.plot(every * np.arange(1, len(values) + 1), values, label=name)
    axis.set(xlabel="training step", ylabel="loss", title=title)
    axis.legend(fontsize=8)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    return figure
