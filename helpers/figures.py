"""Architecture figures of notebooks 00-06, drawn with matplotlib (see :mod:`helpers.diagrams`).

Each function returns its :class:`matplotlib.figure.Figure`; the notebook shows it.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING

from helpers.diagrams import arrow, box, canvas

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BACKWARD = "#c0392b"


def computational_graph_figure() -> Figure:
    """The 2-layer MLP of notebook 02 as a computational graph: values forward (black), gradients back (red)."""
    figure, axes = canvas(10.6, 3.6, "forward pass (black) and backpropagation (red) of the 2-layer MLP")
    y = 2.0
    nodes = [
        (0.9, "x", "data"),
        (3.0, "a = x W1 + b1", "op"),
        (5.2, "h = ReLU(a)", "layer"),
        (7.4, "z = h W2 + b2", "op"),
        (9.6, "loss(y, z)", "state"),
    ]
    for x, text, kind in nodes:
        box(axes, x, y, text, kind=kind, width=1.7, height=0.6)
    for (x0, *_), (x1, *_) in pairwise(nodes):
        arrow(axes, (x0 + 0.87, y + 0.12), (x1 - 0.87, y + 0.12))
    for x, text in ((3.0, "W1, b1"), (7.4, "W2, b2")):
        box(axes, x, 3.15, text, kind="data", width=1.2, height=0.45)
        arrow(axes, (x, 2.92), (x, 2.32))
    gradients = [
        (9.6, 7.4, "dL/dz = (σ(z) - y) / N"),
        (7.4, 5.2, "dL/dh = dL/dz · W2ᵀ"),
        (5.2, 3.0, "dL/da = dL/dh ⊙ [a > 0]"),
    ]
    for x0, x1, text in gradients:
        arrow(axes, (x0 - 0.87, y - 0.14), (x1 + 0.87, y - 0.14), color=BACKWARD)
        axes.text((x0 + x1) / 2, y - 0.55, text, ha="center", fontsize=8, color=BACKWARD)
    axes.text(7.4, 0.75, "dL/dW2 = hᵀ · dL/dz,   dL/db2 = Σ dL/dz", ha="center", fontsize=8, color=BACKWARD)
    axes.text(3.0, 0.75, "dL/dW1 = xᵀ · dL/da,   dL/db1 = Σ dL/da", ha="center", fontsize=8, color=BACKWARD)
    return figure
