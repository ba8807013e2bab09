"""Exercise checks of notebook 09 (pretrained encoders): whole-word masking, mean pooling with a padding mask,
cosine top-k."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises import ExerciseIncorrect, call_answer, expect, expect_close, passed

MASKING_STORY = (  # WordPiece pieces of a short story, separated by spaces: three words are cut in pieces
    "[CLS] oil prices rose sharp ##ly after opec ministers agreed to cut out ##put , traders said [SEP] "
    "the un ##ex ##pected move sent brent crude to a four - month high [SEP] [PAD] [PAD] [PAD]"
)
MASKING_TOKENS = MASKING_STORY.split()
SPECIAL = {"[CLS]", "[SEP]", "[PAD]"}
MASKING_CALLS = 3000  # enough calls that a rate off by 0.03 is about 9 standard errors away


def words_of(tokens: list[str]) -> list[list[int]]:
    """The positions of each word: a piece not starting with ## and the ## pieces after it; no special tokens."""
    words: list[list[int]] = []
    for position, token in enumerate(tokens):
        if token in SPECIAL:
            continue
        if token.startswith("##") and words and words[-1][-1] == position - 1:
            words[-1].append(position)
        else:
            words.append([position])
    return words


def check_whole_word_masking(answer: Any) -> str:
    """Exercise 1: ``choose(tokens, rate, rng)``: a boolean per token, whole words chosen with probability ``rate``."""
    exercise = "Exercise 1 (whole-word masking)"
    tokens, rate = list(MASKING_TOKENS), 0.15
    rng = np.random.default_rng(11)
    called_on = f"the {len(tokens)} tokens of a story, rate 0.15 and a NumPy Generator"
    draws = []
    for _ in range(MASKING_CALLS):
        result = call_answer(answer, exercise, called_on, tokens, rate, rng)
        try:
            chosen = np.asarray(result, dtype=bool)
        except (TypeError, ValueError) as error:
            raise ExerciseIncorrect(f"{exercise}: return an array of booleans, got {result!r}") from error
        expect(
            chosen.shape == (len(tokens),),
            f"{exercise}: return one boolean per token, shape ({len(tokens)},); yours is {chosen.shape}.",
        )
        draws.append(chosen)
    chosen = np.array(draws)
    expect(
        len({row.tobytes() for row in chosen}) > 1,
        f"{exercise}: every call chose the same tokens: draw them "
        "with the generator you are given (rng.random(...)), not a fixed choice or a new seed each time.",
    )
    special = np.array([token in SPECIAL for token in tokens])
    expect(not chosen[:, special].any(), f"{exercise}: [CLS], [SEP] and [PAD] must never be chosen.")
    words = words_of(tokens)
    split = [positions for positions in words if len(positions) > 1]
    for positions in split:
        pieces = chosen[:, positions]
        expect(
            (pieces == pieces[:, :1]).all(),
            f"{exercise}: the pieces of '{''.join(tokens[p].removeprefix('##') for p in positions)}' "
            f"({', '.join(tokens[p] for p in positions)}) were not always chosen together: a ## piece belongs "
            "to the word before it.",
        )
    word_rate = chosen[:, [positions[0] for positions in words]].mean()
    expect(
        abs(word_rate - rate) < 0.03,
        f"{exercise}: {word_rate:.1%} of the words were chosen, over {MASKING_CALLS} calls; expected about "
        f"{rate:.0%}. Choose each word (not each piece) with probability rate.",
    )
    long_word_rate = chosen[:, [positions[0] for positions in split]].mean()
    expect(
        abs(long_word_rate - rate) < 0.03,
        f"{exercise}: words of several pieces were chosen {long_word_rate:.1%} of the time, the others "
        f"{word_rate:.1%}: a word must have the same chance whatever its number of pieces (did you choose pieces "
        "and then extend the choice to their words?).",
    )
    return passed(exercise)


