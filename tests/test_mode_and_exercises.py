"""Fast/full mode switch and the exercise-check tools."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import exercises, mode


def test_mode_defaults_to_full_and_reads_the_variable(monkeypatch) -> None:
    monkeypatch.delenv(mode.MODE_VARIABLE, raising=False)
    assert mode.course_mode() == "full"
    monkeypatch.setenv(mode.MODE_VARIABLE, " Fast ")
    assert mode.course_mode() == "fast"
    assert mode.by_mode(mode.course_mode(), fast=1, full=10) == 1


def test_unknown_mode_says_what_to_use(monkeypatch) -> None:
    monkeypatch.setenv(mode.MODE_VARIABLE, "quick")
    with pytest.raises(ValueError, match=r"'fast'.*'full'.*export COURSE_MODE=fast"):
        mode.course_mode()
    with pytest.raises(ValueError):
        mode.by_mode("medium", fast=1, full=2)


def test_unanswered_exercise_gets_a_plain_message() -> None:
    with pytest.raises(exercises.NotAnswered, match="Exercise 1 is not answered yet"):
        exercises.require_answer(None, "Exercise 1")
    exercises.require_answer(0, "Exercise 1")  # 0 is an answer, not a placeholder


def test_expect_close_names_the_difference() -> None:
    exercises.expect_close([1.0, 2.0], np.array([1.0, 2.0 + 1e-9]), "the gradient")
    with pytest.raises(exercises.ExerciseIncorrect, match=r"the gradient is not right.*0\.5"):
        exercises.expect_close([1.0, 2.5], [1.0, 2.0], "the gradient")
    with pytest.raises(exercises.ExerciseIncorrect, match=r"shape \(3,\).*shape \(2,\)"):
        exercises.expect_close([1.0, 2.0], [1.0, 2.0, 3.0], "the gradient")
    with pytest.raises(exercises.ExerciseIncorrect, match="NaN"):
        exercises.expect_close([np.nan], [1.0], "the loss")


def test_expect_shape_and_passed(capsys) -> None:
    array = exercises.expect_shape([[1, 2, 3]], (None, 3), "the logits")
    assert array.shape == (1, 3)
    with pytest.raises(exercises.ExerciseIncorrect, match=r"\(None, 10\).*\(1, 3\)"):
        exercises.expect_shape([[1, 2, 3]], (None, 10), "the logits")
    assert exercises.passed("Exercise 2") == "✅ Exercise 2: correct."
    assert "Exercise 2: correct" in capsys.readouterr().out
