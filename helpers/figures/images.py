"""Plots that several notebooks share. Matplotlib is imported when a plot is drawn, not before."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def image_grid(
    images: np.ndarray,
    titles: Sequence[str] | None = None,
    *,
    columns: int = 8,
    cmap: str = "gray",
    size: float = 1.4,
) -> Figure:
    """Show ``images`` (N, H, W) or (N, H, W, C) in a grid, each with an optional title."""
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"image_grid expects (N, H, W) or (N, H, W, C) images, got shape {images.shape}")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(images)} images but {len(titles)} titles")
    rows = max(1, -(-len(images) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(columns * size, rows * size * 1.15), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index < len(images):
            image = images[index]
            axis.imshow(image.squeeze() if image.ndim == 3 and image.shape[-1] == 1 else image, cmap=cmap)
            if titles is not None:
                axis.set_title(titles[index], fontsize=8)
    figure.tight_layout()
    return figure
