"""Figures of notebook 13 (scaling): the performance ladder, data parallelism, step time against workers.

Each function returns its :class:`matplotlib.figure.Figure`; the notebook shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from helpers.figures.primitives import arrow, box, canvas

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def ladder_figure(names: Sequence[str], shares: Sequence[float], target: float) -> Figure:
    """Each rung's share of the machine's matmul limit (of the precision it computes in), as horizontal bars,
    with the target as a line."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 0.42 * len(names) + 1.2))
    positions = range(len(names))[::-1]
    axes.barh(list(positions), [100 * share for share in shares], color="#4c72b0")
    axes.set_yticks(list(positions), names, fontsize=8)
    axes.axvline(100 * target, color="#c44e52", linestyle="--", label=f"target: {100 * target:.0f} % of the limit")
    for position, share in zip(positions, shares, strict=True):
        axes.text(100 * share + 0.5, position, f"{100 * share:.1f} %", va="center", fontsize=7.5)
    axes.set_xlabel("share of the measured matmul limit of the rung's precision (%), FLOPs counted from the layers")
    axes.legend(loc="lower right", fontsize=8)
    axes.set_title("the performance ladder: notebook 02's MLP trained rung by rung", fontsize=11)
    figure.tight_layout()
    return figure


def data_parallel_figure(workers: int = 2, replicas_per_worker: int = 1) -> Figure:
    """Data parallelism: each replica holds the whole model, trains on its slice of the global batch, and the
    all-reduce sums the gradients so that every replica applies the same update."""
    replicas = workers * replicas_per_worker
    width = max(8.0, 2.3 * replicas + 1.0)
    figure, axes = canvas(width, 5.2, f"data parallelism: {workers} workers × {replicas_per_worker} replica(s)")
    box(axes, width / 2, 4.6, "global batch (B examples)\nsplit in slices of B / N", kind="data", width=3.4, height=0.7)
    spacing = width / replicas
    for replica in range(replicas):
        x = spacing * (replica + 0.5)
        worker = replica // replicas_per_worker
        arrow(axes, (width / 2, 4.22), (x, 3.72), f"B/{replicas}")
        box(axes, x, 3.35, f"worker {worker}\nreplica {replica}:\nwhole model", kind="layer", width=1.9, height=0.75)
        box(axes, x, 2.3, "forward, loss,\nbackward → its\ngradients", kind="op", width=1.9, height=0.75)
        arrow(axes, (x, 2.97), (x, 2.68))
        arrow(axes, (x, 1.92), (x, 1.45))
        box(axes, x, 0.45, "same update\non every replica", kind="state", width=1.9, height=0.55)
    box(
        axes,
        width / 2,
        1.2,
        "all-reduce: the gradients summed over the replicas (ring: each sends 2 (N-1)/N of them)",
        kind="gate",
        width=width - 0.6,
        height=0.45,
    )
    for replica in range(replicas):
        arrow(axes, (spacing * (replica + 0.5), 0.97), (spacing * (replica + 0.5), 0.73))
    return figure


def step_time_figure(
    workers: Sequence[int],
    model: Callable[[int, float], float],
    bandwidths: Mapping[str, float],
    measured: Mapping[int, float] | None = None,
) -> Figure:
    """Modelled seconds per step against the number of workers, one curve per network bandwidth
    (``model(workers, bandwidth)``), with the measured step times of this machine as points."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4))
    for label, bandwidth in bandwidths.items():
        axes.plot(list(workers), [1e3 * model(count, bandwidth) for count in workers], marker="o", label=label)
    if measured:
        axes.scatter(
            list(measured),
            [1e3 * value for value in measured.values()],
            color="black",
            zorder=5,
            label="measured here (2 cores shared)",
        )
    axes.set_xlabel("workers (fixed global batch)")
    from matplotlib.ticker import ScalarFormatter

    axes.set_ylabel("milliseconds per step")
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(ScalarFormatter())
    axes.yaxis.set_minor_formatter(ScalarFormatter())
    axes.set_xscale("log", base=2)
    axes.xaxis.set_major_formatter(ScalarFormatter())
    axes.set_title("when data parallelism pays: compute / N + all-reduce", fontsize=11)
    axes.legend(fontsize=8)
    figure.tight_layout()
    return figure
