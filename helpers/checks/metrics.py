"""Exercise checks of notebooks 05a (a binary classifier) and 05b (multiclass metrics, uncertainty).

Each check recomputes the right answer from the same inputs and, when the learner's answer is
wrong, says which common mistake it matches (accuracy instead of F1, micro instead of macro,
a percentage instead of a fraction, ...).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises import call_answer, expect, expect_close, passed, require_answer

# The confusion matrices the exercises give, rows true class, columns predicted class.
F1_EXERCISE_CONFUSION = np.array([[84, 2], [10, 4]])
MACRO_EXERCISE_CONFUSION = np.array([[85, 4, 1], [3, 5, 0], [1, 0, 1]])


def _number(answer: Any, exercise: str) -> float:
    """The answer as one float, or a clear message if it is not one number."""
    array = np.asarray(answer, dtype=object if isinstance(answer, str) else None)
    expect(
        array.ndim == 0 and np.issubdtype(array.dtype, np.number),
        f"{exercise}: the answer should be one number, got {answer!r}.",
    )
    value = float(array)
    expect(bool(np.isfinite(value)), f"{exercise}: the answer is {value}; it should be a finite number.")
    return value


def _diagnose(value: float, expected: float, mistakes: dict[str, float], exercise: str) -> None:
    """Name the first known mistake ``value`` matches, then require it to match ``expected``."""
    if np.isclose(value, expected, rtol=1e-4, atol=1e-6):
        return
    expect(
        not (1.0 < value <= 100.0 and np.isclose(value / 100, expected, rtol=1e-4, atol=1e-6)),
        f"{exercise}: {value:g} looks like a percentage; give a fraction between 0 and 1.",
    )
    for message, wrong in mistakes.items():
        expect(not np.isclose(value, wrong, rtol=1e-4, atol=1e-6), f"{exercise}: {value:.4g} {message}")
    expect_close(value, expected, f"{exercise}: the value", rtol=1e-4, atol=1e-6)


def check_f1_from_confusion(answer: Any, confusion: Any = F1_EXERCISE_CONFUSION) -> str:
    """05a, exercise 1: F1 of class 1 from a binary confusion matrix ``[[TN, FP], [FN, TP]]``."""
    exercise = "Exercise 1 (F1 from a confusion matrix)"
    require_answer(answer, exercise)
    value = _number(answer, exercise)
    (tn, fp), (fn, tp) = np.asarray(confusion, dtype=np.float64)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    mistakes = {
        "is the accuracy, (TP + TN) / total; F1 ignores the true negatives.": (tp + tn) / (tn + fp + fn + tp),
        "is the precision, TP / (TP + FP), alone; F1 combines it with recall.": precision,
        "is the recall, TP / (TP + FN), alone; F1 combines it with precision.": recall,
        "is the arithmetic mean of precision and recall; F1 is their harmonic mean, 2PR / (P + R).": (
            (precision + recall) / 2
        ),
        "is the F1 of class 0; the positive class is 1 (second row and column: TP is the bottom-right cell).": (
            2 * tn / (2 * tn + fp + fn)
        ),
    }
    _diagnose(value, 2 * tp / (2 * tp + fp + fn), mistakes, exercise)
    return passed(exercise)


def check_macro_recall(answer: Any, confusion: Any = MACRO_EXERCISE_CONFUSION) -> str:
    """05b, exercise 1: macro-averaged recall of a multiclass confusion matrix (rows true, columns predicted)."""
    exercise = "Exercise 1 (macro-averaged recall)"
    require_answer(answer, exercise)
    value = _number(answer, exercise)
    matrix = np.asarray(confusion, dtype=np.float64)
    hits, support, predicted = np.diag(matrix), matrix.sum(axis=1), matrix.sum(axis=0)
    mistakes = {
        "is the micro (and the support-weighted) average, which equals accuracy; macro gives every class "
        "the same weight, however rare.": hits.sum() / matrix.sum(),
        "divides by the column sums (how often each class was predicted): that is macro precision; "
        "recall divides by the row sums (how many examples each class has).": float(np.mean(hits / predicted)),
        "is the recall of a single class; average the recalls of all classes.": float(np.max(hits / support)),
    }
    _diagnose(value, float(np.mean(hits / support)), mistakes, exercise)
    return passed(exercise)


def check_specificity(answer: Any, y_true: Any, probabilities: Any, threshold: float = 0.5) -> str:
    """05a, exercise 2: specificity TN / (TN + FP) of a binary classifier at ``threshold``."""
    exercise = "Exercise 2 (specificity)"
    require_answer(answer, exercise)
    value = _number(answer, exercise)
    true = np.asarray(y_true).reshape(-1).astype(int)
    predicted = (np.asarray(probabilities).reshape(-1) >= threshold).astype(int)
    tn, fp = np.sum((true == 0) & (predicted == 0)), np.sum((true == 0) & (predicted == 1))
    fn, tp = np.sum((true == 1) & (predicted == 0)), np.sum((true == 1) & (predicted == 1))
    specificity = tn / (tn + fp)
    mistakes = {
        "is the false positive rate FP / (FP + TN), one minus the specificity.": 1 - specificity,
        "is the recall (true positive rate) of class 1; specificity is the recall of class 0, TN / (TN + FP).": (
            tp / (tp + fn)
        ),
        "is the precision TP / (TP + FP); specificity looks only at the true negatives, TN / (TN + FP).": (
            tp / (tp + fp) if tp + fp else -1.0
        ),
        "is TN / (TN + FN), the negative predictive value; specificity divides by all true negatives, TN + FP.": (
            tn / (tn + fn) if tn + fn else -1.0
        ),
    }
    _diagnose(value, specificity, mistakes, exercise)
    return passed(exercise)


def check_threshold_for_precision(answer: Any, y_val: Any, scores_val: Any, min_precision: float = 0.9) -> str:
    """05a, exercise 3: the threshold with the highest validation recall among those with precision ≥ ``min_precision``.

    Any threshold that flags the same examples as the best one is accepted (the rule is
    ``score >= threshold``).
    """
    from helpers.metrics import choose_threshold

    exercise = "Exercise 3 (a threshold for a precision goal)"
    require_answer(answer, exercise)
    threshold = _number(answer, exercise)
    expect(
        0.0 <= threshold <= 1.0,
        f"{exercise}: {threshold:g} is not a threshold on probabilities; give a score between 0 and 1 "
        "(not an index into the threshold array, nor a count).",
    )
    true = np.asarray(y_val).reshape(-1).astype(int)
    scores = np.asarray(scores_val, dtype=np.float64).reshape(-1)
    best = choose_threshold(true, scores, min_precision=min_precision)
    flagged = scores >= threshold
    expect(bool(flagged.any()), f"{exercise}: at {threshold:.4g} no example is flagged; lower the threshold.")
    precision, recall = true[flagged].mean(), flagged[true == 1].mean()
    expect(
        precision >= min_precision,
        f"{exercise}: at {threshold:.4g} the validation precision is only {precision:.3f} (< {min_precision:g}); "
        "raise the threshold.",
    )
    expect(
        recall >= best.recall,
        f"{exercise}: the precision goal holds at {threshold:.4g}, but a lower threshold keeps it too and finds "
        f"more positives (recall {best.recall:.3f} instead of {recall:.3f}); lower the threshold.",
    )
    return passed(exercise)


def pairwise_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """The share of (positive, negative) pairs in which the positive scores higher; ties count one half."""
    positives, negatives = scores[labels == 1], scores[labels == 0]
    higher = (positives[:, None] > negatives[None, :]).mean()
    tied = (positives[:, None] == negatives[None, :]).mean()
    return float(higher + 0.5 * tied)


AUC_CASES = (  # (labels, scores): with ties, separable, reversed, random
    (np.array([1, 0, 1, 0, 1, 0, 0]), np.array([0.9, 0.9, 0.5, 0.5, 0.5, 0.1, 0.7])),
    (np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.4])),
    (np.array([1, 1, 0, 0]), np.array([0.1, 0.2, 0.3, 0.4])),
)


def check_auc(answer: Any) -> str:
    """05a, exercise 4: ``auc(labels, scores)`` by hand, the ROC AUC as a share of correctly ordered pairs."""
    exercise = "Exercise 4 (the ROC AUC by hand)"
    rng = np.random.default_rng(55)
    random_labels = rng.integers(0, 2, 60)
    random_scores = np.round(rng.random(60) + 0.3 * random_labels, 1)  # rounded: many ties
    for labels, scores in (*AUC_CASES, (random_labels, random_scores)):
        case = f"{len(labels)} labels and scores"
        value = _number(call_answer(answer, exercise, case, labels, scores), exercise)
        expected = pairwise_auc(labels, scores)
        positives, negatives = scores[labels == 1], scores[labels == 0]
        strict = float((positives[:, None] > negatives[None, :]).mean())
        ties_win = float((positives[:, None] >= negatives[None, :]).mean())
        expect(
            not (np.isclose(value, 1 - expected) and not np.isclose(expected, 0.5)),
            f"{exercise}: your AUC is 1 minus the right one: count the pairs where the POSITIVE scores higher.",
        )
        expect(
            np.isclose(value, expected) or not (np.isclose(value, strict) or np.isclose(value, ties_win)),
            f"{exercise}: ties are not handled: a (positive, negative) pair with equal scores counts one half "
            f"(your value {value:.4f}, expected {expected:.4f}).",
        )
        expect_close(value, expected, f"{exercise}: the AUC of {case}", rtol=1e-6, atol=1e-9)
    return passed(exercise)


def _interval(answer: Any, exercise: str, case: str, right_a: np.ndarray, right_b: np.ndarray) -> tuple[float, float]:
    """The learner's ``(low, high)`` for one case, checked to be two finite numbers in order."""
    found = call_answer(answer, exercise, case, right_a, right_b, 2000, 0)
    values = np.asarray(found, dtype=object)
    expect(
        values.shape == (2,),
        f"{exercise}: the function should return two numbers, (low, high); for {case} it returned {found!r}.",
    )
    low, high = (_number(value, exercise) for value in values)
    expect(low <= high, f"{exercise}: low ({low:.4f}) is above high ({high:.4f}) for {case}: return (low, high).")
    return low, high


