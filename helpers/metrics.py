"""Classification metrics the course reuses: tables, agreement reports, thresholds, bootstrap intervals.

Notebook 05a computes accuracy, precision, recall and F1 by hand from a confusion matrix; this
module holds the tested, reusable versions that later notebooks call. Everything works on plain
NumPy arrays: ``y_true`` holds integer class labels, ``y_pred`` predicted labels (not
probabilities: threshold or ``argmax`` first), ``scores`` the model's probability of class 1.

Undefined values are never a silent NaN:

* a precision is undefined when a class is never predicted, a recall when a class never occurs;
  ``zero_division=None`` raises :class:`UndefinedMetricError` saying which and why, a number
  (e.g. ``0.0``, scikit-learn's usual choice) is used instead and :func:`metric_table` says so
  in its ``note`` column;
* ROC and precision-recall quantities need both classes in ``y_true`` and raise otherwise.

Convention: rows of a confusion matrix are true classes, columns predicted classes (as in
scikit-learn), so for a binary problem ``[[TN, FP], [FN, TP]]``. A score at or above the
threshold is predicted positive (scikit-learn's rule for its curves).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


class UndefinedMetricError(ValueError):
    """A metric is 0/0 for these labels (e.g. precision of a class that is never predicted)."""


def _as_labels(values: object, what: str) -> np.ndarray:
    """``values`` as a 1-D integer array of class labels, or a clear error (probabilities, 2-D...)."""
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        hint = " (class probabilities? take .argmax(axis=1) first)" if array.ndim == 2 else ""
        raise ValueError(f"{what} should be a 1-D array of class labels, got shape {array.shape}{hint}")
    if array.size == 0:
        raise ValueError(f"{what} is empty: a metric needs at least one example")
    if array.dtype == bool:
        return array.astype(np.int64)
    if not np.issubdtype(array.dtype, np.number) or not np.all(np.isfinite(array)):
        raise ValueError(f"{what} should hold numeric class labels, got dtype {array.dtype} or non-finite values")
    if np.any(array != np.round(array)):
        example = array[array != np.round(array)][0]
        raise ValueError(
            f"{what} should hold whole class labels, found {example!r}: threshold probabilities first "
            "(e.g. scores >= 0.5) or take argmax(axis=1) of class probabilities"
        )
    if np.any(array < 0):
        raise ValueError(f"{what} has negative labels; classes are numbered 0, 1, ...")
    return array.astype(np.int64)


def _pair(y_true: object, y_pred: object) -> tuple[np.ndarray, np.ndarray]:
    true, pred = _as_labels(y_true, "y_true"), _as_labels(y_pred, "y_pred")
    if len(true) != len(pred):
        raise ValueError(f"y_true has {len(true)} labels but y_pred has {len(pred)}")
    return true, pred


def confusion_matrix(y_true: object, y_pred: object, *, n_classes: int | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` of examples of true class ``i`` predicted as ``j`` (shape ``(n, n)``).

    ``n_classes`` defaults to one more than the largest label seen; pass it so that a class absent
    from both arrays still gets its (empty) row and column.
    """
    true, pred = _pair(y_true, y_pred)
    largest = int(max(true.max(), pred.max()))
    n = largest + 1 if n_classes is None else n_classes
    if largest >= n:
        raise ValueError(f"label {largest} found but n_classes={n} (labels must be 0 .. {n - 1})")
    return np.bincount(true * n + pred, minlength=n * n).reshape(n, n)


def check_confusion(confusion: object) -> np.ndarray:
    """``confusion`` as a square integer array of counts (at least 2 classes, not empty), or a clear error."""
    matrix = np.asarray(confusion)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] < 2:
        raise ValueError(f"a confusion matrix is square with at least 2 classes, got shape {matrix.shape}")
    if np.any(matrix < 0) or np.any(matrix != np.round(matrix)):
        raise ValueError("a confusion matrix holds non-negative whole counts")
    if matrix.sum() == 0:
        raise ValueError("the confusion matrix is empty (no examples)")
    return matrix.astype(np.int64)


def _ratio(numerator: np.ndarray, denominator: np.ndarray, zero_division: float | None) -> np.ndarray:
    """``numerator / denominator`` elementwise, with ``zero_division`` where the denominator is 0."""
    undefined = denominator == 0
    safe = np.where(undefined, 1, denominator)
    return np.where(undefined, float(zero_division or 0.0), numerator / safe)