def pooling_case() -> tuple[np.ndarray, np.ndarray]:
    """Token vectors (2, 5, 4) whose padding positions hold huge values, and their padding mask."""
    rng = np.random.default_rng(9)
    vectors = rng.normal(size=(2, 5, 4))
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    vectors[0, 3:] = 100.0  # what padding tokens' vectors may be: anything
    return vectors, mask


def check_mean_pooling(answer: Any) -> str:
    """Exercise 2: ``mean_pool(token_vectors, padding_mask)``: the mean of the real tokens' vectors."""
    exercise = "Exercise 2 (mean pooling with a padding mask)"
    vectors, mask = pooling_case()
    result = np.asarray(call_answer(answer, exercise, "vectors (2, 5, 4) and a mask (2, 5)", vectors, mask), float)
    expect(result.shape == (2, 4), f"{exercise}: one vector per sentence, shape (2, 4); yours is {result.shape}.")
    expected = (vectors * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
    expect(
        not np.allclose(result, vectors.mean(axis=1)),
        f"{exercise}: you averaged over every position, padding included: multiply by the mask first.",
    )
    expect(
        not np.allclose(result, (vectors * mask[:, :, None]).mean(axis=1)),
        f"{exercise}: the padding is masked out, but you divided by the full length (5): divide by the number of "
        "real tokens, mask.sum(axis=1).",
    )
    expect(
        not np.allclose(np.linalg.norm(result, axis=1), 1.0) or np.allclose(np.linalg.norm(expected, axis=1), 1.0),
        f"{exercise}: return the mean itself; normalising to length 1 is the next step, not part of pooling.",
    )
    expect_close(result, expected, f"{exercise}: the pooled vectors", rtol=1e-6, atol=1e-8)
    return passed(exercise)


def cosine_case() -> tuple[np.ndarray, np.ndarray]:
    """Queries (3, 6) and a corpus (20, 6) of vectors of very different lengths (not normalised)."""
    rng = np.random.default_rng(10)
    corpus = rng.normal(size=(20, 6)) * rng.uniform(0.1, 10.0, size=(20, 1))
    queries = rng.normal(size=(3, 6)) * np.array([[0.5], [3.0], [20.0]])
    return queries, corpus


def check_cosine_top_k(answer: Any) -> str:
    """Exercise 3: ``top_k(queries, corpus, k)``: indices of the k corpus rows nearest in cosine, nearest first."""
    exercise = "Exercise 3 (cosine top-k)"
    queries, corpus = cosine_case()
    k = 4
    result = call_answer(answer, exercise, "queries (3, 6), a corpus (20, 6) and k = 4", queries, corpus, k)
    try:
        indices = np.asarray(result).astype(int)
    except (TypeError, ValueError) as error:
        raise ExerciseIncorrect(f"{exercise}: return an integer array of indices, got {result!r}") from error
    expect(
        indices.shape == (3, k),
        f"{exercise}: return shape (3, {k}), one row of {k} indices per query; yours is {indices.shape}.",
    )
    unit_queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    unit_corpus = corpus / np.linalg.norm(corpus, axis=1, keepdims=True)
    cosines = unit_queries @ unit_corpus.T
    expected = np.argsort(-cosines, axis=1)[:, :k]
    dot_products = np.argsort(-(queries @ corpus.T), axis=1)[:, :k]
    expect(
        not np.array_equal(indices, dot_products) or np.array_equal(dot_products, expected),
        f"{exercise}: these are the largest dot products: long vectors win whatever their direction. Divide "
        "queries and corpus rows by their lengths first (cosine).",
    )
    expect(
        not np.array_equal(indices, expected[:, ::-1]),
        f"{exercise}: the right {k} rows, in the wrong order: the nearest comes first.",
    )
    expect(
        not np.array_equal(indices, np.argsort(cosines, axis=1)[:, :k]),
        f"{exercise}: these are the {k} LEAST similar rows: sort by decreasing cosine.",
    )
    expect(
        np.array_equal(indices, expected),
        f"{exercise}: for the queries {np.flatnonzero((indices != expected).any(axis=1)).tolist()} the indices are "
        f"not the {k} largest cosines in decreasing order.",
    )
    return passed(exercise)
