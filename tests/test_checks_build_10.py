"""Notebook 10's build exercise 3, a byte-level BPE tokenizer: a right answer written here (not the notebook's
solution) passes, and each typical wrong answer fails with the sentence that names it."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

import pytest

from helpers.checks import llm
from helpers.exercises import ExerciseIncorrect, NotAnswered


def merged(ids, pair, new_id, *, overlapping=False, drop_last=False):
    out, i = [], 0
    while i < len(ids) - 1:
        if (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 1 if overlapping else 2
        else:
            out.append(ids[i])
            i += 1
    if i == len(ids) - 1 and not drop_last:
        out.append(ids[i])
    return out


def make_bpe(*, counting="every", overlapping=False, drop_last=False, order="rank", decoding="bytes", start="bytes"):
    """train, encode, decode: right with the defaults; each keyword makes one typical mistake."""

    def start_ids(text):
        return list(text.encode("utf-8")) if start == "bytes" else [ord(c) for c in text]

    def count(ids, text):
        if counting == "every":
            return Counter(pairwise(ids))
        words = text.split()  # the mistake: each pair once per word, whatever its frequency
        return Counter(p for word in words for p in set(pairwise(word.encode())))

    def train(text, num_merges):
        ids, merges = start_ids(text), []
        for rank in range(num_merges):
            counts = count(ids, text) if rank == 0 else Counter(pairwise(ids))
            pair = max(counts, key=lambda p: (counts[p], -p[0], -p[1]))
            merges.append(pair)
            ids = merged(ids, pair, 256 + rank, overlapping=overlapping, drop_last=drop_last)
        return merges

    def encode(text, merges):
        ids = start_ids(text)
        ranks = {tuple(pair): rank for rank, pair in enumerate(merges)}
        if order == "reversed":
            for rank in reversed(range(len(merges))):
                ids = merged(ids, tuple(merges[rank]), 256 + rank, overlapping=overlapping, drop_last=drop_last)
            return ids
        while len(ids) > 1:  # the lowest rank present first (the way the lesson's tokenizer does it)
            present = [p for p in pairwise(ids) if p in ranks]
            if not present:
                break
            # the mistake "most frequent": the pair most frequent in the text being encoded first
            pair = min(present, key=ranks.get) if order == "rank" else Counter(present).most_common(1)[0][0]
            ids = merged(ids, pair, 256 + ranks[pair], overlapping=overlapping, drop_last=drop_last)
        return ids

    def decode(ids, merges):
        pieces = {byte: bytes([byte]) for byte in range(256)}
        for rank, (a, b) in enumerate(merges):
            pieces[256 + rank] = pieces[a] + pieces[b]
        if decoding == "bytes":
            return b"".join(pieces[i] for i in ids).decode("utf-8", errors="replace")
        if decoding == "chr":
            return "".join(chr(i) if i < 256 else pieces[i].decode("latin-1") for i in ids)
        return "".join(pieces[i].decode("utf-8", errors="replace") for i in ids)  # each token decoded alone

    return train, encode, decode


def test_right_answer_passes() -> None:
    assert "correct" in llm.check_byte_pair_encoding(make_bpe())


@pytest.mark.parametrize(
    ("mistake", "sentence"),
    [
        ({"decoding": "chr"}, "decode UTF-8 once at the end"),
        ({"decoding": "per token"}, "decode UTF-8 once at the end"),
        ({"start": "code points"}, "code points"),
        ({"counting": "once per word"}, "not once per word"),
        ({"overlapping": True}, "overlap"),
        ({"drop_last": True}, r"\[256, 256, 97\]"),
        ({"order": "reversed"}, "the order they were learned"),
        ({"order": "most frequent"}, "the order they were learned"),
    ],
)
def test_typical_mistakes_fail_with_their_sentence(mistake, sentence) -> None:
    with pytest.raises(ExerciseIncorrect, match=sentence):
        llm.check_byte_pair_encoding(make_bpe(**mistake))


def test_shape_and_placeholder() -> None:
    with pytest.raises(NotAnswered):
        llm.check_byte_pair_encoding(None)
    train, encode, decode = make_bpe()
    with pytest.raises(ExerciseIncorrect, match="three functions"):
        llm.check_byte_pair_encoding(train)
    with pytest.raises(ExerciseIncorrect, match="should learn no merge"):
        llm.check_byte_pair_encoding((lambda text, n: train(text, max(n, 1)), encode, decode))