def per_class_metrics(confusion: object, *, zero_division: float | None = None) -> pd.DataFrame:
    """Precision, recall, F1 and support of every class of a confusion matrix (one row per class).

    ``precision = C[c, c] / column sum``, ``recall = C[c, c] / row sum`` and
    ``F1 = 2 C[c, c] / (row sum + column sum)`` (the harmonic mean of the two, written with counts,
    so it is 0, not undefined, when a class is never predicted but does occur).
    """
    matrix = check_confusion(confusion)
    hits = np.diag(matrix).astype(np.float64)
    support, predicted = matrix.sum(axis=1), matrix.sum(axis=0)
    if zero_division is None:
        problems = [
            f"precision of class {c} is undefined: it is never predicted" for c in np.flatnonzero(predicted == 0)
        ]
        problems += [
            f"recall of class {c} is undefined: y_true has no example of it" for c in np.flatnonzero(support == 0)
        ]
        if problems:
            raise UndefinedMetricError(
                "; ".join(problems) + ". Pass zero_division=0.0 (or another number) to report that value instead."
            )
    return pd.DataFrame(
        {
            "precision": _ratio(hits, predicted, zero_division),
            "recall": _ratio(hits, support, zero_division),
            "f1": _ratio(2 * hits, support + predicted, zero_division),
            "support": support,
        }
    )


def binary_metrics(y_true: object, y_pred: object, *, zero_division: float | None = None) -> dict[str, float]:
    """Accuracy, precision, recall and F1 of the positive class 1 from 0/1 labels.

    Raises :class:`UndefinedMetricError` when precision (nothing predicted positive) or recall
    (no positive example) is 0/0, unless ``zero_division`` gives the value to use.
    """
    true, pred = _pair(y_true, y_pred)
    if true.max() > 1 or pred.max() > 1:
        raise ValueError("binary_metrics expects 0/1 labels; for more classes use metric_table")
    (tn, fp), (fn, tp) = confusion_matrix(true, pred, n_classes=2)
    problems = [] if tp + fp else ["precision is undefined: class 1 is never predicted (TP + FP = 0)"]
    problems += [] if tp + fn else ["recall is undefined: y_true has no example of class 1 (TP + FN = 0)"]
    if problems and zero_division is None:
        raise UndefinedMetricError(
            "; ".join(problems) + ". Pass zero_division=0.0 (or another number) to report that value instead."
        )
    fallback = float(zero_division or 0.0)
    return {
        "accuracy": float((tp + tn) / len(true)),
        "precision": float(tp / (tp + fp)) if tp + fp else fallback,
        "recall": float(tp / (tp + fn)) if tp + fn else fallback,
        "f1": float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn else fallback,
    }


def metric_table(
    y_true: object,
    y_pred: object,
    *,
    class_names: Sequence[str] | None = None,
    n_classes: int | None = None,
    zero_division: float | None = 0.0,
) -> pd.DataFrame:
    """Per-class precision/recall/F1/support, then macro, weighted and micro averages.

    Like scikit-learn's ``classification_report`` but as a DataFrame, with a ``note`` column that
    says when a value is a ``zero_division`` stand-in rather than a measurement (the default 0.0
    matches scikit-learn; ``zero_division=None`` raises instead). Micro averages equal accuracy
    for single-label problems; the row is kept so the three averages can be compared.
    """
    n = n_classes if n_classes is not None else (len(class_names) if class_names is not None else None)
    matrix = confusion_matrix(y_true, y_pred, n_classes=n)
    table = per_class_metrics(matrix, zero_division=zero_division)
    names = [str(name) for name in class_names] if class_names is not None else [str(c) for c in range(len(matrix))]
    if len(names) != len(matrix):
        raise ValueError(f"{len(names)} class names given for {len(matrix)} classes")
    table.index = pd.Index(names, name="class")
    support, predicted = matrix.sum(axis=1), matrix.sum(axis=0)
    notes = []
    for occurs, guessed in zip(support > 0, predicted > 0, strict=True):
        parts = [] if guessed else [f"never predicted: precision set to {zero_division}"]
        parts += [] if occurs else [f"absent from y_true: recall set to {zero_division}"]
        notes.append("; ".join(parts))
    table["note"] = notes
    values = table[["precision", "recall", "f1"]]
    accuracy = float(np.trace(matrix) / matrix.sum())
    total = int(support.sum())
    averages = pd.DataFrame(
        {
            "precision": [values["precision"].mean(), np.average(values["precision"], weights=support), accuracy],
            "recall": [values["recall"].mean(), np.average(values["recall"], weights=support), accuracy],
            "f1": [values["f1"].mean(), np.average(values["f1"], weights=support), accuracy],
            "support": [total, total, total],
            "note": ["unweighted mean over classes", "mean weighted by support", "pooled counts (= accuracy)"],
        },
        index=pd.Index(["macro avg", "weighted avg", "micro avg"], name="class"),
    )
    return pd.concat([table, averages])


