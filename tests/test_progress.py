"""Learner progress: each exercise is reported as passed, not answered, incorrect or error, with its kind.

A small learner notebook (no TensorFlow, so it runs in seconds) uses notebook 00's real checks with
one answer of each kind; it is executed once in a fresh kernel, as the command does.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from coursetools import edition, notebook_hygiene, progress

SETUP = "import numpy as np\nfrom helpers.checks import setup as checks\ny_train = np.array([7, 7, 1])"
CELLS = [
    ("markdown", "# A learner's notebook"),
    ("code", SETUP),
    ("markdown", "**Exercise 1.** How many sevens?"),
    ("code", "answer_1 = int((y_train == 7).sum())"),  # right
    ("code", "checks.check_sevens_in_training_set(answer_1, y_train)"),
    ("markdown", "**Build exercise 2.** (titled as a build exercise, to show the kind column)"),
    ("code", "answer_2 = 8.0"),  # the typical mistake: x³ instead of its derivative
    ("code", "checks.check_cube_derivative(answer_2)"),
    ("code", "answer_3 = None  # your answer here"),  # not answered, no title: a warm-up
    ("code", "checks.check_cube_derivative(answer_3)"),
    ("code", "broken = undefined_name + 1"),  # a learner's error outside the checks
    ("code", "checks.check_cube_derivative(broken)"),
]


def learner_notebook(path: Path, cells: list[tuple[str, str]]) -> Path:
    """A normalised notebook made of (cell type, source) pairs."""
    notebook = {"cells": [{"cell_type": kind, "metadata": {}, "source": source} for kind, source in cells]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(notebook_hygiene.serialise(notebook_hygiene.normalise(notebook, path.name)))
    return path


def run_main(*arguments: str) -> tuple[int, str]:
    """Exit status and printed output of ``python -m coursetools.progress ARGUMENTS``."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        status = progress.main(list(arguments))
    return status, output.getvalue()


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The learner notebook's path and the notebook as run by :func:`coursetools.progress.execute`."""
    path = learner_notebook(tmp_path_factory.mktemp("learner") / "00_setup.ipynb", CELLS)
    return path, progress.execute(path, "fast", timeout=120)


def test_each_exercise_gets_its_status_and_the_check_message(executed: tuple[Path, dict[str, Any]]) -> None:
    path, notebook = executed
    results = progress.notebook_results(notebook, str(path))
    assert [(result.label, result.kind, result.status) for result in results] == [
        ("Exercise 1", "warm-up", progress.PASSED),
        ("Build exercise 2", "build", progress.INCORRECT),
        ("Exercise 3", "warm-up", progress.NOT_ANSWERED),
        ("check in cell 11", "warm-up", progress.ERROR),
    ]
    assert results[0].message == "" and results[0].check == "check_sevens_in_training_set"
    assert "8 is x³ itself" in results[1].message
    assert "not answered yet" in results[2].message
    assert results[3].message.startswith("NameError: name 'broken' is not defined")
    assert progress.other_errors(notebook) == ["cell 10 raised NameError: name 'undefined_name' is not defined"]


def test_the_command_lists_saved_results_and_strict_fails_unless_all_passed(
    executed: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    _, notebook = executed
    saved = tmp_path / "saved" / "00_setup.ipynb"
    saved.parent.mkdir()
    saved.write_text(json.dumps(notebook))
    status, output = run_main("--saved", str(saved.parent))
    assert status == 0
    assert "✅ passed" in output and "❌ incorrect" in output and "⏳ not answered" in output
    assert "❌ incorrect     build    Build exercise 2" in output and "✅ passed        warm-up  Exercise 1" in output
    assert "8 is x³ itself" in output and "! cell 10 raised NameError" in output
    assert output.rstrip().endswith("1 of 4 exercises passed in 1 notebook; build exercises: 0 of 1 passed.")
    assert run_main("--saved", "--strict", str(saved))[0] == 1


def test_a_saved_notebook_never_run_shows_not_run(tmp_path: Path) -> None:
    path = learner_notebook(tmp_path / "x.ipynb", CELLS)
    results = progress.notebook_results(edition.read_notebook(path), str(path))
    assert {result.status for result in results} == {progress.NOT_RUN}


def test_the_command_runs_the_notebooks_and_passes_strict_when_all_are_right(tmp_path: Path) -> None:
    path = learner_notebook(tmp_path / "nb" / "done.ipynb", CELLS[:5])
    status, output = run_main("--strict", "--mode", "fast", str(path))
    assert status == 0, output
    assert "ran in fast mode" in output
    assert output.rstrip().endswith("1 of 1 exercises passed in 1 notebook; build exercises: 0 of 0 passed.")


def test_a_missing_folder_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert progress.main([str(tmp_path / "nowhere")]) == 1
    assert "no such notebook or folder" in capsys.readouterr().err
