"""Plots of two-dimensional things: curves with their slopes, optimiser paths, decision boundaries.

Notebooks 01 and 02 use these to *look at* what they compute; the computing stays in the
notebook. Matplotlib is imported when a plot is drawn, not before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Surface = Callable[[np.ndarray], Any]
"""A function of points ``(n, 2)`` returning one value per point, ``(n,)`` or ``(n, 1)``."""


def points_2d(points: Any, what: str) -> np.ndarray:
    """``points`` as a float array of shape ``(n, 2)``; a clear error otherwise."""
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
        raise ValueError(f"{what} should be an array of 2-D points with shape (n, 2), got shape {array.shape}")
    return array


def evaluate_on_grid(function: Surface, x_range: tuple[float, float], y_range: tuple[float, float], resolution: int):
    """Grid coordinates ``(xx, yy)`` and ``function``'s values there, computed in ONE batched call."""
    if resolution < 2:
        raise ValueError(f"resolution should be at least 2, got {resolution}")
    xx, yy = np.meshgrid(np.linspace(*x_range, resolution), np.linspace(*y_range, resolution))
    grid = np.column_stack([xx.ravel(), yy.ravel()]).astype(np.float32)
    values = np.asarray(function(grid), dtype=np.float64)
    if values.size != len(grid):
        raise ValueError(
            f"the function should return one value per point: {len(grid)} points gave an output of shape {values.shape}"
        )
    return xx, yy, values.reshape(xx.shape)


def padded_range(values: np.ndarray, margin: float = 0.15) -> tuple[float, float]:
    """``(low, high)`` of ``values`` widened by ``margin`` of their span on each side."""
    low, high = float(np.min(values)), float(np.max(values))
    pad = margin * max(high - low, 1e-3)
    return low - pad, high + pad


def plot_functions_and_derivatives(x: Any, curves: Mapping[str, tuple[Any, Any]], *, size: float = 4.0) -> Figure:
    """Two panels: each curve's values on the left, its derivative on the right.

    ``curves`` maps a name (``"sigmoid"``) to ``(values, derivatives)``, both with the shape of ``x``.
    """
    import matplotlib.pyplot as plt

    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"x should be one-dimensional, got shape {x.shape}")
    if not curves:
        raise ValueError("curves is empty: give at least one name -> (values, derivatives)")
    figure, (left, right) = plt.subplots(1, 2, figsize=(2.2 * size, size))
    for name, (values, derivatives) in curves.items():
        values, derivatives = np.asarray(values), np.asarray(derivatives)
        if values.shape != x.shape or derivatives.shape != x.shape:
            raise ValueError(
                f"{name}: values {values.shape} and derivatives {derivatives.shape} should both have x's shape "
                f"{x.shape}"
            )
        (line,) = left.plot(x, values, label=name)
        right.plot(x, derivatives, label=f"d {name} / dx", color=line.get_color())
    for axis, title in ((left, "value"), (right, "derivative")):
        axis.axhline(0, color="grey", linewidth=0.5)
        axis.set(title=title, xlabel="x")
        axis.legend()
    figure.tight_layout()
    return figure


def plot_trajectories(
    surface: Surface,
    trajectories: Mapping[str, Any],
    *,
    minimum: Any | None = None,
    labels: tuple[str, str] = ("parameter 1", "parameter 2"),
    ax: Axes | None = None,
    title: str | None = None,
    resolution: int = 150,
) -> Figure:
    """Contour lines of ``surface`` with each optimiser's path ``(steps, 2)`` drawn on top.

    The plotted region covers every path (and ``minimum``, marked with a star, if given).
    ``surface`` is called once on all grid points together. ``ax`` draws into an existing panel.
    """
    import matplotlib.pyplot as plt

    if not trajectories:
        raise ValueError("trajectories is empty: give at least one name -> path of shape (steps, 2)")
    paths = {name: points_2d(path, f"the path of {name!r}") for name, path in trajectories.items()}
    extra = [points_2d([minimum], "minimum")] if minimum is not None else []
    every_point = np.concatenate([*paths.values(), *extra])
    x_range, y_range = padded_range(every_point[:, 0]), padded_range(every_point[:, 1])
    xx, yy, values = evaluate_on_grid(surface, x_range, y_range, resolution)
    if ax is None:
        figure, ax = plt.subplots(figsize=(6.0, 4.8))
    else:
        figure = ax.figure
    low, high = float(values.min()), float(values.max())
    # Positive surfaces (losses): contours evenly spaced in log scale show the valley floor too.
    levels = np.geomspace(low * 1.05, high, 20) if low > 0 else np.linspace(low, high, 20)
    ax.contour(xx, yy, values, levels=levels, colors="0.65", linewidths=0.7)
    for name, path in paths.items():
        ax.plot(path[:, 0], path[:, 1], marker=".", markersize=3, linewidth=1.2, label=name)
    ax.plot(*paths[next(iter(paths))][0], "ko", label="start")
    if minimum is not None:
        ax.plot(*np.asarray(minimum, dtype=float), "r*", markersize=14, label="minimum")
    ax.set(xlabel=labels[0], ylabel=labels[1])
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return figure


def plot_decision_boundary(
    predict_proba: Surface,
    x: Any,
    y: Any,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    resolution: int = 200,
) -> Figure:
    """A binary classifier's probability of class 1 over the plane, its 0.5 boundary, and the points.

    ``predict_proba`` maps points ``(n, 2)`` to probabilities ``(n,)`` or ``(n, 1)``; it is called
    once, on the whole grid (never point by point). ``ax`` draws into an existing panel.
    """
    import matplotlib.pyplot as plt

    x = points_2d(x, "x")
    y = np.asarray(y).reshape(-1)
    if len(y) != len(x):
        raise ValueError(f"x has {len(x)} points but y has {len(y)} labels")
    xx, yy, probabilities = evaluate_on_grid(
        predict_proba, padded_range(x[:, 0], 0.1), padded_range(x[:, 1], 0.1), resolution
    )
    if probabilities.min() < -1e-6 or probabilities.max() > 1 + 1e-6:
        raise ValueError(
            "predict_proba returned values outside [0, 1]: these look like logits; apply a sigmoid first "
            f"(range {probabilities.min():.3g} to {probabilities.max():.3g})"
        )
    if ax is None:
        figure, ax = plt.subplots(figsize=(5.5, 4.5))
    else:
        figure = ax.figure
    filled = ax.contourf(xx, yy, probabilities, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(xx, yy, probabilities, levels=[0.5], colors="k", linewidths=1.5)
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap="RdBu_r", edgecolors="k", linewidths=0.3, s=12, vmin=0, vmax=1)
    figure.colorbar(filled, ax=ax, label="P(class 1)")
    if title:
        ax.set_title(title)
    return figure
