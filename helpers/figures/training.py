"""Plots for training lessons: learning curves of Keras histories, feature maps of different sizes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

History = Mapping[str, Sequence[float]]


def plot_learning_curves(
    runs: Mapping[str, History], metrics: Sequence[str] = ("loss", "accuracy"), *, size: float = 4.0
) -> Figure:
    """One panel per metric; each run's training curve solid and its validation curve (``val_...``) dashed.

    ``runs`` maps a run's name to its ``history.history`` (or a ``keras.callbacks.History``'s
    ``history`` dict): ``plot_learning_curves({"baseline": h1.history, "improved": h2.history})``.
    """
    import matplotlib.pyplot as plt

    if not runs:
        raise ValueError("plot_learning_curves needs at least one run, e.g. {'mlp': history.history}")
    for name, history in runs.items():
        missing = [metric for metric in metrics if metric not in history]
        if missing:
            raise ValueError(f"run {name!r} has no {missing} in its history; it has {sorted(history)}")
    figure, axes = plt.subplots(1, len(metrics), figsize=(size * len(metrics), size * 0.75), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for axis, metric in zip(axes.flat, metrics, strict=True):
        for index, (name, history) in enumerate(runs.items()):
            color = colors[index % len(colors)]
            epochs = range(1, len(history[metric]) + 1)
            axis.plot(epochs, history[metric], color=color, label=f"{name} train")
            if f"val_{metric}" in history:
                axis.plot(epochs, history[f"val_{metric}"], color=color, linestyle="--", label=f"{name} validation")
        axis.set(xlabel="epoch", ylabel=metric, title=metric)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def plot_feature_maps(maps: Sequence[np.ndarray], titles: Sequence[str] | None = None, *, size: float = 2.0) -> Figure:
    """Show 2-D arrays of *different* sizes in one row, each at its own pixel scale, axes in pixels.

    Made for comparing an image with its feature maps (smaller after a "valid" convolution, half
    the size after pooling): the tick labels show each map's height and width.
    """
    import matplotlib.pyplot as plt

    arrays = [np.asarray(item, dtype=float) for item in maps]
    if not arrays:
        raise ValueError("plot_feature_maps needs at least one 2-D array")
    bad = [index for index, array in enumerate(arrays) if array.ndim != 2]
    if bad:
        shapes = [arrays[index].shape for index in bad]
        raise ValueError(f"plot_feature_maps expects 2-D arrays (height, width); items {bad} have shapes {shapes}")
    if titles is not None and len(titles) != len(arrays):
        raise ValueError(f"got {len(arrays)} maps but {len(titles)} titles")
    figure, axes = plt.subplots(1, len(arrays), figsize=(size * len(arrays), size * 1.1), squeeze=False)
    for index, (axis, array) in enumerate(zip(axes.flat, arrays, strict=True)):
        axis.imshow(array, cmap="gray")
        axis.set_title(f"{titles[index] if titles else ''}\n{array.shape[0]}×{array.shape[1]}", fontsize=9)
        axis.tick_params(labelsize=7)
    figure.tight_layout()
    return figure
