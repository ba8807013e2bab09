"""The student edition: solutions become placeholders, checks stay, and an unanswered notebook says so.

Every course notebook is checked statically (each solution cell replaced, each check cell kept, no
name that only a solution defines read later). Notebook 00's student edition is also executed in
fast mode: it must run up to exercise 1's check and stop there with ``NotAnswered``. That the
reference solutions pass every check is proven by nbval running the course notebooks themselves.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from coursetools import edition, notebook_hygiene

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def code(source: str, *tags: str) -> dict[str, Any]:
    """A code cell."""
    return {"cell_type": "code", "metadata": {"tags": list(tags)} if tags else {}, "source": source, "outputs": []}


def markdown(source: str) -> dict[str, Any]:
    """A markdown cell."""
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def write(path: Path, cells: list[dict[str, Any]]) -> Path:
    """A normalised notebook with ``cells`` at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(notebook_hygiene.serialise(notebook_hygiene.normalise({"cells": cells}, path.name)))
    return path


@pytest.fixture(scope="module")
def student(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The student edition of every course notebook, written by the command line."""
    out = tmp_path_factory.mktemp("edition") / "student"
    edition.main(["student", "--out", str(out), str(ROOT / "notebooks")])  # problems: checked per notebook below
    return out


@pytest.mark.parametrize("course_notebook", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_every_solution_is_replaced_and_every_check_kept(student: Path, course_notebook: Path) -> None:
    course = edition.read_notebook(course_notebook)
    assert edition.student_problems(course, course_notebook.name) == []
    student_path = student / course_notebook.name
    assert notebook_hygiene.problems(student_path) == []
    result = edition.read_notebook(student_path)
    assert len(result["cells"]) == len(course["cells"])
    solutions = 0
    for index, (before, after) in enumerate(zip(course["cells"], result["cells"], strict=True)):
        where = f"{course_notebook.name}, cell {index}"
        if edition.is_solution(before):
            solutions += 1
            names = edition.answer_names(edition.cell_source(before))
            assert names, f"{where}: a solution cell without answer_N"
            assert edition.cell_source(after) == "\n".join(f"{name} = None  # your answer here" for name in names)
            assert edition.ANSWER_TAG in edition.cell_tags(after) and not edition.is_solution(after), where
        else:
            assert edition.cell_source(after) == edition.cell_source(before), f"{where} changed"
            assert after["cell_type"] == before["cell_type"], where
    assert edition.exercise_cells(result) == edition.exercise_cells(course), "check cells lost or moved"
    assert len(edition.exercise_cells(course)) >= solutions > 0, f"{course_notebook.name}: no exercises"


MAX_WARM_UPS = 2  # every notebook: at most this many short warm-ups, then at least one build exercise
MIN_LINE = 16  # shorter solution lines (`x, y = data`, `return loss`) say nothing about the solution


def solution_lines(source: str) -> set[str]:
    """The non-trivial lines of a solution cell: stripped, comments dropped, at least MIN_LINE characters."""
    lines = set()
    for line in source.splitlines():
        code_part = line.split("  # ")[0].strip()
        if len(code_part) >= MIN_LINE and not code_part.startswith("#"):
            lines.add(code_part)
    return lines


def notebook_text(notebook: dict[str, Any], skip: set[int] = frozenset()) -> str:
    """Every cell's source (markdown included), but those in ``skip``, as one text."""
    return "\n".join(edition.cell_source(cell) for index, cell in enumerate(notebook["cells"]) if index not in skip)


@pytest.mark.parametrize("course_notebook", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_the_student_edition_holds_no_line_of_a_build_exercise_solution(student: Path, course_notebook: Path) -> None:
    """Every non-trivial line of a build exercise's solution that the rest of the course notebook does not
    show (lesson cells may share a line such as ``with tf.GradientTape() as tape:``) is absent from the
    whole student notebook, markdown hints included. And most of the solution is new: a build exercise
    is not a cell above re-typed."""
    course = edition.read_notebook(course_notebook)
    builds = edition.build_solutions(course)
    solution_cells = {index for index, cell in enumerate(course["cells"]) if edition.is_solution(cell)}
    elsewhere = notebook_text(course, skip=solution_cells)
    student_text = notebook_text(edition.read_notebook(student / course_notebook.name))
    for index, source in builds:
        lines = solution_lines(source)
        new = {line for line in lines if line not in elsewhere}
        assert len(new) >= 0.6 * len(lines) > 0, (
            f"{course_notebook.name}, cell {index}: only {len(new)} of the {len(lines)} lines of this build exercise's "
            f"solution are new; the others are in the notebook already: {sorted(lines - new)}"
        )
        leaked = sorted(line for line in new if line in student_text)
        assert not leaked, f"{course_notebook.name}, cell {index}: the student edition shows solution lines: {leaked}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_every_notebook_has_build_exercises_and_at_most_two_warm_ups(path: Path) -> None:
    name = path.stem
    notebook = edition.read_notebook(path)
    kinds = edition.exercise_kinds(notebook)
    solutions = [
        answer
        for cell in notebook["cells"]
        if edition.is_solution(cell)
        for answer in edition.answer_names(edition.cell_source(cell))
    ]
    assert sorted(kinds) == sorted(solutions), (
        f"{name}: every answer_N needs a title **Exercise N.** or **Build exercise N.**"
    )
    numbers = sorted(int(answer.removeprefix("answer_")) for answer in kinds)
    assert numbers == list(range(1, len(numbers) + 1)), f"{name}: exercises numbered {numbers}"
    warm_ups = [answer for answer, kind in kinds.items() if kind == edition.WARM_UP]
    builds = [answer for answer, kind in kinds.items() if kind == edition.BUILD]
    assert builds and len(warm_ups) <= MAX_WARM_UPS, f"{name}: warm-ups {warm_ups}, build exercises {builds}"
    number = {answer: int(answer.removeprefix("answer_")) for answer in kinds}
    assert all(number[w] < number[b] for w in warm_ups for b in builds), f"{name}: the warm-ups come first"
    labels = {exercise.label: exercise.kind for exercise in edition.exercise_cells(notebook)}
    assert {label for label, kind in labels.items() if kind == edition.BUILD} == {
        f"Build exercise {answer.removeprefix('answer_')}" for answer in builds
    }


def test_kinds_come_from_the_titles_and_label_the_exercises() -> None:
    notebook = {
        "cells": [
            markdown("**Exercise 1.** A warm-up."),
            code("answer_1 = 1", "solution"),
            code("checks.check_one(answer_1)"),
            markdown("Some text.\n\n**Build exercise 2.** Build something."),
            code("def answer_2():\n    return 2", "solution"),
            code("checks.check_two(answer_2)"),
            code("answer_3 = 3", "solution"),  # no title: a warm-up
            code("checks.check_three(answer_3)"),
        ]
    }
    assert edition.exercise_kinds(notebook) == {"answer_1": edition.WARM_UP, "answer_2": edition.BUILD}
    exercises = edition.exercise_cells(notebook)
    assert [(e.label, e.kind) for e in exercises] == [
        ("Exercise 1", edition.WARM_UP),
        ("Build exercise 2", edition.BUILD),
        ("Exercise 3", edition.WARM_UP),
    ]
    assert edition.build_solutions(notebook) == [(4, "def answer_2():\n    return 2")]


def test_student_00_runs_to_the_first_exercise_and_stops_there_with_not_answered(student: Path) -> None:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(student / "00_setup.ipynb", as_version=4)
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(student)}}
    )
    with pytest.raises(CellExecutionError) as raised:
        client.execute(env={**os.environ, "COURSE_MODE": "fast"})
    assert raised.value.ename == "NotAnswered", f"the student edition crashed instead: {raised.value}"
    assert "Exercise 1" in raised.value.evalue and "not answered yet" in raised.value.evalue
    failed = [
        index
        for index, cell in enumerate(notebook.cells)
        if any(o.output_type == "error" for o in cell.get("outputs", []))
    ]
    assert failed == [edition.exercise_cells(notebook)[0].check_cell]
    before = [cell for cell in notebook.cells[: failed[0]] if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in before), "a cell before exercise 1 did not run"
    assert any("The environment is ready." in output.get("text", "") for cell in before for output in cell.outputs)


