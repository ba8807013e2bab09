"""helpers.metrics against scikit-learn on fixed arrays, including the edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk
from sklearn.calibration import calibration_curve

from helpers import metrics

# A fixed binary problem: 12 examples, TN=4, FP=2, FN=1, TP=5.
Y_TRUE = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
Y_PRED = np.array([0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1])
SCORES = np.array([0.1, 0.2, 0.3, 0.35, 0.6, 0.55, 0.4, 0.8, 0.7, 0.9, 0.65, 0.75])

# A fixed 4-class problem in which class 3 never occurs and class 2 is never predicted.
M_TRUE = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 0, 1, 2])
M_PRED = np.array([0, 1, 0, 1, 1, 0, 1, 1, 0, 3, 1, 1])


def test_confusion_matrix_matches_sklearn_and_keeps_absent_classes() -> None:
    assert metrics.confusion_matrix(Y_TRUE, Y_PRED).tolist() == [[4, 2], [1, 5]]
    expected = sk.confusion_matrix(M_TRUE, M_PRED, labels=range(5))
    np.testing.assert_array_equal(metrics.confusion_matrix(M_TRUE, M_PRED, n_classes=5), expected)
    with pytest.raises(ValueError, match="label 3 found but n_classes=3"):
        metrics.confusion_matrix(M_TRUE, M_PRED, n_classes=3)


def test_binary_metrics_match_sklearn() -> None:
    result = metrics.binary_metrics(Y_TRUE, Y_PRED)
    assert result == pytest.approx(
        {
            "accuracy": sk.accuracy_score(Y_TRUE, Y_PRED),
            "precision": sk.precision_score(Y_TRUE, Y_PRED),
            "recall": sk.recall_score(Y_TRUE, Y_PRED),
            "f1": sk.f1_score(Y_TRUE, Y_PRED),
        },
        abs=1e-12,
    )
    assert result["precision"] == pytest.approx(5 / 7) and result["recall"] == pytest.approx(5 / 6)
    booleans = metrics.binary_metrics(Y_TRUE.astype(bool), Y_PRED.astype(bool))
    assert booleans == result


def test_never_predicting_the_positive_class_is_a_clear_error_or_a_stated_value() -> None:
    never = np.zeros_like(Y_TRUE)
    with pytest.raises(metrics.UndefinedMetricError, match="precision is undefined: class 1 is never predicted"):
        metrics.binary_metrics(Y_TRUE, never)
    result = metrics.binary_metrics(Y_TRUE, never, zero_division=0.0)
    assert result == {"accuracy": 0.5, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert result["precision"] == sk.precision_score(Y_TRUE, never, zero_division=0.0)


def test_all_one_class_labels_give_defined_values_or_clear_errors() -> None:
    ones = np.ones(5, dtype=int)
    with pytest.raises(
        metrics.UndefinedMetricError, match=r"never predicted .*; recall is undefined: y_true has no example of class 1"
    ):
        metrics.binary_metrics(np.zeros(5, dtype=int), np.zeros(5, dtype=int))
    perfect = metrics.binary_metrics(ones, ones)
    assert perfect == {"accuracy": 1.0, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    with pytest.raises(ValueError, match="contains only class 1"):
        metrics.choose_threshold(ones, np.linspace(0, 1, 5), min_recall=0.9)


def test_bad_inputs_say_what_to_do() -> None:
    with pytest.raises(ValueError, match="threshold probabilities first"):
        metrics.binary_metrics(Y_TRUE, SCORES)
    with pytest.raises(ValueError, match=r"argmax\(axis=1\)"):
        metrics.metric_table(M_TRUE, np.eye(4)[M_PRED] * 0.9)
    with pytest.raises(ValueError, match="12 labels but y_pred has 11"):
        metrics.binary_metrics(Y_TRUE, Y_PRED[:-1])
    with pytest.raises(ValueError, match="empty"):
        metrics.binary_metrics([], [])
    with pytest.raises(ValueError, match="expects 0/1 labels"):
        metrics.binary_metrics(M_TRUE, M_PRED)
    with pytest.raises(ValueError, match="square"):
        metrics.per_class_metrics(np.ones((2, 3)))


def test_metric_table_matches_sklearn_with_notes_for_undefined_values() -> None:
    table = metrics.metric_table(M_TRUE, M_PRED, class_names=["a", "b", "c", "d"])
    labels = range(4)
    for column, function in (("precision", sk.precision_score), ("recall", sk.recall_score), ("f1", sk.f1_score)):
        per_class = function(M_TRUE, M_PRED, labels=labels, average=None, zero_division=0.0)
        np.testing.assert_allclose(table[column].iloc[:4], per_class, atol=1e-12)
        for average in ("macro", "weighted", "micro"):
            expected = function(M_TRUE, M_PRED, labels=labels, average=average, zero_division=0.0)
            assert table.loc[f"{average} avg", column] == pytest.approx(expected, abs=1e-12)
    assert table.loc["micro avg", "f1"] == pytest.approx(sk.accuracy_score(M_TRUE, M_PRED))
    assert table["support"].iloc[:4].tolist() == [4, 5, 3, 0]
    assert "never predicted" in table.loc["c", "note"]
    assert "absent from y_true" in table.loc["d", "note"] and table.loc["a", "note"] == ""
    assert not table[["precision", "recall", "f1"]].isna().to_numpy().any()
    with pytest.raises(metrics.UndefinedMetricError, match="class 2 is undefined: it is never predicted"):
        metrics.metric_table(M_TRUE, M_PRED, zero_division=None)
    with pytest.raises(ValueError, match="3 class names given for 4 classes"):
        metrics.metric_table(M_TRUE, M_PRED, class_names=["a", "b", "c"], n_classes=4)


def test_compare_metrics_reports_gaps_and_verdicts() -> None:
    table = metrics.compare_metrics(
        {
            "by hand": {"f1": 0.8, "auc": 0.9},
            "keras": {"f1": 0.8000001, "auc": 0.905},
            "sklearn": {"f1": 0.8, "auc": 0.9},
        },
        reference="sklearn",
        tolerance={"f1": 1e-6, "auc": 1e-3},
    )
    assert table.loc["f1", "agree"] and not table.loc["auc", "agree"]
    assert table.loc["auc", "max |diff|"] == pytest.approx(0.005)
    assert list(table.columns) == ["by hand", "keras", "sklearn", "max |diff|", "tolerance", "agree"]
    with pytest.raises(ValueError, match="'keras' gives no value for \\['auc'\\]"):
        metrics.compare_metrics({"a": {"f1": 1, "auc": 1}, "keras": {"f1": 1}}, reference="a", tolerance=0.1)
    with pytest.raises(ValueError, match="NaN"):
        metrics.compare_metrics({"a": {"f1": 1}, "b": {"f1": float("nan")}}, reference="a", tolerance=0.1)
    with pytest.raises(KeyError, match="reference"):
        metrics.compare_metrics({"a": {"f1": 1}}, reference="z", tolerance=0.1)


def brute_force_threshold(goal: str, target: float) -> float:
    """The best threshold by trying every score (the definition, written the slow way)."""
    best: tuple[float, float] | None = None
    for threshold in np.unique(SCORES):
        predicted = threshold <= SCORES
        precision = Y_TRUE[predicted].mean()
        recall = predicted[Y_TRUE == 1].mean()
        meets, other = (recall >= target, precision) if goal == "recall" else (precision >= target, recall)
        if meets and (best is None or other >= best[0]):
            best = (other, threshold)
    assert best is not None
    return best[1]


@pytest.mark.parametrize(("goal", "target"), [("recall", 1.0), ("recall", 0.8), ("precision", 0.8), ("precision", 1.0)])
def test_choose_threshold_is_the_best_threshold_meeting_the_goal(goal: str, target: float) -> None:
    choice = metrics.choose_threshold(Y_TRUE, SCORES, **{f"min_{goal}": target})
    assert choice.threshold == brute_force_threshold(goal, target)
    predicted = choice.threshold <= SCORES
    assert choice.precision == pytest.approx(sk.precision_score(Y_TRUE, predicted))
    assert choice.recall == pytest.approx(sk.recall_score(Y_TRUE, predicted))
    assert getattr(choice, goal) >= target


def test_choose_threshold_errors() -> None:
    with pytest.raises(ValueError, match="exactly one goal"):
        metrics.choose_threshold(Y_TRUE, SCORES)
    with pytest.raises(ValueError, match="no threshold reaches precision >= 1"):
        metrics.choose_threshold(Y_TRUE, 1 - SCORES, min_precision=1.0)
    with pytest.raises(ValueError, match=r"shape \(12,\)"):
        metrics.choose_threshold(Y_TRUE, SCORES[:5], min_recall=0.5)


def test_reliability_table_matches_sklearn_calibration_curve() -> None:
    rng = np.random.default_rng(0)
    probabilities = rng.random(500)
    labels = (rng.random(500) < probabilities**2).astype(int)
    probabilities[:3] = [0.0, 0.5, 1.0]  # edges go to the same bins as in scikit-learn
    table = metrics.reliability_table(labels, probabilities, n_bins=8)
    observed, predicted = calibration_curve(labels, probabilities, n_bins=8, strategy="uniform")
    np.testing.assert_allclose(table["observed"], observed)
    np.testing.assert_allclose(table["mean_predicted"], predicted)
    assert table["count"].sum() == 500
    ece = metrics.expected_calibration_error(labels, probabilities, n_bins=8)
    gaps = np.abs(table["observed"] - table["mean_predicted"])
    assert ece == pytest.approx(float((gaps * table["count"]).sum() / 500))
    assert ece > 0.05  # probabilities**2 is badly calibrated on purpose


def test_reliability_table_leaves_out_empty_bins_and_rejects_logits() -> None:
    table = metrics.reliability_table([0, 1, 1], [0.05, 0.92, 0.97], n_bins=10)
    assert table["count"].tolist() == [1, 2]
    assert not table.isna().to_numpy().any()
    with pytest.raises(ValueError, match="not logits"):
        metrics.reliability_table([0, 1], [-2.0, 3.0])


def test_bootstrap_ci_brackets_the_estimate_and_is_reproducible() -> None:
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 2, 400)
    y_pred = np.where(rng.random(400) < 0.8, y_true, 1 - y_true)
    interval = metrics.bootstrap_ci(sk.accuracy_score, y_true, y_pred, n_resamples=300, seed=3)
    assert interval.estimate == pytest.approx(sk.accuracy_score(y_true, y_pred))
    assert interval.low < interval.estimate < interval.high
    # The binomial standard error sqrt(p(1-p)/n) ≈ 0.02, so a 95% interval is about ±0.04 wide.
    assert 0.05 < interval.high - interval.low < 0.11
    again = metrics.bootstrap_ci(sk.accuracy_score, y_true, y_pred, n_resamples=300, seed=3)
    assert again == interval
    assert "95% CI" in str(interval)
    narrow = metrics.bootstrap_ci(sk.accuracy_score, y_true, y_pred, n_resamples=300, seed=3, confidence=0.5)
    assert narrow.high - narrow.low < interval.high - interval.low


def test_bootstrap_ci_explains_a_metric_undefined_on_a_resample() -> None:
    y_true = np.array([0] * 19 + [1])
    with pytest.raises(ValueError, match="undefined on some resamples"):
        metrics.bootstrap_ci(sk.roc_auc_score, y_true, np.linspace(0, 1, 20), n_resamples=200)
    with pytest.raises(ValueError, match="same, non-zero length"):
        metrics.bootstrap_ci(sk.accuracy_score, y_true, y_true[:3])


def test_per_class_metrics_is_a_dataframe_per_class() -> None:
    table = metrics.per_class_metrics([[4, 2], [1, 5]])
    assert isinstance(table, pd.DataFrame) and list(table.columns) == ["precision", "recall", "f1", "support"]
    assert table.loc[0, "recall"] == pytest.approx(4 / 6) and table.loc[1, "precision"] == pytest.approx(5 / 7)


def test_bootstrap_ci_summarises_the_metrics_warnings_in_one() -> None:
    y_true = np.array([0, 1] * 10)
    y_pred = np.zeros(20, dtype=int)
    y_pred[1] = 1  # resamples that miss this example predict no positive: scikit-learn warns and returns 0
    with pytest.warns(UserWarning, match="the metric warned on .* of 200 resamples") as record:
        metrics.bootstrap_ci(sk.precision_score, y_true, y_pred, n_resamples=200)
    assert len(record) == 1
