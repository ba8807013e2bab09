"""Architecture figures of notebooks 00-06, drawn with matplotlib (see :mod:`helpers.figures.primitives`).

Each function returns its :class:`matplotlib.figure.Figure`; the notebook shows it.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING

from helpers.figures.primitives import arrow, box, canvas, chain_figure

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


def mlp_figure() -> Figure:
    """Notebook 03's improved MLP."""
    return chain_figure(
        [
            ("28×28 pixels\n0-255", "data"),
            ("Rescaling 1/255\nFlatten → 784", "op"),
            ("Dense 512, ReLU\nDropout 0.3", "layer"),
            ("Dense 512, ReLU\nDropout 0.3", "layer"),
            ("Dense 10\nsoftmax", "state"),
        ],
        "the improved MLP (notebook 03)",
    )


def cnn_figure() -> Figure:
    """Notebook 03's CNN, with the feature-map shapes."""
    return chain_figure(
        [
            ("28×28×1\npixels", "data"),
            ("Conv 5×5, 32\n→ 24×24×32", "layer"),
            ("MaxPool 2×2\n→ 12×12×32", "op"),
            ("Conv 5×5, 64\n→ 8×8×64", "layer"),
            ("MaxPool 2×2\n→ 4×4×64", "op"),
            ("Flatten 1024\nDense 128", "layer"),
            ("Dense 10\nsoftmax", "state"),
        ],
        "the CNN (notebook 03): 'valid' convolutions, stride 1; pooling halves the maps",
        width=1.7,
    )


def residual_block_figure() -> Figure:
    """A residual block with an identity shortcut (left) and with a projection shortcut (right)."""
    figure, axes = canvas(10.0, 5.2, "residual blocks: identity shortcut (left), projection shortcut (right)")
    for left, projection in ((0.0, False), (5.0, True)):
        centre = left + 1.7
        box(axes, centre, 4.6, "x  (28×28×16)", kind="data", width=2.2, height=0.45)
        stride = "stride 2, 32" if projection else "16"
        steps = [(3.75, f"Conv 3×3 ({stride})\nBatchNorm, ReLU"), (2.75, "Conv 3×3\nBatchNorm")]
        for y, text in steps:
            box(axes, centre, y, text, kind="layer", width=2.2, height=0.7)
        arrow(axes, (centre, 4.37), (centre, 4.1))
        arrow(axes, (centre, 3.4), (centre, 3.1))
        box(axes, centre, 1.65, "add, ReLU", kind="op", width=1.6, height=0.45)
        arrow(axes, (centre, 2.4), (centre, 1.88))
        side = left + 3.9
        if projection:
            box(axes, side, 2.9, "Conv 1×1\nstride 2, 32\nBatchNorm", kind="gate", width=1.5, height=0.9)
            arrow(axes, (centre + 1.1, 4.6), (side, 3.35))
            arrow(axes, (side, 2.45), (centre + 0.8, 1.7))
        else:
            arrow(axes, (centre + 1.1, 4.6), (centre + 0.8, 1.7), "identity")
        box(axes, centre, 0.7, "14×14×32" if projection else "28×28×16", kind="data", width=1.6, height=0.45)
        arrow(axes, (centre, 1.42), (centre, 0.93))
    return figure


def small_resnet_figure() -> Figure:
    """Notebook 04's small ResNet backbone plus its classification head."""
    return chain_figure(
        [
            ("28×28×1\npixels", "data"),
            ("stem: Conv 3×3, 16\nBatchNorm, ReLU", "layer"),
            ("stage 1: block\n28×28×16", "layer"),
            ("stage 2: block\n(projection) 14×14×32", "layer"),
            ("stage 3: block\n(projection) 7×7×64", "layer"),
            ("global average\npool → 64 features", "op"),
            ("head: Dense\nsoftmax", "state"),
        ],
        "the small ResNet (notebook 04): the backbone is everything before the head",
        width=1.8,
    )


def transfer_figure() -> Figure:
    """Transfer learning: pretraining, then feature extraction (frozen) and fine-tuning."""
    figure, axes = canvas(11.0, 3.6, "transfer learning: pretrain, then freeze (feature extraction), then fine-tune")
    columns = [
        (1.8, "1. pretrain on digits 0-4", "layer", "head 0-4", "trained"),
        (5.5, "2. feature extraction", "masked", "new head 5-9", "backbone frozen"),
        (9.2, "3. fine-tuning", "layer", "head 5-9", "all trained, small steps"),
    ]
    for x, title, kind, head, note in columns:
        axes.text(x, 3.25, title, ha="center", fontsize=9)
        box(axes, x, 2.3, "backbone\n(small ResNet)", kind=kind, width=2.4, height=0.9)
        box(axes, x, 1.25, head, kind="state", width=1.8, height=0.5)
        arrow(axes, (x, 1.85), (x, 1.5))
        axes.text(x, 0.55, note, ha="center", fontsize=8, color="#555555")
    arrow(axes, (3.05, 2.3), (4.25, 2.3), "weights")
    arrow(axes, (6.75, 2.3), (7.95, 2.3), "unfreeze")
    return figure


def serving_figure() -> Figure:
    """The serving path of notebook 06: from the trained model to a client's answer."""
    figure, axes = canvas(12.0, 3.4, "the serving path (notebook 06)")
    box(axes, 1.2, 2.4, "Keras model\n(.keras)", kind="layer", width=1.8, height=0.8)
    box(axes, 4.0, 2.4, "SavedModel\nmodels/mnist/1/", kind="data", width=2.0, height=0.8)
    box(axes, 4.0, 0.8, "LiteRT .tflite\nfloat / dynamic / int8", kind="gate", width=2.2, height=0.8)
    box(axes, 7.2, 2.4, "model server\n(TF Serving REST API)", kind="op", width=2.4, height=0.8)
    box(axes, 10.6, 2.4, "client\nPOST :predict (JSON)", kind="state", width=2.2, height=0.8)
    arrow(axes, (2.1, 2.4), (3.0, 2.4), "export()")
    arrow(axes, (4.0, 2.0), (4.0, 1.2), "convert")
    arrow(axes, (5.0, 2.4), (6.0, 2.4), "load")
    arrow(axes, (9.5, 2.55), (8.4, 2.55))
    arrow(axes, (8.4, 2.25), (9.5, 2.25))
    axes.text(8.95, 2.95, "request", ha="center", fontsize=7.5)
    axes.text(8.95, 1.75, "probabilities", ha="center", fontsize=7.5)
    axes.text(7.2, 1.55, "/healthz /readyz /metrics", ha="center", fontsize=7.5, color="#555555")
    return figure
