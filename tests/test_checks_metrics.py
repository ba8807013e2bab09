"""Notebooks 05a and 05b's exercise checks: reference answers pass, typical wrong answers fail with the right reason."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk

from helpers.checks import metrics as checks
from helpers.exercises import ExerciseIncorrect, NotAnswered

Y_VAL = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
SCORES_VAL = np.array([0.1, 0.2, 0.3, 0.35, 0.6, 0.55, 0.4, 0.8, 0.7, 0.9, 0.65, 0.75])


def labels_of(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label arrays that have ``confusion`` as their confusion matrix."""
    n = len(confusion)
    pairs = [(i, j) for i in range(n) for j in range(n) for _ in range(int(confusion[i, j]))]
    true, predicted = zip(*pairs, strict=True)
    return np.array(true), np.array(predicted)


def test_f1_from_confusion() -> None:
    y_true, y_pred = labels_of(checks.F1_EXERCISE_CONFUSION)
    assert "correct" in checks.check_f1_from_confusion(sk.f1_score(y_true, y_pred))
    assert "correct" in checks.check_f1_from_confusion(np.float32(0.4))
    with pytest.raises(NotAnswered):
        checks.check_f1_from_confusion(None)
    wrong = {
        "is the accuracy": sk.accuracy_score(y_true, y_pred),
        "is the precision": sk.precision_score(y_true, y_pred),
        "is the recall": sk.recall_score(y_true, y_pred),
        "arithmetic mean": (sk.precision_score(y_true, y_pred) + sk.recall_score(y_true, y_pred)) / 2,
        "F1 of class 0": sk.f1_score(y_true, y_pred, pos_label=0),
        "percentage": 40.0,
        "not right": 0.5,
        "one number": [0.4],
    }
    for reason, answer in wrong.items():
        with pytest.raises(ExerciseIncorrect, match=reason):
            checks.check_f1_from_confusion(answer)


def test_macro_recall() -> None:
    y_true, y_pred = labels_of(checks.MACRO_EXERCISE_CONFUSION)
    assert "correct" in checks.check_macro_recall(sk.recall_score(y_true, y_pred, average="macro"))
    with pytest.raises(NotAnswered):
        checks.check_macro_recall(None)
    wrong = {
        "micro": sk.recall_score(y_true, y_pred, average="micro"),
        "support-weighted": sk.recall_score(y_true, y_pred, average="weighted"),
        "macro precision": sk.precision_score(y_true, y_pred, average="macro"),
        "single class": sk.recall_score(y_true, y_pred, average=None)[0],
        "percentage": 100 * sk.recall_score(y_true, y_pred, average="macro"),
        "one number": "0.69",
    }
    for reason, answer in wrong.items():
        with pytest.raises(ExerciseIncorrect, match=reason):
            checks.check_macro_recall(answer)


def test_specificity() -> None:
    predicted = (SCORES_VAL >= 0.5).astype(int)
    (tn, fp), (fn, tp) = sk.confusion_matrix(Y_VAL, predicted)
    assert "correct" in checks.check_specificity(tn / (tn + fp), Y_VAL, SCORES_VAL)
    assert "correct" in checks.check_specificity(sk.recall_score(Y_VAL, predicted, pos_label=0), Y_VAL, SCORES_VAL)
    with pytest.raises(NotAnswered):
        checks.check_specificity(None, Y_VAL, SCORES_VAL)
    wrong = {
        "false positive rate": fp / (fp + tn),
        "recall \\(true positive rate\\)": tp / (tp + fn),
        "is the precision": tp / (tp + fp),
        "negative predictive value": tn / (tn + fn),
    }
    assert len(set(np.round(list(wrong.values()), 6))) == len(wrong), "the test needs distinct wrong values"
    for reason, answer in wrong.items():
        with pytest.raises(ExerciseIncorrect, match=reason):
            checks.check_specificity(answer, Y_VAL, SCORES_VAL)
