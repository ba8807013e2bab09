"""Learner progress: which exercises a learner's notebooks pass.

``python -m coursetools.progress [NOTEBOOK_OR_FOLDER ...]`` (``make progress``; default ``student/``
if it exists, else ``notebooks/``) runs each notebook top to bottom in a fresh kernel, carrying on
past errors, and lists every exercise as

* ``passed``: its check ran without complaint;
* ``not answered``: the answer is still the ``None`` placeholder (the check raised ``NotAnswered``);
* ``incorrect``: the check raised ``ExerciseIncorrect``; its plain-words message follows;
* ``error``: the check cell failed for another reason (often an earlier cell that failed);
* ``not run``: (``--saved`` only) the cell has not been run since the notebook was last saved.

An exercise is a code cell that calls a ``check_...`` function (``checks.check_x(answer_1, ...)``),
found by :func:`coursetools.edition.exercise_cells`; its kind (``build`` for a question titled
``**Build exercise N**``, else ``warm-up``) has a column of its own, and the last line counts the
build exercises passed apart. ``--saved`` reads the outputs stored in the
notebooks instead of running them (instant, but only as fresh as the learner's last run).
Notebooks run in fast mode unless ``--mode full`` is given.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coursetools.edition import (
    BUILD,
    DEFAULT_OUT,
    DEFAULT_SOURCE,
    WARM_UP,
    exercise_cells,
    find_notebooks,
    read_notebook,
)
from helpers.mode import MODE_VARIABLE, check_mode

PASSED, NOT_ANSWERED, INCORRECT, ERROR, NOT_RUN = "passed", "not answered", "incorrect", "error", "not run"
SYMBOLS = {PASSED: "✅", NOT_ANSWERED: "⏳", INCORRECT: "❌", ERROR: "💥", NOT_RUN: "·"}
CELL_TIMEOUT_S = 900


@dataclass(frozen=True)
class ExerciseResult:
    """The outcome of one exercise check in one notebook."""

    notebook: str
    label: str
    check: str
    cell: int
    status: str
    message: str = ""
    kind: str = WARM_UP


def error_output(cell: dict[str, Any]) -> dict[str, Any] | None:
    """The cell's error output (exception name, message), if it raised."""
    return next((output for output in cell.get("outputs", []) if output.get("output_type") == "error"), None)


def cell_status(cell: dict[str, Any]) -> tuple[str, str]:
    """(status, message) of an executed check cell, from its outputs."""
    error = error_output(cell)
    if error is None:
        return (PASSED, "") if cell.get("execution_count") is not None else (NOT_RUN, "")
    name, message = error.get("ename", ""), error.get("evalue", "")
    if name == "NotAnswered":
        return NOT_ANSWERED, message
    if name == "ExerciseIncorrect":
        return INCORRECT, message
    return ERROR, f"{name}: {message}"


def notebook_results(notebook: dict[str, Any], name: str) -> list[ExerciseResult]:
    """Every exercise of an executed (or saved) notebook with its status."""
    return [
        ExerciseResult(
            name, exercise.label, ", ".join(exercise.checks), exercise.check_cell, *cell_status(cell), exercise.kind
        )
        for exercise in exercise_cells(notebook)
        for cell in [notebook["cells"][exercise.check_cell]]
    ]


def other_errors(notebook: dict[str, Any]) -> list[str]:
    """Cells that are not exercise checks but raised: what the learner should fix first."""
    checks = {exercise.check_cell for exercise in exercise_cells(notebook)}
    found = []
    for index, cell in enumerate(notebook["cells"]):
        error = error_output(cell)
        if error is not None and index not in checks:
            found.append(f"cell {index} raised {error.get('ename')}: {error.get('evalue')}")
    return found


def execute(path: Path, mode: str, *, timeout: int = CELL_TIMEOUT_S) -> dict[str, Any]:
    """Run the notebook at ``path`` in a fresh kernel (working directory: its folder), past any errors."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    # The kernel's own stderr (TensorFlow's start-up logging) is noise here; cell errors are in the outputs.
    client.execute(env={**os.environ, MODE_VARIABLE: mode}, stderr=subprocess.DEVNULL)
    return notebook


def report(results: list[ExerciseResult]) -> str:
    """The results as aligned lines, one per exercise: status, kind (build or warm-up), label, check."""
    return "\n".join(
        f"  {SYMBOLS[result.status]} {result.status:<13} {result.kind:<8} {result.label:<17} {result.check}"
        + (f"\n{'':28}{result.message}" if result.message else "")
        for result in results
    )


def summary(results: list[ExerciseResult], notebooks: int) -> str:
    """``3 of 5 exercises passed in 2 notebooks; build exercises: 1 of 2 passed.``"""
    passed = sum(result.status == PASSED for result in results)
    builds = [result for result in results if result.kind == BUILD]
    built = sum(result.status == PASSED for result in builds)
    count = f"{notebooks} notebook{'s' * (notebooks != 1)}"
    return f"{passed} of {len(results)} exercises passed in {count}; build exercises: {built} of {len(builds)} passed."


def default_sources() -> list[Path]:
    """``student/`` if the student edition exists here, else the course's ``notebooks/``."""
    return [DEFAULT_OUT if DEFAULT_OUT.is_dir() else DEFAULT_SOURCE]


def main(argv: list[str] | None = None) -> int:
    """Command line; see the module docstring. Exit status 1 with ``--strict`` unless all passed."""
    parser = argparse.ArgumentParser(prog="python -m coursetools.progress", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks or folders (default: student/ or notebooks/)")
    parser.add_argument("--mode", default="fast", type=check_mode, help="course mode to run in (default: fast)")
    parser.add_argument("--saved", action="store_true", help="read the saved outputs instead of running")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 unless every exercise passed")
    arguments = parser.parse_args(argv)
    try:
        notebooks = find_notebooks(arguments.paths or default_sources())
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    every: list[ExerciseResult] = []
    for path in notebooks:
        start = time.perf_counter()
        notebook = read_notebook(path) if arguments.saved else execute(path, arguments.mode)
        how = (
            "saved outputs" if arguments.saved else f"ran in {arguments.mode} mode, {time.perf_counter() - start:.0f} s"
        )
        results = notebook_results(notebook, str(path))
        every += results
        print(f"{path} ({how})")
        print(report(results) if results else "  no exercises")
        for line in other_errors(notebook):
            print(f"  ! {line}")
    passed = sum(result.status == PASSED for result in every)
    print(f"\n{summary(every, len(notebooks))}")
    return 1 if arguments.strict and passed < len(every) else 0


if __name__ == "__main__":
    sys.exit(main())
