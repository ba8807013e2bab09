"""Plots of a classifier's evaluation: confusion matrix heatmap, ROC and PR curves, reliability diagram.

Each function draws on ``ax`` (a new figure if none) and returns the axes, so several can share
a figure. Inputs are validated like :mod:`helpers.metrics`: curves need both classes in
``y_true``, and a normalised confusion matrix refuses to divide by an empty row or column
instead of drawing NaN cells. Matplotlib and seaborn are imported when a plot is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from helpers.metrics import check_binary_scores, check_confusion, expected_calibration_error, reliability_table

if TYPE_CHECKING:
    from matplotlib.axes import Axes

Normalize = Literal["true", "pred", "all"] | None


def _axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax
    _, new_ax = plt.subplots(figsize=size)
    return new_ax


def normalise_confusion(confusion: object, normalize: Normalize) -> np.ndarray:
    """Counts as fractions of each true class (``"true"``: rows sum to 1), each prediction (``"pred"``) or all.

    Raises a clear error for a class with no examples (``"true"``) or never predicted (``"pred"``),
    whose row or column cannot be normalised.
    """
    matrix = check_confusion(confusion).astype(np.float64)
    if normalize is None:
        return matrix
    if normalize == "all":
        return matrix / matrix.sum()
    if normalize not in ("true", "pred"):
        raise ValueError(f"normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
    axis = 1 if normalize == "true" else 0
    totals = matrix.sum(axis=axis, keepdims=True)
    if np.any(totals == 0):
        empty = int(np.flatnonzero(totals.ravel() == 0)[0])
        why = "has no examples in y_true" if normalize == "true" else "is never predicted"
        raise ValueError(f"class {empty} {why}, so normalize={normalize!r} would divide by zero; use another option")
    return matrix / totals


def confusion_matrix_heatmap(
    confusion: object,
    *,
    class_names: Sequence[str] | None = None,
    normalize: Normalize = None,
    ax: Axes | None = None,
    title: str | None = None,
    errors_only: bool = False,
    cmap: str = "Blues",
) -> Axes:
    """A seaborn heatmap of a confusion matrix: rows true class, columns predicted class.

    Cells show counts, or fractions with ``normalize="true"`` (each row is a class's recall
    profile), ``"pred"`` (each column a precision profile) or ``"all"``. ``errors_only=True``
    leaves the diagonal blank so that the colour scale shows where the mistakes go.
    """
    import seaborn as sns

    values = normalise_confusion(confusion, normalize)
    n = len(values)
    names = [str(name) for name in class_names] if class_names is not None else [str(c) for c in range(n)]
    if len(names) != n:
        raise ValueError(f"{len(names)} class names given for a {n}×{n} confusion matrix")
    ax = _axes(ax, (max(3.6, 1.2 + 0.55 * n), max(3.2, 1.0 + 0.5 * n)))
    sns.heatmap(
        values,
        mask=np.eye(n, dtype=bool) if errors_only else None,
        annot=True,
        fmt=".0f" if normalize is None else ".2f",
        annot_kws={"fontsize": 7 if n > 6 else 10},
        cmap=cmap,
        cbar=False,
        square=True,
        xticklabels=names,
        yticklabels=names,
        vmin=0,
        ax=ax,
    )
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    default_title = "confusion matrix" if normalize is None else f"confusion matrix (normalize={normalize!r})"
    ax.set_title(title or default_title + (", errors only" if errors_only else ""))
    return ax


def roc_curve_plot(
    y_true: object,
    scores: object,
    *,
    ax: Axes | None = None,
    label: str = "model",
    mark_threshold: float | None = None,
) -> Axes:
    """ROC curve (false positive rate against true positive rate) with its AUC and the chance diagonal.

    ``mark_threshold`` puts a dot where ``score >= threshold`` lies on the curve.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    true, values = check_binary_scores(y_true, scores)
    fpr, tpr, _ = roc_curve(true, values, drop_intermediate=False)
    ax = _axes(ax, (4.5, 4.5))
    ax.plot(fpr, tpr, drawstyle="steps-post", label=f"{label} (AUC {roc_auc_score(true, values):.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance (AUC 0.5)")
    if mark_threshold is not None:
        predicted = values >= mark_threshold
        point = (predicted[true == 0].mean(), predicted[true == 1].mean())
        ax.plot(*point, "o", color="crimson", label=f"threshold {mark_threshold:.3g}")
    ax.set(xlabel="false positive rate (1 − specificity)", ylabel="true positive rate (recall)", title="ROC curve")
    ax.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02))
    ax.legend(loc="lower right")
    return ax


def precision_recall_plot(
    y_true: object,
    scores: object,
    *,
    ax: Axes | None = None,
    label: str = "model",
    mark_threshold: float | None = None,
) -> Axes:
    """Precision-recall curve with its average precision (AP) and the no-skill line at the positive rate."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    true, values = check_binary_scores(y_true, scores)
    precision, recall, _ = precision_recall_curve(true, values)
    ax = _axes(ax, (4.5, 4.5))
    ax.plot(
        recall, precision, drawstyle="steps-post", label=f"{label} (AP {average_precision_score(true, values):.3f})"
    )
    ax.axhline(true.mean(), linestyle="--", color="grey", label=f"no skill (positive rate {true.mean():.2f})")
    if mark_threshold is not None:
        predicted = values >= mark_threshold
        if predicted.any():
            point = (predicted[true == 1].mean(), true[predicted].mean())
            ax.plot(*point, "o", color="crimson", label=f"threshold {mark_threshold:.3g}")
    ax.set(xlabel="recall", ylabel="precision", title="precision-recall curve", xlim=(-0.02, 1.02), ylim=(0, 1.02))
    ax.legend(loc="lower left")
    return ax


def reliability_diagram(
    y_true: object,
    probabilities: object,
    *,
    n_bins: int = 10,
    ax: Axes | None = None,
    label: str = "model",
) -> Axes:
    """Observed frequency of class 1 against mean predicted probability per bin, with the diagonal.

    Points on the diagonal are well calibrated; each point is labelled with its number of
    examples (few examples, noisy point). The legend gives the expected calibration error.
    """
    table = reliability_table(y_true, probabilities, n_bins=n_bins)
    ece = expected_calibration_error(y_true, probabilities, n_bins=n_bins)
    ax = _axes(ax, (4.5, 4.5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    ax.plot(table["mean_predicted"], table["observed"], "o-", label=f"{label} (ECE {ece:.3f})")
    for row in table.itertuples():
        ax.annotate(f"n={row.count}", (row.mean_predicted, row.observed), textcoords="offset points", xytext=(4, -10))
    ax.set(
        xlabel="mean predicted probability",
        ylabel="observed frequency of class 1",
        title="reliability diagram",
        xlim=(-0.02, 1.02),
        ylim=(-0.02, 1.02),
    )
    ax.legend(loc="upper left")
    return ax
