"""Exercise checks of notebook 10 (a small LLM): one rotary step, the stop-sequence rule, and build exercise 3,
a byte-level BPE tokenizer trained from scratch.

Each check runs the learner's answer on inputs of its own and compares the behaviour with what it
must be (computed here, in plain NumPy); known mistakes get a sentence of their own.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np

from helpers.exercises import ExerciseIncorrect, call_answer, expect, expect_close, passed, require_answer


def rotate(x: np.ndarray, position: float, base: float) -> np.ndarray:
    """The reference rotary step: pair i is (dimension i, dimension i + half), angle position × base^(-2i/d)."""
    half = len(x) // 2
    angles = position * base ** (-2 * np.arange(half) / len(x))
    first, second = x[:half], x[half:]
    return np.concatenate(
        [first * np.cos(angles) - second * np.sin(angles), second * np.cos(angles) + first * np.sin(angles)]
    )


def check_rotary_step(answer: Any) -> str:
    """Exercise 1: ``answer(x, position, base)``: x rotated for ``position``, pairs (i, i + half)."""
    exercise = "Exercise 1 (one rotary step)"
    rng = np.random.default_rng(13)
    width, base = 16, 100.0
    query, key = rng.normal(size=width), rng.normal(size=width)

    def rotated(x: np.ndarray, position: int) -> np.ndarray:
        result = np.asarray(
            call_answer(answer, exercise, f"a vector ({width},), position {position}, base 100", x, position, base),
            float,
        )
        expect(result.shape == (width,), f"{exercise}: return a vector of shape ({width},); yours is {result.shape}.")
        return result

    expect_close(rotated(query, 0), query, f"{exercise}: at position 0 nothing turns: the vector itself")
    at_5 = rotated(query, 5)
    expect(
        np.isclose(np.linalg.norm(at_5), np.linalg.norm(query)),
        f"{exercise}: a rotation keeps the length of the vector; yours changed it from {np.linalg.norm(query):.3f} "
        f"to {np.linalg.norm(at_5):.3f} (a cos or a sin in the wrong place?).",
    )
    half = width // 2
    angles = 5 * base ** (-2 * np.arange(half) / width)
    adjacent = query.copy()
    adjacent[0::2], adjacent[1::2] = (
        query[0::2] * np.cos(angles) - query[1::2] * np.sin(angles),
        query[1::2] * np.cos(angles) + query[0::2] * np.sin(angles),
    )
    expect(
        not np.allclose(at_5, adjacent),
        f"{exercise}: you paired neighbouring dimensions (0, 1), (2, 3), ...: this model pairs dimension i with "
        f"i + {half} (the layout of the original checkpoint).",
    )
    expect(
        not np.allclose(at_5, rotate(query, -5, base)),
        f"{exercise}: you rotated the wrong way: the first half gets x₁ cos − x₂ sin, the second x₂ cos + x₁ sin.",
    )
    expect_close(at_5, rotate(query, 5, base), f"{exercise}: the rotated vector at position 5", rtol=1e-6, atol=1e-9)
    products = [rotated(query, m) @ rotated(key, m - 3) for m in (3, 10, 40)]
    if not np.allclose(products, products[0]):
        raise ExerciseIncorrect(
            f"{exercise}: the dot product of a query and a key 3 positions apart should not depend on where they "
            f"are; yours gives {np.round(products, 4).tolist()}."
        )
    return passed(exercise)


def check_stop_rule(answer: Any) -> str:
    """Exercise 2: ``answer(text, stops)`` = (the part of ``text`` that can be sent now, whether it ended)."""
    exercise = "Exercise 2 (the stop-sequence rule)"

    def verdict(text: str, stops: list[str]) -> tuple[str, bool]:
        result = call_answer(answer, exercise, f"text {text!r} and stops {stops}", text, stops)
        expect(
            isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], str),
            f"{exercise}: return a pair (text to send, ended), e.g. ('Hello ', False); yours returned {result!r}.",
        )
        return result[0], bool(result[1])

    cases = [
        ("Hello world, and more", ["world"], ("Hello ", True), "the text before the stop sequence, which is not sent"),
        ("plain text", [], ("plain text", False), "without stop sequences everything can be sent"),
        ("plain text", ["\nHuman:"], ("plain text", False), "nothing here can grow into the stop sequence"),
    ]
    for text, stops, expected, why in cases:
        got = verdict(text, stops)
        expect(got == expected, f"{exercise}: for {text!r} with stops {stops} expected {expected} ({why}); got {got}.")
    held = verdict("Bye.\nHum", ["\nHuman:"])
    expect(
        held != ("Bye.\nHum", False),
        f"{exercise}: 'Bye.\\nHum' may be the start of the stop sequence '\\nHuman:': if you send it now and the "
        "next token is 'an:', the client has already seen part of the stop sequence. Hold back the end of the "
        "text that is the start of a stop sequence.",
    )
    expect(
        held == ("Bye.", False),
        f"{exercise}: for 'Bye.\\nHum' expected ('Bye.', False): send what cannot become '\\nHuman:'; got {held}.",
    )
    for text, stops in (("ab", ["bx", "abc"]), ("xaba", ["abab"])):
        longest = verdict(text, stops)
        expected = text[: text.index("a")]
        expect(
            longest == (expected, False),
            f"{exercise}: hold back the LONGEST end of the text that starts a stop sequence: for {text!r} with "
            f"stops {stops} expected ({expected!r}, False), got {longest}.",
        )
    first = verdict("one. two! three", ["!", "."])
    expect(
        first == ("one", True),
        f"{exercise}: cut at the EARLIEST stop sequence in the text, whichever of the list it is: for "
        f"'one. two! three' with ['!', '.'] expected ('one', True), got {first}.",
    )
    inside = verdict("Nick is here", ["k i"])
    expect(
        inside == ("Nic", True),
        f"{exercise}: a stop sequence may begin inside a word; expected ('Nic', True), got {inside}.",
    )
    return passed(exercise)


# Build exercise 3: a byte-level BPE tokenizer ---------------------------------------------------------------------

BPE_WORDS = ("the", "and", "thee", "banana", "mississippi", "naïve", "café", "日本語", "😀", "aaaa", "hahaha", "to")
BPE_WORDS = (*BPE_WORDS, "be")
BPE_WEIGHTS = np.array([8, 6, 3, 4, 2, 2, 3, 2, 2, 1, 2, 4, 4], dtype=float)
BPE_MERGES = 30  # merges the check learns from its training text (2,083 bytes; its most frequent pair is b"e ")
ROUND_TRIPS = ("", "a", "aaaaa", "naïve café 日本語 😀", "Ünïcödé 👩‍👩‍👧 \n\t tabs, ½ and ∑", "the banana\n\nand thee")


def bpe_text(seed: int, words: int) -> str:
    """The check's own text: ``words`` words drawn from a small list (ASCII, accents, CJK, an emoji)."""
    rng = np.random.default_rng(seed)
    return " ".join(rng.choice(BPE_WORDS, size=words, p=BPE_WEIGHTS / BPE_WEIGHTS.sum()))


