"""Notebook 13's build exercise: resuming a training run from the newest checkpoint. A right answer
written here passes; each typical mistake fails with the sentence that names it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import tensorflow as tf

from helpers.checks import scaling as checks
from helpers.exercises import ExerciseIncorrect, NotAnswered


def epochs_in(checkpoint_dir) -> list[int]:
    """The epoch numbers of the checkpoints ``epoch-N`` in the folder."""
    names = (re.fullmatch(r"epoch-(\d+)\.index", path.name) for path in Path(checkpoint_dir).iterdir())
    return [int(match.group(1)) for match in names if match]


def make_resume(*, pick="number", restore_optimizer=True, returned="epoch"):
    """A resume function; the keyword arguments put one mistake in it."""

    def resume(model, optimizer, checkpoint_dir):
        folder = Path(checkpoint_dir)
        if pick == "latest_checkpoint":
            path = tf.train.latest_checkpoint(checkpoint_dir)  # None: Checkpoint.write keeps no list
        elif not epochs_in(folder):
            return 0
        elif pick == "number":
            path = folder / f"epoch-{max(epochs_in(folder))}"
        elif pick == "text":
            path = folder / max(path.stem for path in folder.glob("epoch-*.index"))
        elif pick == "time":
            path = max(folder.glob("epoch-*.index"), key=os.path.getmtime).with_suffix("")
        if path is None:
            return 0
        epoch = tf.Variable(0, dtype=tf.int64)
        objects = {"model": model, "epoch": epoch}
        if restore_optimizer:
            objects["optimizer"] = optimizer
        tf.train.Checkpoint(**objects).read(str(path)).expect_partial()
        done = int(epoch.numpy())
        return {"epoch": done, "zero": 0, "next": done + 1, "previous": done - 1}[returned]

    return resume


def test_a_right_answer_passes() -> None:
    assert "correct" in checks.check_resume(make_resume())


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (make_resume(pick="text"), "Sorted as text, 'epoch-9' comes after 'epoch-10'"),
        (make_resume(pick="time"), "a file's time says when it was written"),
        (make_resume(pick="latest_checkpoint"), "weights were not restored"),
        (make_resume(restore_optimizer=False), "restored but not the optimiser"),
        (make_resume(returned="zero"), "training would start again at epoch 1"),
        (make_resume(returned="next"), "off by one"),
        (make_resume(returned="previous"), "epochs would be trained twice"),
        (lambda model, optimizer, folder: max(epochs_in(folder)), "raised ValueError"),
        (lambda model, optimizer, folder: model.set_weights([w * 0 for w in model.get_weights()]) or 0, "changed"),
        (lambda model, optimizer, folder: "0", "one integer"),
    ],
)
def test_typical_mistakes_are_named(answer, message: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=re.escape(message)):
        checks.check_resume(answer)


def test_an_unanswered_exercise_says_so() -> None:
    with pytest.raises(NotAnswered):
        checks.check_resume(None)
