"""helpers.datasets.shakespeare on small synthetic plays: Markdown to text, whole-play splits, the vocabulary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers.datasets import shakespeare
from helpers.figures import gpt as gpt_figures

PLAY = """# A Small Play

## ACT I

### SCENE I. A heath.

_Thunder. Enter two WITCHES_

**FIRST WITCH**|
When shall we meet again|
In thunder\\--or in rain?

**SECOND WITCH**|
When the hurlyburly\u2019s done.|
_[Aside]_ Soon.

_Exeunt_
""".replace("|", "  ")  # two spaces at a line end: a Markdown line break


def write_plays(folder: Path, plays: dict[str, str]) -> Path:
    for name, text in plays.items():
        genre, stem = name.split("/")
        (folder / genre).mkdir(parents=True, exist_ok=True)
        (folder / genre / f"{stem}.md").write_text(text, encoding="utf-8")
    return folder


def test_play_to_text_keeps_speakers_and_speeches_and_drops_headings_and_directions() -> None:
    assert shakespeare.play_to_text(PLAY) == (
        "FIRST WITCH:\nWhen shall we meet again\nIn thunder--or in rain?\n\n"
        "SECOND WITCH:\nWhen the hurlyburly's done.\n[Aside] Soon.\n"
    )


def test_play_to_text_is_ascii_and_keeps_a_prologue_before_the_first_speaker() -> None:
    text = shakespeare.play_to_text("# P\nTwo households\u2014both alike\n\n**CHORUS**\nIn fair Verona.\n")
    assert text == "Two households--both alike\n\nCHORUS:\nIn fair Verona.\n"
    assert text.isascii()


def test_load_plays_reads_every_play_by_name(tmp_path: Path) -> None:
    write_plays(tmp_path, {"tragedies/b-play": PLAY, "comedies/a-play": "**A**\nHello.\n"})
    plays = shakespeare.load_plays(tmp_path)
    assert list(plays) == ["a-play", "b-play"]
    assert plays["a-play"] == "A:\nHello.\n"


def test_load_plays_says_when_a_folder_holds_no_plays(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no plays"):
        shakespeare.load_plays(tmp_path)


def test_split_holds_out_whole_plays_and_limits_training_by_whole_plays() -> None:
    plays = {
        name: f"{name.upper()}:\n{name} speaks.\n" * 10 for name in ("alpha", "beta", "gamma", "hamlet", "tempest")
    }
    split = shakespeare.split_plays(plays, validation=("hamlet",), test=("tempest",))
    assert split.train_plays == ("alpha", "beta", "gamma")
    assert split.validation == plays["hamlet"] and split.test == plays["tempest"]
    assert "hamlet" not in split.train and "tempest" not in split.train
    limited = shakespeare.split_plays(
        plays, validation=("hamlet",), test=("tempest",), train_limit=len(plays["alpha"]) + 5
    )
    assert limited.train_plays == ("alpha",) and limited.train == plays["alpha"]
    tiny = shakespeare.split_plays(plays, validation=("hamlet",), test=("tempest",), train_limit=1)
    assert tiny.train_plays == ("alpha",), "at least one whole play is kept"


def test_split_refuses_unknown_or_overlapping_plays() -> None:
    plays = {"a": "x", "b": "y", "c": "z"}
    with pytest.raises(KeyError, match="unknown plays"):
        shakespeare.split_plays(plays, validation=("hamlet",), test=("c",))
    with pytest.raises(ValueError, match="both validation and test"):
        shakespeare.split_plays(plays, validation=("b",), test=("b",))
    with pytest.raises(ValueError, match="no play is left"):
        shakespeare.split_plays({"a": "x", "b": "y"}, validation=("a",), test=("b",))


def test_vocabulary_encodes_and_decodes_and_maps_unknown_characters() -> None:
    vocabulary = shakespeare.CharVocabulary.from_texts(["to be", "or not"])
    assert vocabulary.characters == " benort"
    ids = vocabulary.encode("not to be")
    assert ids.dtype == np.int32 and vocabulary.decode(ids) == "not to be"
    assert vocabulary.decode(vocabulary.encode("toz")) == "to ", "an unknown character becomes the unknown one"
    assert len(vocabulary) == 7
    with pytest.raises(ValueError, match="distinct"):
        shakespeare.CharVocabulary("aab ")
    with pytest.raises(ValueError, match="unknown character"):
        shakespeare.CharVocabulary("abc")


def test_figures_draw() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for figure in (
        gpt_figures.ngram_figure(),
        gpt_figures.attention_figure(),
        gpt_figures.multi_head_figure(),
        gpt_figures.transformer_block_figure(),
        gpt_figures.gpt_figure(),
        gpt_figures.lstm_lm_figure(),
        gpt_figures.kv_cache_figure(),
    ):
        assert figure.axes[0].get_title()
        plt.close(figure)
