"""The held-out questions of notebook 14's "ask the course" assistant hold against today's notebooks: at least 64,
spread over every course notebook but 14, each answer short, in a markdown cell of its notebook (word for word,
case-insensitive) and not in its question. A notebook edited so that an answer vanishes fails the test."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from helpers.datasets.course_notebooks import (
    NOTEBOOKS_DIR,
    CourseQuestion,
    load_course_documents,
    load_course_questions,
    markdown_cells,
)

MIN_QUESTIONS = 64
MIN_PER_NOTEBOOK = 3
MAX_ANSWER_WORDS = 5


def question_problems(questions: list[CourseQuestion], folder: Path) -> list[str]:
    """What is wrong with ``questions`` against the notebooks in ``folder``, one sentence each (empty: nothing)."""
    problems = []
    cells = {path.stem: [cell.lower() for cell in markdown_cells(path)] for path in sorted(folder.glob("*.ipynb"))}
    for question in questions:
        answer = question.answer.lower()
        if question.notebook not in cells:
            problems.append(f"{question.question!r}: no notebook {question.notebook}")
        elif not any(answer in cell for cell in cells[question.notebook]):
            problems.append(f"{question.question!r}: {question.answer!r} is in no markdown cell of {question.notebook}")
        if answer in question.question.lower():
            problems.append(f"{question.question!r}: the answer {question.answer!r} is in the question")
        if not 1 <= len(question.answer.split()) <= MAX_ANSWER_WORDS:
            problems.append(
                f"{question.question!r}: the answer {question.answer!r} is not 1 to {MAX_ANSWER_WORDS} words"
            )
    return problems


def test_the_questions_hold_against_todays_notebooks() -> None:
    questions = load_course_questions()
    assert len(questions) >= MIN_QUESTIONS
    assert len({q.question for q in questions}) == len(questions), "a question is written twice"
    assert question_problems(questions, NOTEBOOKS_DIR) == []


def test_the_questions_cover_every_notebook_before_14() -> None:
    per_notebook = Counter(q.notebook for q in load_course_questions())
    notebooks = {document.notebook for document in load_course_documents()}
    assert "14_llm_adaptation" not in notebooks and "13_scaling" in notebooks
    assert set(per_notebook) == notebooks
    assert min(per_notebook.values()) >= MIN_PER_NOTEBOOK, per_notebook


def test_a_vanished_answer_is_caught(tmp_path: Path) -> None:
    """A copy of the notebooks in which one answer was reworded in every markdown cell: the test names it."""
    copy = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS_DIR, copy)
    question = next(q for q in load_course_questions() if q.answer == "Brier score")
    path = copy / f"{question.notebook}.ipynb"
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        cell["source"] = source.replace("Brier score", "squared error of the probabilities").replace(
            "Brier Score", "squared error of the probabilities"
        )
    path.write_text(json.dumps(notebook))
    problems = question_problems(load_course_questions(), copy)
    assert len(problems) == 1 and "'Brier score' is in no markdown cell of 05a_binary_metrics" in problems[0]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (CourseQuestion("What is the Brier score?", "Brier score", "05a_binary_metrics"), "is in the question"),
        (CourseQuestion("Which score?", "the Brier score of the probabilities here", "05a_binary_metrics"), "words"),
        (CourseQuestion("Which score?", "Brier score", "99_missing"), "no notebook"),
    ],
)
def test_each_kind_of_bad_question_is_named(entry: CourseQuestion, problem: str) -> None:
    assert any(problem in line for line in question_problems([entry], NOTEBOOKS_DIR))