def pair_counts(ids: list[int]) -> dict[tuple[int, int], int]:
    """How often each adjacent pair of ids occurs, every position counted ("aaa" holds (a, a) twice)."""
    counts: dict[tuple[int, int], int] = {}
    for pair in pairwise(ids):
        counts[pair] = counts.get(pair, 0) + 1
    return counts


def replace_pair(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """``ids`` with each occurrence of ``pair``, from left to right and not overlapping, replaced by ``new_id``."""
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def _once_per_word(words: Any) -> dict[tuple[int, int], int]:
    """In how many of ``words`` each pair of bytes occurs (the mistake of counting a pair once per word)."""
    counts: dict[tuple[int, int], int] = {}
    for word in words:
        for pair in set(pair_counts(list(word.encode("utf-8")))):
            counts[pair] = counts.get(pair, 0) + 1
    return counts


def _shown(pair: tuple[int, int], pieces: dict[int, bytes]) -> str:
    return f"({pair[0]}, {pair[1]}) = {pieces.get(pair[0], b'?')!r} + {pieces.get(pair[1], b'?')!r}"


def check_byte_pair_encoding(answer: Any) -> str:
    """Build exercise 3: ``answer = (train_bpe, encode, decode)``: ``train_bpe(text, num_merges)`` returns the
    learned merges, a list of pairs of ids (merge k makes id 256 + k); ``encode(text, merges)`` the ids of
    ``text``; ``decode(ids, merges)`` the text back.

    Judged on the check's own texts: encoding starts from UTF-8 bytes; a merge replaces non-overlapping
    occurrences from left to right; merges apply in the order learned (checked with merges written here);
    each learned merge is a most frequent adjacent pair at its step (counted here, every occurrence);
    decode(encode(x)) == x on non-ASCII text and emoji; bytes per token grow with the number of merges
    on held-out text. Well under a second for a plain Python answer.
    """
    exercise = "Build exercise 3 (a byte-level BPE tokenizer)"
    require_answer(answer, exercise)
    expect(
        isinstance(answer, tuple) and len(answer) == 3 and all(callable(f) for f in answer),
        f"{exercise}: answer_3 should be the three functions (train_bpe, encode, decode), not {answer!r}.",
    )
    train_bpe, encode, decode = answer

    def encoded(text: str, merges: list[tuple[int, int]]) -> list[int]:
        ids = call_answer(encode, exercise, f"encode({text!r}, {len(merges)} merges)", text, merges)
        expect(
            isinstance(ids, list | tuple) and all(isinstance(i, int | np.integer) for i in ids),
            f"{exercise}: encode should return a list of integer ids; for {text!r} it returned {ids!r}.",
        )
        return [int(i) for i in ids]

    def decoded(ids: list[int], merges: list[tuple[int, int]]) -> str:
        text = call_answer(decode, exercise, f"decode({ids[:12]!r}..., {len(merges)} merges)", ids, merges)
        expect(isinstance(text, str), f"{exercise}: decode should return a str, not {type(text).__name__}.")
        return text

    sample = "naïve 日本 😀"
    plain = encoded(sample, [])
    if plain == [ord(c) for c in sample]:
        raise ExerciseIncorrect(
            f"{exercise}: without merges, encode({sample!r}) gave the characters' code points: a byte-level "
            "tokenizer starts from the UTF-8 bytes, list(text.encode('utf-8')), 256 possible ids whatever the script."
        )
    expect(
        plain == list(sample.encode("utf-8")),
        f"{exercise}: without merges, encode({sample!r}) should be its UTF-8 bytes {list(sample.encode('utf-8'))}; "
        f"yours is {plain}.",
    )
    back = decoded(plain, [])
    expect(
        back == sample,
        f"{exercise}: decode of the bytes of {sample!r} (no merges) gave {back!r}. Work in bytes: each id stands "
        "for a byte string; join the bytes of all the ids and decode UTF-8 once at the end (a character of 2 to 4 "
        "bytes may be split between tokens, so a token alone need not be valid UTF-8, and chr(id) is not its text).",
    )

    overlapping = encoded("aaaaa", [(97, 97)])
    expect(
        overlapping == [256, 256, 97],
        f"{exercise}: with the one merge (97, 97) = 'a' + 'a', encode('aaaaa') should be [256, 256, 97]: a merge "
        f"replaces the pair from left to right, and occurrences that overlap ('aaa' holds it twice) are not both "
        f"replaced. Yours is {overlapping}.",
    )
    expect(
        decoded([256, 256, 97], [(97, 97)]) == "aaaaa",
        f"{exercise}: decode([256, 256, 97]) with the merge (97, 97) should give 'aaaaa', each 256 standing for "
        "two bytes 'aa'.",
    )

    ordered = [(98, 99), (97, 98)]  # rank 0: 'b' + 'c' (id 256); rank 1: 'a' + 'b' (id 257)
    for text, expected in (("abc", [97, 256]), ("ababc", [257, 97, 256])):
        got = encoded(text, ordered)
        expect(
            got == expected,
            f"{exercise}: with the merges [(98, 99), (97, 98)] (first 'b' + 'c' -> 256, then 'a' + 'b' -> 257), "
            f"encode({text!r}) should be {expected}: merges apply in the order they were learned, the first "
            f"learned first, not the longest or the most frequent in the text being encoded first. Yours is {got}.",
        )
    chained = encoded("aaaaa", [(97, 97), (256, 256)])
    expect(
        chained == [257, 97],
        f"{exercise}: with the merges [(97, 97), (256, 256)], encode('aaaaa') should be [257, 97]: a merge can "
        f"join ids made by earlier merges. Yours is {chained}.",
    )

    text, held_out = bpe_text(0, 400), bpe_text(1, 200)
    raw = list(text.encode("utf-8"))
    merges = call_answer(train_bpe, exercise, f"train_bpe(a text of {len(raw)} bytes, {BPE_MERGES})", text, BPE_MERGES)
    expect(
        isinstance(merges, list | tuple)
        and len(merges) == BPE_MERGES
        and all(isinstance(m, list | tuple) and len(m) == 2 for m in merges),
        f"{exercise}: train_bpe(text, {BPE_MERGES}) should return a list of {BPE_MERGES} pairs of ids (merge k makes "
        f"id 256 + k); it returned {str(merges)[:200]}.",
    )
    merges = [(int(a), int(b)) for a, b in merges]
    pieces = {byte: bytes([byte]) for byte in range(256)}
    ids = raw
    for rank, pair in enumerate(merges):
        counts = pair_counts(ids)
        best = max(counts.values())
        if rank == 0 and counts.get(pair, 0) != best:
            once_per_word = [_once_per_word(words) for words in (text.split(), set(text.split()))]
            top = max(counts, key=counts.get)
            raise ExerciseIncorrect(
                f"{exercise}: the first merge should be the most frequent adjacent pair of bytes of the training text, "
                f"{_shown(top, pieces)}, which occurs {best} times; yours, {_shown(pair, pieces)}, occurs "
                f"{counts.get(pair, 0)} times. Count every occurrence of each pair over the whole text (a pair that "
                "occurs in many words, or twice in one word, counts each time)"
                + (", not once per word." if any(c.get(pair, 0) == max(c.values()) for c in once_per_word) else ".")
            )
        expect(
            pair[0] < 256 + rank and pair[1] < 256 + rank,
            f"{exercise}: merge {rank} is {pair}, but only ids below {256 + rank} exist then (the bytes and the "
            "earlier merges): merge k makes the id 256 + k.",
        )
        expect(
            counts.get(pair, 0) == best,
            f"{exercise}: after the first {rank} merges, merge {rank} should be a most frequent pair ({best} times), "
            f"but {_shown(pair, pieces)} occurs {counts.get(pair, 0)} times in the training text merged so far. "
            "After each merge, count the pairs again in the new sequence of ids (with the pair replaced).",
        )
        pieces[256 + rank] = pieces[pair[0]] + pieces[pair[1]]
        ids = replace_pair(ids, pair, 256 + rank)

    for sample in (*ROUND_TRIPS, held_out[:300]):
        back = decoded(encoded(sample, merges), merges)
        expect(
            back == sample,
            f"{exercise}: decode(encode(x)) should give x back; for x = {sample[:60]!r} it gave {back[:60]!r} "
            f"({len(sample.encode('utf-8'))} bytes in, {len(back.encode('utf-8'))} out). Join the bytes of every id "
            "and decode UTF-8 once at the end; a merge must neither lose nor repeat bytes.",
        )
    expect(
        encoded(text, merges) == ids,
        f"{exercise}: encoding the training text with its {BPE_MERGES} merges should give the ids training ended "
        "with (apply every merge, in order, to the whole text).",
    )

    few = call_answer(train_bpe, exercise, "train_bpe(the same text, 10)", text, 10)
    none = call_answer(train_bpe, exercise, "train_bpe(the same text, 0)", text, 0)
    expect(len(none) == 0, f"{exercise}: train_bpe(text, 0) should learn no merge; it returned {none!r}.")
    size = len(held_out.encode("utf-8"))
    ratios = [size / len(encoded(held_out, [tuple(m) for m in learned])) for learned in (none, few, merges)]
    expect(
        ratios[0] < ratios[1] < ratios[2],
        f"{exercise}: on held-out text, bytes per token should grow with the merges (0, 10, {BPE_MERGES}); yours "
        f"gives {', '.join(f'{r:.2f}' for r in ratios)}.",
    )
    shown = ", ".join(f"{r:.2f}" for r in ratios)
    print(f"bytes per token on the check's held-out text: {shown} with 0, 10 and {BPE_MERGES} merges")
    return passed(exercise)