def test_answers_are_found_in_assignments_tuples_annotations_and_definitions() -> None:
    source = "x = 3\nanswer_2: int = x\nanswer_1, other = 1, 2\n\ndef answer_3(y):\n    return y\n!ls\n"
    assert edition.answer_names(source) == ["answer_2", "answer_1", "answer_3"]
    assert edition.check_calls("from helpers.checks import setup as checks\nchecks.check_a(answer_1)\ncheck_b(2)") == [
        "check_a",
        "check_b",
    ]
    assert edition.placeholder_source(["answer_1", "answer_2"]) == (
        "answer_1 = None  # your answer here\nanswer_2 = None  # your answer here"
    )


def test_a_solution_without_answer_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path / "nb" / "x.ipynb", [code("result = 3", "solution"), code("checks.check_x(3)")])
    report = edition.write_student_edition([path.parent], tmp_path / "student")
    assert report.lines == [] and "must assign or define answer_N" in report.problems[0]
    assert not (tmp_path / "student" / "x.ipynb").exists()
    assert edition.main(["student", "--out", str(tmp_path / "student"), str(path)]) == 1


def test_a_check_reading_a_name_only_the_solution_defines_is_reported(tmp_path: Path) -> None:
    cells = [
        code("import numpy as np\ndata = np.arange(3)"),
        code("model_2 = data * 2\nanswer_2 = model_2.sum()", "solution"),
        code("checks.check_model(answer_2, model_2, data)"),
    ]
    path = write(tmp_path / "x.ipynb", cells)
    problems = edition.student_problems(edition.read_notebook(path), path.name)
    assert len(problems) == 1 and "'model_2'" in problems[0] and "NameError" in problems[0]
    assert edition.main(["student", "--out", str(tmp_path / "student"), str(path)]) == 1


def test_regenerating_keeps_what_the_learner_changed_unless_forced(tmp_path: Path) -> None:
    source = write(
        tmp_path / "notebooks" / "01_x.ipynb",
        [markdown("**Exercise 1.**"), code("answer_1 = 2", "solution"), code("checks.check_x(answer_1)")],
    )
    out = tmp_path / "student"
    edition.write_student_edition([source.parent], out)
    target = out / source.name
    pristine = target.read_text()
    assert "answer_1 = None  # your answer here" in pristine and (out / "README.md").is_file()
    assert "wrote" in edition.write_student_edition([source.parent], out).lines[0]  # untouched: regenerated
    learner = json.loads(pristine)
    learner["cells"][1]["source"] = "answer_1 = 1 + 1"
    target.write_text(json.dumps(learner))
    lines = edition.write_student_edition([source.parent], out).lines
    assert lines[0].startswith("kept") and json.loads(target.read_text())["cells"][1]["source"] == "answer_1 = 1 + 1"
    edition.write_student_edition([source.parent], out, force=True)
    assert target.read_text() == pristine


def test_missing_source_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such notebook or folder"):
        edition.find_notebooks([tmp_path / "nowhere"])
    assert edition.main(["student", "--out", str(tmp_path / "s"), str(tmp_path / "nowhere")]) == 1
