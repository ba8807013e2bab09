"""Exercise checks of notebooks 05a (a binary classifier) and 05b (multiclass metrics, uncertainty).

Each check recomputes the right answer from the same inputs and, when the learner's answer is
wrong, says which common mistake it matches (accuracy instead of F1, micro instead of macro,
a percentage instead of a fraction, ...).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises import ExerciseIncorrect, call_answer, expect, expect_close, passed, require_answer

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


# 05a, build exercise 3: a threshold for a stated cost matrix ------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def cost_case_scores(
    rng: np.random.Generator, n: int, calibration: str, prior: float = 0.4
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` labels and scores of a classifier: two Gaussian classes ±1 apart from 0 in a latent score.

    ``calibration`` says what the scores are: ``"calibrated"`` (the true P(y = 1 | score)), ``"shifted"``
    (that probability with 1.5 taken off its logit, as a model trained on other class shares gives) or
    ``"overconfident"`` (its logit times 2.5, as an overfitted network gives).
    """
    labels = (rng.uniform(size=n) < prior).astype(np.int64)
    latent = rng.normal(np.where(labels == 1, 1.0, -1.0), 1.0)
    logit = 2.0 * latent + np.log(prior / (1 - prior))  # the exact log-odds of class 1
    stretch, shift = {"calibrated": (1.0, 0.0), "shifted": (1.0, -1.5), "overconfident": (2.5, 0.0)}[calibration]
    return labels, _sigmoid(stretch * logit + shift)


def expected_cost(labels: np.ndarray, scores: np.ndarray, threshold: float, cost_fp: float, cost_fn: float) -> float:
    """Mean cost per example of flagging ``scores >= threshold``: ``cost_fp`` per false alarm, ``cost_fn`` per miss."""
    flagged = scores >= threshold
    return float((cost_fp * np.sum(flagged & (labels == 0)) + cost_fn * np.sum(~flagged & (labels == 1))) / len(labels))


def lowest_cost(labels: np.ndarray, scores: np.ndarray, cost_fp: float, cost_fn: float) -> float:
    """The lowest mean cost any threshold reaches on these labels and scores (flag the k highest, every k)."""
    ranked = labels[np.argsort(-scores, kind="stable")]
    false_alarms = np.concatenate([[0], np.cumsum(ranked == 0)])
    misses = np.sum(ranked == 1) - np.concatenate([[0], np.cumsum(ranked == 1)])
    return float(np.min(cost_fp * false_alarms + cost_fn * misses) / len(labels))


def _threshold_of_lowest_cost(labels: np.ndarray, scores: np.ndarray, cost_fp: float, cost_fn: float) -> float:
    """The threshold among the scores (or +inf: flag none) with the lowest mean cost on these data."""
    candidates = np.append(np.unique(scores), np.inf)
    costs = [expected_cost(labels, scores, threshold, cost_fp, cost_fn) for threshold in candidates]
    return float(candidates[int(np.argmin(costs))])


# (scores, cost of a false alarm, cost of a miss): calibrated scores first, then two kinds of
# miscalibration, where the decision-theory threshold cost_fp / (cost_fp + cost_fn) is no longer right.
COST_CASES = (("calibrated", 1.0, 5.0), ("shifted", 1.0, 5.0), ("overconfident", 4.0, 1.0))
COST_VALIDATION, COST_HELD_OUT = 2_000, 50_000
COST_SEED = 0
# Held-out cost of the chosen threshold over the lowest any threshold reaches there, minus 1 (the
# regret). The reference (the cheapest threshold on the 2,000 validation examples), measured with this
# scheme and seeds 0-9: 0.001-0.030 (calibrated), 0.002-0.054 (shifted), 0.002-0.043 (overconfident);
# 0.030, 0.004 and 0.017 with the check's seed 0. The mistakes, same seeds: 0.5 regrets 0.39-2.1, the
# accuracy-maximising threshold 0.18-0.85, the costs swapped 1.4-2.9, cost_fp / (cost_fp + cost_fn)
# 0.44-0.51 (shifted) and 0.12-0.16 (overconfident), the ratio reversed 0.88-3.97. The bound sits between.
COST_MAX_REGRET = 0.08


