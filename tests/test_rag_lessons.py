"""Notebook 14's retrieval code (part 2): reading the notebooks' markdown, chunking, relevance, recall@k on a tiny
hand-made collection whose answers are known, the two retrievers, the RAG prompt and the pipeline figure."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers.datasets.course_notebooks import CourseDocument, CourseQuestion, load_course_documents, markdown_cells
from helpers.lessons import llm_adaptation as lesson


def write_notebook(path: Path, cells: list[tuple[str, str | list[str]]]) -> Path:
    notebook = {"cells": [{"cell_type": kind, "metadata": {}, "source": source} for kind, source in cells]}
    path.write_text(json.dumps(notebook))
    return path


def test_documents_are_the_markdown_cells_with_the_first_heading_as_title(tmp_path: Path) -> None:
    write_notebook(
        tmp_path / "01_one.ipynb",
        [("markdown", ["# 01 · One\n", "Intro **text**."]), ("code", "x = 1  # not a document"), ("markdown", "More.")],
    )
    write_notebook(tmp_path / "02_two.ipynb", [("markdown", "No heading here.")])
    write_notebook(tmp_path / "14_self.ipynb", [("markdown", "# 14 · Left out")])
    write_notebook(tmp_path / "15_later.ipynb", [("markdown", "# 15 · After 14, left out")])
    assert markdown_cells(tmp_path / "01_one.ipynb") == ["# 01 · One\nIntro **text**.", "More."]
    documents = load_course_documents(tmp_path)
    assert [(d.notebook, d.title) for d in documents] == [("01_one", "01 · One"), ("02_two", "02_two")]
    assert documents[0].text == "# 01 · One\nIntro **text**.\n\nMore." and "x = 1" not in documents[0].text


def test_the_course_documents_are_the_notebooks_before_14_without_code() -> None:
    documents = load_course_documents()
    assert len(documents) >= 16 and all(d.notebook < "14_" for d in documents)
    assert documents[0].title.startswith("00 ·") and "import " not in documents[0].text.split("```")[0]


def test_chunking_overlaps_and_covers_every_word() -> None:
    words = [f"w{i}" for i in range(10)]
    chunks = lesson.chunk_words(" ".join(words), words=4, overlap=1)
    assert chunks == ["w0 w1 w2 w3", "w3 w4 w5 w6", "w6 w7 w8 w9"]
    assert lesson.chunk_words("a b", words=4, overlap=1) == ["a b"]
    assert lesson.chunk_words(" ".join(words[:9]), words=4, overlap=0) == ["w0 w1 w2 w3", "w4 w5 w6 w7", "w8"]
    with pytest.raises(ValueError, match="overlap"):
        lesson.chunk_words("a b c", words=3, overlap=3)


def test_passages_keep_their_title_and_lose_markdown_marks() -> None:
    document = CourseDocument(
        "03_x", "03 · X", "**Max-pooling** keeps the `largest` value: see [the docs](https://a.b)."
    )
    (passage,) = lesson.course_passages([document], words=20, overlap=4)
    assert passage.notebook == "03_x" and passage.text == "Max-pooling keeps the largest value: see the docs."
    assert str(passage) == "03 · X: Max-pooling keeps the largest value: see the docs."


# A tiny collection whose relevant passages are known: question i's answer is in passage i (notebook "a") and
# also, word for word, in passage 3 of another notebook (not relevant: the wrong notebook).
PASSAGES = [
    lesson.Passage("a", "A", "the median ignores outliers"),
    lesson.Passage("a", "A", "the Brier score is a squared error"),
    lesson.Passage("a", "A", "LiteRT runs models on phones"),
    lesson.Passage("b", "B", "median and Brier score and LiteRT"),
]
QUESTIONS = [
    CourseQuestion("Which statistic ignores outliers?", "median", "a"),
    CourseQuestion("What squared error scores probabilities?", "BRIER SCORE", "a"),
    CourseQuestion("What runs models on phones?", "LiteRT", "a"),
]


def test_relevance_needs_the_right_notebook_and_the_answer() -> None:
    relevant = lesson.relevance(PASSAGES, QUESTIONS)
    assert relevant.tolist() == [[True, False, False, False], [False, True, False, False], [False, False, True, False]]


def test_recall_at_k_on_known_rankings() -> None:
    relevant = lesson.relevance(PASSAGES, QUESTIONS)
    ranking = np.array([[0, 3, 1], [3, 0, 1], [3, 1, 0]])  # found at rank 1, at rank 3, never
    assert lesson.recall_at_k(ranking, relevant, 1) == pytest.approx(1 / 3)
    assert lesson.recall_at_k(ranking, relevant, 2) == pytest.approx(1 / 3)
    assert lesson.recall_at_k(ranking, relevant, 3) == pytest.approx(2 / 3)
    scores = np.array([[0.1, 0.5, 0.5, 0.2], [0.0, 0.0, 0.0, 0.0]])
    assert lesson.top_k(scores, 3).tolist() == [[1, 2, 3], [0, 1, 2]]  # the highest first, ties in passage order


def test_tfidf_finds_the_passage_with_the_questions_rare_words() -> None:
    scores = lesson.TfidfRetriever(PASSAGES[:3]).scores([q.question for q in QUESTIONS])
    assert lesson.top_k(scores, 1)[:, 0].tolist() == [0, 1, 2]
    relevant = lesson.relevance(PASSAGES[:3], QUESTIONS)
    assert lesson.recall_at_k(lesson.top_k(scores, 1), relevant, 1) == 1.0


def test_the_rag_prompt_numbers_the_passages_and_keeps_the_conversation() -> None:
    prompt = lesson.rag_prompt("What runs on phones?", PASSAGES[1:3], history=[{"role": "user", "content": "Hi"}])
    assert lesson.RAG_INSTRUCTION in prompt and "[1] A: the Brier score" in prompt and "[2] A: LiteRT" in prompt
    assert prompt.index("Hi") < prompt.index("What runs on phones?") and prompt.endswith("<|im_start|>assistant\n")
    plain = lesson.rag_prompt("What runs on phones?", [])
    assert lesson.RAG_INSTRUCTION not in plain and "[1]" not in plain
    assert lesson.holds_answer("It is LITERT [2].", "LiteRT") and not lesson.holds_answer("TFLite", "LiteRT")


def test_the_plans_fast_mode_is_smaller() -> None:
    fast, full = lesson.rag_plan("fast"), lesson.rag_plan("full")
    assert full.notebooks is None and full.answered is None and full.sweep_minilm
    assert fast.notebooks and fast.answered and fast.answered <= 3 and not fast.sweep_minilm
    assert fast.passage_words == full.passage_words and fast.passage_words in full.chunk_sizes


def test_the_pipeline_figure_names_each_stage() -> None:
    from helpers.figures.llm_adaptation import rag_pipeline_figure

    figure = rag_pipeline_figure()
    text = " ".join(item.get_text() for item in figure.axes[0].texts)
    for word in ("chunking", "MiniLM", "top k", "cite", "SmolLM2"):
        assert word in text
    assert len(figure.axes[0].patches) >= 6
    plt.close(figure)
