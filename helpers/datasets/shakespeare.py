"""Shakespeare's plays as one character stream, split by whole plays (notebook 08).

The registry entry ``shakespeare_plays`` (:mod:`helpers.datasets.registry`) is a folder of 38 Markdown files,
one per play, in one folder per genre (``tragedies/hamlet.md``, ...). A play reads::

    # Hamlet
    ## ACT I
    ### SCENE I. Elsinore. A platform before the castle.
    _FRANCISCO at his post. Enter to him BERNARDO_
    **BERNARDO**
    Who's there?

:func:`play_to_text` turns that into plain text in the layout of the well-known "tiny
Shakespeare" file: a speaker's name in capitals followed by a colon, the lines of the speech,
and a blank line between speeches. Headings (title, act, scene) and stage-direction lines are
dropped, Markdown escapes and line-break spaces removed, and the few non-ASCII characters
replaced (an em dash becomes ``--``). :func:`load_plays` reads every play; :func:`split_plays`
holds out whole plays for validation and test, so the held-out text is never a slice of a play
the model has read. :class:`CharVocabulary` maps characters to ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

VALIDATION_PLAYS = ("hamlet",)
TEST_PLAYS = ("the-tempest",)
SPEAKER = re.compile(r"^\*\*(.+?)\*\*$")
REPLACEMENTS = {"\u2014": "--", "\u2013": "-", "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'}


def play_to_text(markdown: str) -> str:
    """One play's Markdown as plain text: ``NAME:`` lines, speeches, a blank line between speeches."""
    speeches: list[list[str]] = []
    for raw in markdown.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # blank lines and headings (title, act, scene)
        speaker = SPEAKER.match(stripped)
        if speaker:
            speeches.append([f"{speaker.group(1).strip()}:"])
            continue
        if stripped.startswith("_") and stripped.endswith("_"):
            continue  # a stage direction on a line of its own
        text = stripped.replace("\\", "").replace("_", "")
        for old, new in REPLACEMENTS.items():
            text = text.replace(old, new)
        text = text.encode("ascii", "ignore").decode("ascii")
        if not text:
            continue
        if not speeches:
            speeches.append([])  # text before the first speaker (a prologue): its own paragraph
        speeches[-1].append(text)
    return "\n\n".join("\n".join(lines) for lines in speeches if lines) + "\n"


def play_files(folder: Path) -> dict[str, Path]:
    """``{"hamlet": .../tragedies/hamlet.md, ...}``: every play of the folder, by file name, sorted."""
    files = sorted(Path(folder).glob("*/*.md"), key=lambda path: path.stem)
    if not files:
        raise FileNotFoundError(f"no plays (*/*.md) under {folder}")
    return {path.stem: path for path in files}


def load_plays(folder: Path | None = None) -> dict[str, str]:
    """Every play as plain text (:func:`play_to_text`), by name; the course's copy when ``folder`` is None."""
    if folder is None:
        from helpers.datasets.registry import fetch

        folder = fetch("shakespeare_plays")
    return {name: play_to_text(path.read_text(encoding="utf-8")) for name, path in play_files(folder).items()}


@dataclass(frozen=True)
class PlaySplit:
    """Training, validation and test text, each the concatenation of whole plays, and the play names."""

    train: str
    validation: str
    test: str
    train_plays: tuple[str, ...]
    validation_plays: tuple[str, ...]
    test_plays: tuple[str, ...]


def split_plays(
    plays: dict[str, str],
    validation: Sequence[str] = VALIDATION_PLAYS,
    test: Sequence[str] = TEST_PLAYS,
    train_limit: int | None = None,
) -> PlaySplit:
    """Hold out whole plays: ``validation`` and ``test`` plays are never in the training text.

    The training text is every other play, in name order, joined; ``train_limit`` keeps only the
    first plays up to that many characters (fast mode), always at least one whole play.
    """
    missing = [name for name in (*validation, *test) if name not in plays]
    if missing:
        raise KeyError(f"unknown plays {missing}; the plays are {sorted(plays)}")
    if set(validation) & set(test):
        raise ValueError(f"a play cannot be both validation and test: {sorted(set(validation) & set(test))}")
    held_out = set(validation) | set(test)
    train_names: list[str] = []
    size = 0
    for name in sorted(plays):
        if name in held_out:
            continue
        if train_limit is not None and train_names and size + len(plays[name]) > train_limit:
            break
        train_names.append(name)
        size += len(plays[name])
    if not train_names:
        raise ValueError("no play is left for training")
    return PlaySplit(
        train="".join(plays[name] for name in train_names),
        validation="".join(plays[name] for name in validation),
        test="".join(plays[name] for name in test),
        train_plays=tuple(train_names),
        validation_plays=tuple(validation),
        test_plays=tuple(test),
    )


@dataclass(frozen=True)
class CharVocabulary:
    """Characters and their ids (sorted characters, id = position); unknown characters map to ``unknown``."""

    characters: str
    unknown: str = " "

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> CharVocabulary:
        """The sorted set of characters of ``texts``."""
        return cls("".join(sorted(set().union(*map(set, texts)))))

    def __post_init__(self) -> None:
        if len(set(self.characters)) != len(self.characters):
            raise ValueError("the characters of a vocabulary must be distinct")
        if self.unknown not in self.characters:
            raise ValueError(f"the unknown character {self.unknown!r} is not in the vocabulary")

    def __len__(self) -> int:
        return len(self.characters)

    def encode(self, text: str) -> np.ndarray:
        """Ids (int32) of the characters of ``text``."""
        table = np.full(max(map(ord, self.characters + text or " ")) + 1, self.characters.index(self.unknown))
        table[[ord(c) for c in self.characters]] = np.arange(len(self.characters))
        return table[np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)].astype(np.int32)

    def decode(self, ids: Iterable[int]) -> str:
        """The text of ``ids``."""
        return "".join(self.characters[int(i)] for i in ids)
