"""Drawing architecture diagrams with matplotlib: a canvas, rounded boxes and labelled arrows.

The notebooks' figures (``helpers.figures.architectures``, ``helpers.figures.text``, ...) are built from these, so
every diagram of the course has the same look and renders wherever matplotlib does (JupyterLab,
GitHub, Colab).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

COLORS = {
    "data": "#e8eef7",
    "layer": "#cfe3d4",
    "gate": "#f6d7a7",
    "op": "#ffffff",
    "state": "#f4c7c3",
    "masked": "#dddddd",
}


def canvas(width: float, height: float, title: str) -> tuple[Figure, Axes]:
    """An empty drawing area ``width`` × ``height`` (in inches and in data units), axes hidden."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(width, height))
    axes.set_xlim(0, width)
    axes.set_ylim(0, height)
    axes.set_aspect("equal")
    axes.axis("off")
    axes.set_title(title, fontsize=11)
    return figure, axes


def box(
    axes: Axes, x: float, y: float, text: str, *, kind: str = "layer", width: float = 1.6, height: float = 0.6
) -> None:
    """A rounded box centred on (x, y) holding ``text``."""
    from matplotlib.patches import FancyBboxPatch

    patch = FancyBboxPatch(
        (x - width / 2, y - height / 2),
        width,
        height,
        boxstyle="round,pad=0.04,rounding_size=0.12",
        facecolor=COLORS[kind],
        edgecolor="#333333",
        linewidth=1,
    )
    axes.add_patch(patch)
    axes.text(x, y, text, ha="center", va="center", fontsize=8.5)


def arrow(
    axes: Axes, start: tuple[float, float], end: tuple[float, float], text: str = "", *, color: str = "#333333"
) -> None:
    """An arrow from ``start`` to ``end``, with an optional label at its middle."""
    axes.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "->", "color": color, "linewidth": 1.2})
    if text:
        middle = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
        axes.text(middle[0] + 0.08, middle[1] + 0.08, text, fontsize=7.5, color="#444444")


def chain_figure(stages: Sequence[tuple[str, str]], title: str, *, width: float = 1.9) -> Figure:
    """A left-to-right chain of boxes ``(text, kind)`` (``kind``: a key of :data:`COLORS`): a pipeline, a model."""
    spacing = width + 0.35
    figure, axes = canvas(spacing * len(stages) + 0.3, 1.6, title)
    for number, (text, kind) in enumerate(stages):
        x = 0.15 + width / 2 + spacing * number
        box(axes, x, 0.75, text, kind=kind, width=width, height=0.9)
        if number:
            arrow(axes, (x - spacing + width / 2, 0.75), (x - width / 2, 0.75))
    return figure