def compare_metrics(
    values: Mapping[str, Mapping[str, float]],
    *,
    reference: str,
    tolerance: float | Mapping[str, float],
) -> pd.DataFrame:
    """One row per metric, one column per source, then the largest gap to ``reference`` and a verdict.

    ``values`` maps a source (``"by hand"``, ``"keras"``, ...) to ``{metric: value}``; every source
    must give every metric of the reference. ``tolerance`` is one number or one per metric. The
    ``agree`` column is True where every source is within the tolerance of the reference.
    """
    if reference not in values:
        raise KeyError(f"reference {reference!r} is not one of the sources {list(values)}")
    metrics = list(values[reference])
    for source, given in values.items():
        missing = [metric for metric in metrics if metric not in given]
        if missing:
            raise ValueError(f"source {source!r} gives no value for {missing}")
    table = pd.DataFrame(
        {source: [float(given[m]) for m in metrics] for source, given in values.items()}, index=metrics
    )
    if not np.all(np.isfinite(table.to_numpy())):
        raise ValueError(f"some values are NaN or infinite:\n{table}")
    others = [source for source in values if source != reference]
    if not others:
        raise ValueError("compare_metrics needs at least two sources")
    gaps = table[others].sub(table[reference], axis=0).abs().max(axis=1)
    limits = pd.Series(
        [float(tolerance[m]) if isinstance(tolerance, Mapping) else float(tolerance) for m in metrics], index=metrics
    )
    table["max |diff|"] = gaps
    table["tolerance"] = limits
    table["agree"] = gaps <= limits
    return table