def check_cost_threshold(answer: Any) -> str:
    """05a, build exercise 3: ``answer(labels, scores, cost_fp, cost_fn)`` returns the threshold (flag
    ``scores >= threshold``) with the lowest total cost on those (validation) data.

    Judged by behaviour: for three classifiers (calibrated, shifted and overconfident scores) and two
    cost matrices, the threshold is chosen on 2,000 validation examples and its mean cost measured on
    50,000 held-out ones, where it must be within ``COST_MAX_REGRET`` (8 %) of the best any threshold
    reaches. Known mistakes are named. Runs in about a second.
    """
    exercise = "Build exercise 3 (a threshold for a cost matrix)"
    require_answer(answer, exercise)
    rng = np.random.default_rng(COST_SEED)
    for calibration, cost_fp, cost_fn in COST_CASES:
        labels, scores = cost_case_scores(rng, COST_VALIDATION, calibration)
        held_labels, held_scores = cost_case_scores(rng, COST_HELD_OUT, calibration)
        shown = f"{calibration} scores, a false alarm costing {cost_fp:g} and a miss {cost_fn:g}"
        result = call_answer(answer, exercise, shown, labels.copy(), scores.copy(), cost_fp, cost_fn)
        threshold = _number(result, exercise)
        cost = expected_cost(held_labels, held_scores, threshold, cost_fp, cost_fn)
        best = lowest_cost(held_labels, held_scores, cost_fp, cost_fn)
        if cost <= (1 + COST_MAX_REGRET) * best:
            continue
        expect(
            threshold != 0.5,
            f"{exercise}: with {shown}, 0.5 costs {cost:.3f} per bird on held-out data, the best threshold {best:.3f}: "
            "0.5 is the default, which ignores the costs. Choose the threshold with the lowest cost on validation.",
        )
        behaves = (
            f"{exercise}: with {shown}, your threshold {threshold:.3g} costs {cost:.3f} per bird on held-out data "
            f"(the best threshold {best:.3f}): it is "
        )
        for words, wrong_fp, wrong_fn in (
            ("the threshold with the best ACCURACY on validation, as if both mistakes cost the same.", 1.0, 1.0),
            (
                "the cheapest threshold with the two costs swapped: a false alarm (a male flagged) costs cost_fp, a "
                "miss (a female not flagged) costs cost_fn.",
                cost_fn,
                cost_fp,
            ),
        ):  # the cheapest on validation for the wrong costs, whatever the convention for ties
            cheapest = lowest_cost(labels, scores, wrong_fp, wrong_fn)
            expect(
                expected_cost(labels, scores, threshold, wrong_fp, wrong_fn) > cheapest + 1e-12
                or expected_cost(labels, scores, threshold, cost_fp, cost_fn)
                <= lowest_cost(labels, scores, cost_fp, cost_fn) + 1e-12,
                behaves + words,
            )
        for words, wrong in (
            (
                f"cost_fp / (cost_fp + cost_fn) = {cost_fp / (cost_fp + cost_fn):.3g}, the threshold decision theory "
                "gives for CALIBRATED probabilities; these scores are not calibrated (Part 6). Choose the threshold "
                "that minimises the cost measured on the validation data: that works for any score.",
                cost_fp / (cost_fp + cost_fn),
            ),
            ("cost_fn / (cost_fp + cost_fn): the ratio the wrong way round.", cost_fn / (cost_fp + cost_fn)),
        ):
            expect(not np.isclose(threshold, wrong, rtol=1e-6), behaves + words)
        raise ExerciseIncorrect(
            f"{exercise}: with {shown}, your threshold {threshold:.3g} costs {cost:.3f} per bird on held-out data, "
            f"{cost / best - 1:.0%} more than the best threshold ({best:.3f}). Try every score as a threshold on the "
            "validation data, compute cost_fp × FP + cost_fn × FN for each, and keep the cheapest."
        )
    print(f"on held-out data your thresholds cost at most {COST_MAX_REGRET:.0%} more than the best, in all three cases")
    return passed(exercise)


# 05b, build exercise 2: a stratified bootstrap interval ------------------------------------------

