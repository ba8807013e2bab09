"""Plots of transfer experiments: 04's comparison at one label count, label-efficiency curves (04, 09)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


def plot_comparison(table: pd.DataFrame, *, title: str = "") -> Figure:
    """Bar chart of the table's test accuracies, each bar labelled with its value and seconds."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 3))
    bars = axis.barh(table.index[::-1], table["test accuracy"][::-1], color=["#bbb", "#8ab", "#2a7", "#7ad"])
    for bar, (accuracy, seconds) in zip(bars, table[["test accuracy", "seconds"]].to_numpy()[::-1], strict=True):
        axis.text(
            bar.get_width() - 0.01,
            bar.get_y() + bar.get_height() / 2,
            f"{accuracy:.1%}  ({seconds:.0f} s)",
            ha="right",
            va="center",
            fontsize=9,
        )
    axis.set_xlim(0, 1)
    axis.set_xlabel("test accuracy on digits 5-9")
    axis.set_title(title)
    figure.tight_layout()
    return figure


def plot_label_efficiency(
    curve: pd.DataFrame,
    *,
    title: str = "",
    xlabel: str = "labelled images per class (target task)",
    ylabel: str = "test accuracy on digits 5-9",
) -> Figure:
    """Test accuracy against labelled examples per class (log scale), one line per method (``curve``'s columns)."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.5))
    for method in curve.columns:
        axis.plot(curve.index, curve[method], marker="o", label=method)
    axis.set_xscale("log")
    axis.minorticks_off()  # only the label counts as ticks, also on a range shorter than a decade
    axis.set_xticks(list(curve.index), [str(labels) for labels in curve.index])
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.grid(alpha=0.3)
    axis.legend()
    axis.set_title(title)
    figure.tight_layout()
    return figure