def check_binary_scores(y_true: object, scores: object) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, scores)`` checked: 0/1 labels with both classes present, finite 1-D scores of the same length."""
    true = _as_labels(y_true, "y_true")
    if true.max() > 1:
        raise ValueError("expected 0/1 labels in y_true (binary problem)")
    present = np.unique(true)
    if len(present) < 2:
        raise ValueError(
            f"y_true contains only class {int(present[0])}: ROC and precision-recall curves (and their areas, "
            "and thresholds chosen on them) need examples of both classes"
        )
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.shape != true.shape:
        raise ValueError(f"scores should have shape {true.shape} like y_true, got {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError("scores contain NaN or infinity")
    return true, values


@dataclass(frozen=True)
class ThresholdChoice:
    """A decision threshold (predict 1 when ``score >= threshold``) and what it gives on the data it was chosen on."""

    threshold: float
    precision: float
    recall: float
    goal: str


def choose_threshold(
    y_true: object, scores: object, *, min_recall: float | None = None, min_precision: float | None = None
) -> ThresholdChoice:
    """The threshold that meets one goal and is best at the other metric.

    ``min_recall=0.95``: among thresholds with recall ≥ 0.95, the one with the highest precision;
    ``min_precision=0.9``: among those with precision ≥ 0.9, the highest recall. Ties go to the
    higher threshold. Choose on validation data, then report the cost on test data. Raises a
    clear error when no threshold reaches the goal.
    """
    from sklearn.metrics import precision_recall_curve

    if (min_recall is None) == (min_precision is None):
        raise ValueError("give exactly one goal: min_recall=... or min_precision=...")
    goal_value = float(min_recall if min_recall is not None else min_precision)  # type: ignore[arg-type]
    if not 0.0 < goal_value <= 1.0:
        raise ValueError(f"the goal should be in (0, 1], got {goal_value}")
    true, values = check_binary_scores(y_true, scores)
    precision, recall, thresholds = precision_recall_curve(true, values)
    precision, recall = precision[:-1], recall[:-1]  # the last point (recall 0) has no threshold
    if min_recall is not None:
        meets, other, goal = recall >= goal_value, precision, f"recall >= {goal_value:g}"
    else:
        meets, other, goal = precision >= goal_value, recall, f"precision >= {goal_value:g}"
    if not np.any(meets):
        best = float((recall if min_recall is not None else precision).max())
        raise ValueError(f"no threshold reaches {goal} on these data (the best is {best:.3f})")
    best_other = other[meets].max()
    index = int(np.flatnonzero(meets & (other == best_other))[-1])
    return ThresholdChoice(float(thresholds[index]), float(precision[index]), float(recall[index]), goal)


def reliability_table(y_true: object, probabilities: object, *, n_bins: int = 10) -> pd.DataFrame:
    """Predicted probability against observed frequency of class 1, in ``n_bins`` equal-width bins.

    One row per non-empty bin: its edges, ``count``, ``mean_predicted`` and ``observed`` (the
    fraction of 1s). Empty bins are left out rather than shown as NaN. Bins follow
    ``sklearn.calibration.calibration_curve(strategy="uniform")``.
    """
    true = _as_labels(y_true, "y_true")
    if true.max() > 1:
        raise ValueError("expected 0/1 labels in y_true (binary problem)")
    values = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    if values.shape != true.shape:
        raise ValueError(f"probabilities should have shape {true.shape} like y_true, got {values.shape}")
    if not np.all((values >= 0) & (values <= 1)):
        raise ValueError("probabilities must lie in [0, 1] (pass probabilities, not logits)")
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], values)
    count = np.bincount(bins, minlength=n_bins)
    predicted_sum = np.bincount(bins, weights=values, minlength=n_bins)
    observed_sum = np.bincount(bins, weights=true, minlength=n_bins)
    used = count > 0
    return pd.DataFrame(
        {
            "bin_low": edges[:-1][used],
            "bin_high": edges[1:][used],
            "count": count[used],
            "mean_predicted": predicted_sum[used] / count[used],
            "observed": observed_sum[used] / count[used],
        }
    )


def expected_calibration_error(y_true: object, probabilities: object, *, n_bins: int = 10) -> float:
    """Average gap between predicted probability and observed frequency, weighted by bin size."""
    table = reliability_table(y_true, probabilities, n_bins=n_bins)
    gaps = (table["mean_predicted"] - table["observed"]).abs()
    return float(np.average(gaps, weights=table["count"]))


@dataclass(frozen=True)
class BootstrapInterval:
    """A metric on the full test set and its percentile bootstrap confidence interval."""

    estimate: float
    low: float
    high: float
    confidence: float
    n_resamples: int

    def __str__(self) -> str:
        return f"{self.estimate:.4f} [{self.low:.4f}, {self.high:.4f}] ({self.confidence:.0%} CI)"


def bootstrap_ci(
    metric: Callable[[np.ndarray, np.ndarray], float],
    y_true: object,
    y_other: object,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> BootstrapInterval:
    """Percentile bootstrap interval of ``metric(y_true, y_other)``.

    Draws ``n_resamples`` test sets of the same size with replacement (pairs kept together),
    computes the metric on each, and returns the central ``confidence`` interval. ``y_other`` is
    whatever the metric takes second: predicted labels, or scores for a ranking metric such as AUC.
    """
    true, other = np.asarray(y_true), np.asarray(y_other)
    if len(true) == 0 or len(true) != len(other):
        raise ValueError(f"y_true and y_other need the same, non-zero length; got {len(true)} and {len(other)}")
    if n_resamples < 2:
        raise ValueError(f"n_resamples must be at least 2, got {n_resamples}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    rng = np.random.default_rng(seed)
    results = np.empty(n_resamples)
    warned: list[str] = []
    for index in range(n_resamples):
        sample = rng.integers(0, len(true), len(true))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                results[index] = metric(true[sample], other[sample])
            except ValueError as error:  # a metric that raises instead of returning NaN
                raise ValueError(
                    f"the metric failed on bootstrap resample {index} ({error}); it is undefined on some resamples "
                    "of this test set: use more test examples or a metric defined for every resample"
                ) from error
        warned += [str(warning.message) for warning in caught[:1]]
    failed = np.flatnonzero(~np.isfinite(results))
    if warned and not len(failed):
        warnings.warn(
            f"the metric warned on {len(warned)} of {n_resamples} resamples, e.g.: {warned[0]}",
            UserWarning,
            stacklevel=2,
        )
    if len(failed):
        raise ValueError(
            f"the metric returned NaN or infinity on {len(failed)} of {n_resamples} bootstrap resamples (first: "
            f"{failed[0]}); it is undefined on some resamples of this test set: use more test examples or a metric "
            "defined for every resample"
        )
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(results, [tail, 100 - tail])
    return BootstrapInterval(float(metric(true, other)), float(low), float(high), confidence, n_resamples)