def check_paired_interval(answer: Any) -> str:
    """05b, exercise 2: ``answer(right_a, right_b, n_resamples, seed)``, the 95 % paired bootstrap
    interval of the accuracy difference A - B.

    Judged by what such an interval must do: two identical models differ by exactly 0 on every
    resample; a model right everywhere against one wrong everywhere differs by exactly 1; on two
    models that agree on most examples, the interval holds the observed difference and is about
    as wide as the normal approximation of a paired difference says, far narrower than the
    interval of two independent samples."""
    exercise = "Exercise 2 (the paired bootstrap)"
    require_answer(answer, exercise)
    rng = np.random.default_rng(52)
    right_a = rng.random(2000) < 0.9
    right_b = right_a.copy()
    disagree = rng.choice(2000, 100, replace=False)  # 5 % of the examples: 70 only A gets right, 30 only B
    right_a[disagree[:70]], right_b[disagree[:70]] = True, False
    right_a[disagree[70:]], right_b[disagree[70:]] = False, True
    observed = right_a.mean() - right_b.mean()

    low, high = _interval(answer, exercise, "two identical models", right_b, right_b.copy())
    expect(
        np.isclose(low, 0) and np.isclose(high, 0),
        f"{exercise}: two identical models should differ by exactly 0 on every resample, but your interval is "
        f"({low:.4f}, {high:.4f}): score both models on the SAME resampled examples.",
    )
    always, never = np.ones(50, dtype=bool), np.zeros(50, dtype=bool)
    low, high = _interval(answer, exercise, "a model always right against one always wrong", always, never)
    expect(
        not (np.isclose(low, -1) and np.isclose(high, -1)),
        f"{exercise}: A always right and B always wrong gives (-1, -1): the difference is A - B, not B - A.",
    )
    expect(
        np.isclose(low, 1) and np.isclose(high, 1),
        f"{exercise}: A always right and B always wrong should give exactly (1, 1); yours is ({low:.4f}, {high:.4f}). "
        "Return accuracy differences (fractions), not counts or percentages.",
    )
    low, high = _interval(answer, exercise, "two models that agree on 95 % of 2,000 examples", right_a, right_b)
    differences = right_a.astype(float) - right_b.astype(float)
    paired_width = 2 * 1.96 * differences.std() / np.sqrt(len(differences))
    unpaired_width = 2 * 1.96 * np.sqrt(right_a.var() / len(right_a) + right_b.var() / len(right_b))
    expect(
        low <= observed <= high,
        f"{exercise}: the observed difference {observed:+.4f} is outside your interval ({low:+.4f}, {high:+.4f}).",
    )
    expect(
        high - low < 0.5 * (paired_width + unpaired_width),
        f"{exercise}: your interval is {high - low:.4f} wide, about what two INDEPENDENT samples give "
        f"({unpaired_width:.4f}); the paired interval is near {paired_width:.4f}: draw one set of indices per "
        "resample and use it for both models.",
    )
    expect(
        high - low > 0.6 * paired_width,
        f"{exercise}: your interval is {high - low:.4f} wide, far narrower than a 95 % interval of this difference "
        f"(about {paired_width:.4f}): take the 2.5th and 97.5th percentiles of the resampled differences.",
    )
    return passed(exercise)
