"""helpers.figures.metrics draws what scikit-learn computes, and refuses what it cannot draw honestly."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn import metrics as sk
from sklearn.calibration import calibration_curve

from helpers.figures import metrics as metric_plots

Y_TRUE = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
SCORES = np.array([0.1, 0.2, 0.3, 0.35, 0.6, 0.55, 0.4, 0.8, 0.7, 0.9, 0.65, 0.75])
CONFUSION = np.array([[5, 1, 0], [2, 6, 2], [0, 0, 4]])


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def cell_texts(ax: plt.Axes) -> list[str]:
    return [text.get_text() for text in ax.texts]


def test_heatmap_shows_the_counts_row_by_row() -> None:
    ax = metric_plots.confusion_matrix_heatmap(CONFUSION, class_names=["a", "b", "c"])
    assert cell_texts(ax) == [str(value) for value in CONFUSION.ravel()]
    assert [label.get_text() for label in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"


def test_heatmap_normalised_by_true_class_shows_recalls() -> None:
    ax = metric_plots.confusion_matrix_heatmap(CONFUSION, normalize="true")
    values = np.array([float(text) for text in cell_texts(ax)]).reshape(3, 3)
    np.testing.assert_allclose(values, np.round(CONFUSION / CONFUSION.sum(axis=1, keepdims=True), 2))
    y_true = np.repeat(np.arange(3), CONFUSION.sum(axis=1))
    y_pred = np.concatenate([np.repeat(np.arange(3), row) for row in CONFUSION])
    np.testing.assert_allclose(
        metric_plots.normalise_confusion(CONFUSION, "pred"), sk.confusion_matrix(y_true, y_pred, normalize="pred")
    )
    np.testing.assert_allclose(
        metric_plots.normalise_confusion(CONFUSION, "all"), sk.confusion_matrix(y_true, y_pred, normalize="all")
    )


def test_heatmap_errors_only_leaves_the_diagonal_blank() -> None:
    ax = metric_plots.confusion_matrix_heatmap(CONFUSION, errors_only=True)
    off_diagonal = CONFUSION[~np.eye(3, dtype=bool)]
    assert cell_texts(ax) == [str(value) for value in off_diagonal]
    assert "errors only" in ax.get_title()


def test_heatmap_refuses_to_normalise_an_empty_row_or_column() -> None:
    never_predicted = np.array([[3, 0], [2, 0]])
    with pytest.raises(ValueError, match="class 1 is never predicted"):
        metric_plots.confusion_matrix_heatmap(never_predicted, normalize="pred")
    ax = metric_plots.confusion_matrix_heatmap(never_predicted, normalize="true")
    assert cell_texts(ax) == ["1.00", "0.00", "1.00", "0.00"]
    with pytest.raises(ValueError, match="class 0 has no examples"):
        metric_plots.normalise_confusion([[0, 0], [1, 2]], "true")
    with pytest.raises(ValueError, match="normalize must be"):
        metric_plots.normalise_confusion(CONFUSION, "rows")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="2 class names"):
        metric_plots.confusion_matrix_heatmap(CONFUSION, class_names=["a", "b"])


def test_roc_plot_draws_sklearns_curve_and_auc() -> None:
    ax = metric_plots.roc_curve_plot(Y_TRUE, SCORES, mark_threshold=0.6)
    curve = ax.lines[0]
    fpr, tpr, _ = sk.roc_curve(Y_TRUE, SCORES, drop_intermediate=False)
    np.testing.assert_allclose(curve.get_xdata(), fpr)
    np.testing.assert_allclose(curve.get_ydata(), tpr)
    assert f"AUC {sk.roc_auc_score(Y_TRUE, SCORES):.3f}" in curve.get_label()
    point = ax.lines[2]
    assert point.get_xdata()[0] == pytest.approx(1 / 6) and point.get_ydata()[0] == pytest.approx(5 / 6)


def test_pr_plot_draws_sklearns_curve_ap_and_no_skill_line() -> None:
    ax = metric_plots.precision_recall_plot(Y_TRUE, SCORES, mark_threshold=0.6)
    precision, recall, _ = sk.precision_recall_curve(Y_TRUE, SCORES)
    np.testing.assert_allclose(ax.lines[0].get_xdata(), recall)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), precision)
    assert f"AP {sk.average_precision_score(Y_TRUE, SCORES):.3f}" in ax.lines[0].get_label()
    assert ax.lines[1].get_ydata()[0] == pytest.approx(0.5)
    assert ax.lines[2].get_ydata()[0] == pytest.approx(5 / 6)  # precision at 0.6: 5 of the 6 flagged are positive


@pytest.mark.parametrize("plot", [metric_plots.roc_curve_plot, metric_plots.precision_recall_plot])
def test_curves_need_both_classes(plot: object) -> None:
    with pytest.raises(ValueError, match="only class 0"):
        plot(np.zeros(12, dtype=int), SCORES)  # type: ignore[operator]


def test_reliability_diagram_plots_the_calibration_curve() -> None:
    rng = np.random.default_rng(0)
    probabilities = rng.random(300)
    labels = (rng.random(300) < probabilities).astype(int)
    _, ax = plt.subplots()
    returned = metric_plots.reliability_diagram(labels, probabilities, n_bins=5, ax=ax)
    assert returned is ax
    observed, predicted = calibration_curve(labels, probabilities, n_bins=5)
    np.testing.assert_allclose(ax.lines[1].get_xdata(), predicted)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), observed)
    assert sum(int(text.get_text().removeprefix("n=")) for text in ax.texts) == 300
    assert "ECE" in ax.lines[1].get_label()
