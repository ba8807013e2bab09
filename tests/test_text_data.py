"""helpers.datasets.text on small synthetic files (Orange .tab, GloVe .npy + .parquet), and the architecture figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers.datasets import text as text_data
from helpers.figures import text as text_figures

TAB = "Category\tText\nd\tstring\nclass\t\n\nearn\tprofit rose\nacq\tcompany buys rival\n\nearn\tnet loss\n"


def test_read_tab_finds_the_label_and_text_columns_and_skips_empty_lines(tmp_path: Path) -> None:
    path = tmp_path / "small.tab"
    path.write_text(TAB, encoding="utf-8")
    texts, labels = text_data.read_tab(path)
    assert texts == ["profit rose", "company buys rival", "net loss"]
    assert labels == ["earn", "acq", "earn"]


def test_read_tab_with_the_columns_the_other_way_round(tmp_path: Path) -> None:
    path = tmp_path / "swapped.tab"
    path.write_text("Text\tTopic\tid\nstring\td\tc\n\tclass\tmeta\nhello world\tgreet\t1\n", encoding="utf-8")
    assert text_data.read_tab(path) == (["hello world"], ["greet"])


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("a\tb\n", "three header rows"),
        ("a\tb\nd\tstring\n\t\nx\ty\n", "role 'class'"),
        ("a\tb\nd\td\nclass\t\nx\ty\n", "type 'string'"),
        ("a\tb\nd\tstring\nclass\t\nx\ty\tz\n", "line 4: 3 fields"),
    ],
)
def test_read_tab_says_what_is_wrong_with_a_file(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "bad.tab"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(text_data.TabFormatError, match=words):
        text_data.read_tab(path)


def test_text_split_numbers_the_sorted_classes() -> None:
    split = text_data.TextSplit(["a", "b", "c"], ["ship", "earn", "ship"], ["d"], ["earn"])
    assert split.class_names == ["earn", "ship"]
    assert split.label_ids(split.train_labels).tolist() == [1, 0, 1]
    with pytest.raises(ValueError, match="not seen in training: grain"):
        split.label_ids(["grain"])


@pytest.fixture
def glove_folder(tmp_path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    words = ["the", "king", "queen", "man", "woman"]
    vectors = np.arange(len(words) * 3, dtype=np.float32).reshape(len(words), 3)
    vectors[0] = 0
    np.save(tmp_path / text_data.GLOVE_VECTORS, vectors)
    pq.write_table(pa.table({"index": words}), tmp_path / text_data.GLOVE_WORDS)
    return tmp_path


def test_read_glove_lines_words_up_with_rows(glove_folder: Path) -> None:
    glove = text_data.read_glove(glove_folder)
    assert glove.words[:2] == ["the", "king"] and glove.dimension == 3
    assert "queen" in glove and "prince" not in glove
    np.testing.assert_array_equal(glove["queen"], [6, 7, 8])
    np.testing.assert_allclose(np.linalg.norm(glove.unit_vectors[1:], axis=1), 1, rtol=1e-6)
    assert np.all(glove.unit_vectors[0] == 0)  # the zero vector of "the" stays zero


def test_word_vectors_refuse_mismatched_sizes() -> None:
    with pytest.raises(ValueError, match="2 words for vectors of shape"):
        text_data.WordVectors(["a", "b"], np.zeros((3, 2)))


def test_embedding_matrix_puts_each_word_vector_at_its_vocabulary_row(glove_folder: Path) -> None:
    glove = text_data.read_glove(glove_folder)
    matrix, coverage = text_data.embedding_matrix(["", "[UNK]", "queen", "zzz", "the"], glove)
    assert matrix.shape == (5, 3) and matrix.dtype == np.float32
    np.testing.assert_array_equal(matrix[2], glove["queen"])
    assert not matrix[[0, 1, 3]].any()  # padding, OOV and unknown words: zero rows
    assert coverage == pytest.approx(2 / 3)  # queen and the, out of queen, zzz, the


def test_architecture_figures_draw_their_parts() -> None:
    import matplotlib.pyplot as plt

    def texts(figure) -> str:
        return " ".join(text.get_text() for axes in figure.axes for text in axes.texts)

    figures = {
        "pipeline": text_figures.pipeline_figure([("raw text", "data"), ("Embedding", "layer")], "a pipeline"),
        "skipgram": text_figures.skipgram_figure(),
        "rnn": text_figures.rnn_unrolled_figure(steps=3),
        "lstm": text_figures.lstm_cell_figure(),
        "gru": text_figures.gru_cell_figure(),
        "bidirectional": text_figures.bidirectional_figure(("a", "b", "")),
    }
    assert "Embedding" in texts(figures["pipeline"]) and "dot product" in texts(figures["skipgram"])
    assert texts(figures["rnn"]).count("RNN cell") == 3
    assert all(gate in texts(figures["lstm"]) for gate in ("forget", "input", "output", "candidate"))
    assert all(gate in texts(figures["gru"]) for gate in ("update", "reset", "candidate"))
    assert "pad (0)" in texts(figures["bidirectional"])
    for figure in figures.values():
        assert figure.axes[0].patches, "no boxes drawn"
        plt.close(figure)


def test_measured_figures_draw_every_word_and_every_bar() -> None:
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    space = {probe: {word: rng.normal(size=8) for word in (probe, f"{probe}1", f"{probe}2")} for probe in ("a", "b")}
    figure = text_figures.embedding_map_figure({"first": space, "second": space})
    assert len(figure.axes) == 2 and len(figure.axes[0].texts) == 6
    assert {"a", "b1"} <= {label.get_text() for label in figure.axes[1].texts}
    tasks = {"topics": {"TF-IDF + LR": 0.97, "LSTM": 0.95}, "word order": {"TF-IDF + LR": 0.5, "LSTM": 0.9}}
    bars = text_figures.word_order_figure(tasks)
    legend = [label.get_text() for label in bars.axes[0].get_legend().get_texts()]
    assert len(bars.axes[0].patches) == 4 and any("chance" in label for label in legend), legend
    plt.close("all")