STRATIFIED_COUNTS = (60, 25, 15)  # a small, imbalanced test set: 100 examples of 3 classes
STRATIFIED_SPY_RESAMPLES = 2_000
STRATIFIED_FREQUENCY_TOLERANCE = 0.15  # each example's share of draws within its class: 1 ± 15 %
# Coverage: 200 simulated test sets (each class right with probability 0.9, 0.75, 0.6), the 95 %
# interval of the macro recall from 300 resamples each. The reference (stratified resamples, 2.5th
# and 97.5th percentiles) covered the true macro recall in 93.5, 91.5 and 93.5 % of them (3 seeds of
# the simulation); mean ± std covers about 63 %. The bound leaves a margin for a correct answer.
STRATIFIED_COVERAGE = {"test sets": 200, "resamples": 300, "accuracy by class": (0.9, 0.75, 0.6), "seed": 1000}
STRATIFIED_MIN_COVERAGE = 0.85


def _stratified_labels() -> np.ndarray:
    labels = np.repeat(np.arange(len(STRATIFIED_COUNTS)), STRATIFIED_COUNTS)
    np.random.default_rng(99).shuffle(labels)  # the classes mixed, as in a real test set
    return labels


def _interval_of(result: Any, exercise: str) -> tuple[float, float]:
    try:
        low, high = (float(value) for value in result)
    except (TypeError, ValueError):
        raise ExerciseIncorrect(
            f"{exercise}: return the interval as two numbers (low, high), got {result!r}."
        ) from None
    expect(low <= high, f"{exercise}: low {low:.4g} is above high {high:.4g}; return (low, high).")
    return low, high


