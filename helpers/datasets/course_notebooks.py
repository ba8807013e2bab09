"""The course's own notebooks as a document collection (notebook 14's "ask the course" assistant), and the
held-out questions written from them.

A document is the markdown of one notebook: its title (the first ``# `` heading) and the text of its
markdown cells, in order, code cells left out. The questions (``course_questions.json``, written for
the course by reading those cells) each have a short answer that appears, word for word
(case-insensitive), in a markdown cell of the notebook named beside it, and not in the question.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
QUESTIONS_PATH = Path(__file__).resolve().with_name("course_questions.json")


@dataclass(frozen=True)
class CourseDocument:
    """The markdown of one course notebook: its file stem (``"09_encoders"``), its title and its text."""

    notebook: str
    title: str
    text: str


@dataclass(frozen=True)
class CourseQuestion:
    """A question about the course, its short answer and the notebook (file stem) whose markdown holds it."""

    question: str
    answer: str
    notebook: str


def markdown_cells(path: Path) -> list[str]:
    """The source of every markdown cell of the notebook at ``path`` (``source`` as a string or a list of lines)."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    return [
        "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for cell in cells
        if cell["cell_type"] == "markdown"
    ]


def notebook_title(markdown: list[str], fallback: str) -> str:
    """The text of the first ``# `` heading of a notebook's markdown, or ``fallback`` if it has none."""
    for text in markdown:
        heading = re.search(r"^# (.+)$", text, flags=re.MULTILINE)
        if heading:
            return heading.group(1).strip()
    return fallback


def load_course_documents(folder: Path = NOTEBOOKS_DIR, before: str = "14_") -> list[CourseDocument]:
    """One document per notebook in ``folder`` that comes before ``before`` in file order: by default the course a
    learner has read on reaching notebook 14, which asks the questions (the notebooks after it are not in the
    collection, so adding one changes neither the questions nor the measured figures)."""
    paths = [path for path in sorted(Path(folder).glob("*.ipynb")) if path.name < before]
    if not paths:
        raise FileNotFoundError(
            f"no notebooks in {folder}: the documents are the course's notebooks, which a checkout of the course has "
            "(git clone it and run make lab; on Colab, !git clone the course and pass its notebooks folder)"
        )
    documents = []
    for path in paths:
        markdown = markdown_cells(path)
        documents.append(CourseDocument(path.stem, notebook_title(markdown, path.stem), "\n\n".join(markdown)))
    return documents


def load_course_questions(path: Path = QUESTIONS_PATH) -> list[CourseQuestion]:
    """The held-out questions about the course, in file order."""
    return [CourseQuestion(**entry) for entry in json.loads(Path(path).read_text(encoding="utf-8"))]
