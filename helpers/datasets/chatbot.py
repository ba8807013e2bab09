"""The question/answer pairs of notebook 09's retrieval chatbot, and the held-out paraphrases.

The pairs come from ``chatterbot-corpus`` (English, 21 YAML files of ``conversations``: lists whose
first line is a question and whose next line answers it), fetched by the data layer. The
paraphrases (``datasets/chatbot_paraphrases.yml``) were written for the course: each asks what one
corpus question asks, in other words.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from helpers.datasets.registry import fetch

PARAPHRASES_PATH = Path(__file__).resolve().parents[2] / "datasets" / "chatbot_paraphrases.yml"


@dataclass(frozen=True)
class QuestionAnswers:
    """One corpus question (as written), its answers (several conversations may share the question) and topic."""

    question: str
    answers: tuple[str, ...]
    topic: str


def load_question_answers(folder: Path | None = None) -> list[QuestionAnswers]:
    """Every distinct question of the corpus with all its answers, in file order."""
    folder = Path(folder) if folder is not None else fetch("chatterbot_english")
    files = sorted(folder.glob("*.yml"))
    if not files:
        raise FileNotFoundError(
            f"no .yml files in {folder}: fetch the corpus with helpers.datasets.registry.fetch('chatterbot_english')"
        )
    answers: dict[str, list[str]] = {}
    topics: dict[str, str] = {}
    for path in files:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for conversation in content.get("conversations", []):
            if len(conversation) < 2:
                continue
            question = str(conversation[0]).strip()
            answers.setdefault(question, []).append(str(conversation[1]).strip())
            topics.setdefault(question, path.stem)
    return [QuestionAnswers(q, tuple(a), topics[q]) for q, a in answers.items()]


@dataclass(frozen=True)
class Paraphrase:
    """A held-out question (``asks``) and the corpus question it means."""

    asks: str
    means: str


def load_paraphrases(path: Path = PARAPHRASES_PATH) -> list[Paraphrase]:
    """The course's held-out paraphrases."""
    rows = yaml.safe_load(Path(path).read_text(encoding="utf-8"))["paraphrases"]
    return [Paraphrase(str(row["asks"]), str(row["means"])) for row in rows]