def check_stratified_bootstrap(answer: Any) -> str:
    """05b, build exercise 2: ``answer(metric, y_true, y_other, n_resamples, seed)``, the 95 % percentile
    interval of ``metric`` over bootstrap resamples that keep each class's count (resample within each class).

    Judged by behaviour, with a metric that records what it is given: each resample must hold every
    class exactly as often as the test set, the true labels and the predictions of one example must
    stay together, each example must be drawn about equally often within its class and with
    replacement, resamples must differ, the seed must decide them; the interval must be the 2.5th and
    97.5th percentiles of the metric's values; and over 200 simulated test sets it must cover the
    true macro recall at least 85 % of the time. Runs in about 5 s.
    """
    exercise = "Build exercise 2 (a stratified bootstrap)"
    require_answer(answer, exercise)
    labels = _stratified_labels()
    n, counts = len(labels), np.bincount(labels)
    ids = np.arange(n)  # as "predictions": the metric sees which examples each resample holds
    seen: list[tuple[np.ndarray, np.ndarray]] = []

    def spy(y_true: Any, y_other: Any) -> float:
        truth, chosen = np.asarray(y_true), np.asarray(y_other)
        seen.append((truth.copy(), chosen.copy()))
        return float(np.mean(chosen)) / n  # changes from resample to resample

    result = call_answer(answer, exercise, "a 3-class test set of 100", spy, labels.copy(), ids.copy(), 2_000, 0)
    low, high = _interval_of(result, exercise)
    resamples = [(truth, chosen) for truth, chosen in seen if not np.array_equal(chosen, ids)]  # not the estimate
    expect(
        len(resamples) == STRATIFIED_SPY_RESAMPLES,
        f"{exercise}: with n_resamples=2000 the metric was called on {len(resamples)} resamples; call it once per "
        "resample, on (y_true[indices], y_other[indices]).",
    )
    for truth, chosen in resamples:
        resampled_counts = np.bincount(truth, minlength=len(counts))
        if not np.array_equal(resampled_counts, counts):
            equal = np.all(resampled_counts == resampled_counts[0])
            raise ExerciseIncorrect(
                f"{exercise}: the test set has {counts.tolist()} examples per class, but a resample has "
                f"{resampled_counts.tolist()}"
                + (
                    ": the same number for every class. Each class keeps ITS count: draw len(class) indices from it."
                    if equal
                    else ". A stratified resample draws, within each class, as many indices as the class has "
                    "(np.flatnonzero(y_true == c), then rng.choice(those, len(those), replace=True))."
                )
            )
        expect(
            chosen.shape == (n,) and np.issubdtype(chosen.dtype, np.integer) and np.array_equal(truth, labels[chosen]),
            f"{exercise}: in a resample the true labels and the predictions no longer belong to the same examples: "
            "draw ONE array of indices per resample and use it for both, y_true[indices] and y_other[indices].",
        )
    chosen_all = np.array([chosen for _, chosen in resamples])
    expect(
        len({row.tobytes() for row in chosen_all}) > 1,
        f"{exercise}: every resample holds the same examples: make the generator once, before the loop "
        "(np.random.default_rng(seed)), not again for each resample.",
    )
    with_repeats = np.mean([len(np.unique(row)) < n for row in chosen_all])
    expect(
        with_repeats > 0.5,
        f"{exercise}: no resample draws an example twice: that is a shuffle (replace=False), and every resample "
        "gives the same metric. The bootstrap draws WITH replacement.",
    )
    frequency = np.bincount(chosen_all.ravel(), minlength=n) / len(chosen_all)  # 1 on average for each example
    worst = int(np.argmax(np.abs(frequency - 1)))
    expect(
        abs(frequency[worst] - 1) <= STRATIFIED_FREQUENCY_TOLERANCE,
        f"{exercise}: example {worst} (class {labels[worst]}) is drawn {frequency[worst]:.2f} times per resample on "
        "average; within its class every example should be drawn about once. Draw uniformly from ALL of the class's "
        "indices (an integer upper bound is exclusive: rng.integers(0, len(members)) reaches the last member).",
    )
    values = np.array([float(np.mean(chosen)) / n for chosen in chosen_all])
    inner, outer = np.percentile(values, [2.0, 98.0]), np.percentile(values, [3.0, 97.0])
    if not (inner[0] <= low <= outer[0] and outer[1] <= high <= inner[1]):
        share = float(np.mean((values >= low) & (values <= high)))
        raise ExerciseIncorrect(
            f"{exercise}: your interval holds {share:.0%} of the metric's values on the resamples; a 95 % interval "
            "runs from their 2.5th to their 97.5th percentile: np.percentile(values, [2.5, 97.5])."
        )
    again = _interval_of(
        call_answer(answer, exercise, "the same seed", spy, labels.copy(), ids.copy(), 200, 5), exercise
    )
    same = _interval_of(
        call_answer(answer, exercise, "the same seed", spy, labels.copy(), ids.copy(), 200, 5), exercise
    )
    other = _interval_of(
        call_answer(answer, exercise, "another seed", spy, labels.copy(), ids.copy(), 200, 6), exercise
    )
    expect(
        again == same, f"{exercise}: the same seed gave two different intervals: draw with np.random.default_rng(seed)."
    )
    expect(again != other, f"{exercise}: seeds 5 and 6 gave the same interval: use the seed you are given.")
    plan = STRATIFIED_COVERAGE
    rng, accuracy = np.random.default_rng(plan["seed"]), np.asarray(plan["accuracy by class"])
    truth, classes = labels, len(counts)
    true_macro_recall = float(np.mean(accuracy))

    def macro_recall(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(np.mean([np.mean(y_pred[y_true == c] == c) for c in range(classes)]))

    covered = 0
    for test_set in range(plan["test sets"]):
        right = rng.uniform(size=n) < accuracy[truth]
        predicted = np.where(right, truth, (truth + 1) % classes)
        interval = _interval_of(
            call_answer(
                answer, exercise, "a simulated test set", macro_recall, truth, predicted, plan["resamples"], test_set
            ),
            exercise,
        )
        covered += interval[0] <= true_macro_recall <= interval[1]
    coverage = covered / plan["test sets"]
    expect(
        coverage >= STRATIFIED_MIN_COVERAGE,
        f"{exercise}: over {plan['test sets']} simulated test sets your 95 % interval contained the true macro recall "
        f"{coverage:.0%} of the time; a 95 % interval should, about 95 % of the time.",
    )
    print(
        f"class counts kept in every resample; the interval covered the true macro recall in {coverage:.0%} of "
        f"{plan['test sets']} simulated test sets"
    )
    return passed(exercise)
