"""Exercise checks of notebook 08b (encoder-decoder): per-token accuracy against exact match, and build
exercise 2, beam search.

Beam search is judged by what it returns: on small hand-made models whose next-token probabilities are
known (greedy decoding is wrong on them, a finished hypothesis must not be extended, and the logits carry
a constant that a softmax removes but a sum of raw logits does not), then on the notebook's trained model
against greedy decoding. Known mistakes get a sentence of their own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises import as_number, call_answer, expect, passed, require_answer

PAD, START, END = 0, 1, 2  # as in helpers.lessons.encoder_decoder
VOCABULARY = 13  # <pad>, <start>, <end> and the digits 0 to 9
ONE, TWO, THREE = 3 + 1, 3 + 2, 3 + 3  # the ids of the digits 1, 2 and 3


def check_token_accuracy(answer: Any) -> str:
    """Exercise 1: ``answer(predicted, target)``: the share of the target's real tokens (digits and <end>, not
    padding) that the prediction has right, position by position."""
    exercise = "Exercise 1 (per-token accuracy)"
    target = np.array([[ONE, TWO, THREE, END, PAD, PAD], [THREE, END, PAD, PAD, PAD, PAD]])
    predicted = np.array([[ONE, TWO, TWO, END, PAD, PAD], [THREE, END, PAD, PAD, PAD, PAD]])
    value = as_number(
        call_answer(answer, exercise, "two predictions of 6 tokens and their targets", predicted, target),
        exercise,
        "the accuracy",
    )
    real = target != PAD
    expected = float((predicted == target)[real].mean())  # 5 of 6
    expect(
        not np.isclose(value, float((predicted == target).mean())),
        f"{exercise}: you count the padding positions too ({value:.3f}): only the target's real tokens count, "
        "its digits and <end> (target != PAD).",
    )
    digits = real & (target != END)
    expect(
        not np.isclose(value, float((predicted == target)[digits].mean())),
        f"{exercise}: you leave <end> out ({value:.3f}): stopping at the right place is part of the answer, "
        "count <end> as a token.",
    )
    expect(
        not np.isclose(value, 0.5),
        f"{exercise}: that is exact match (0.5: one of the two rows is entirely right); per-token accuracy counts "
        "each position on its own.",
    )
    expect(
        np.isclose(value, expected), f"{exercise}: expected {expected:.4f} (5 of the 6 real tokens), got {value:.4f}."
    )
    return passed(exercise)


class TableModel:
    """A stand-in for a trained model, called like one: ``model((sources, prefixes))`` gives logits
    (rows, prefix length, 13). The next token's probabilities depend on the last token only:

    * after <start>: 1 with 0.5, 2 with 0.4 (greedy takes 1);
    * after 1: 3 with 0.12, <end> with 0.1, the other digits share the rest;
    * after 2 (or any other digit): <end> with 0.95;
    * once an <end> has been read: uniform over all 13 tokens (``finished_trap``) or <end> again with 0.999.

    The best sequence is 2 <end> (0.38); greedy's is 1 3 <end> (0.057). ``shift`` adds a constant to the
    logits after 1 (a softmax removes it; summing raw logits does not).
    """

    def __init__(self, finished_trap: bool, shift: float = 0.0) -> None:
        self.finished_trap, self.shift = finished_trap, shift
        self.calls = 0

    def next_probabilities(self, last: int) -> np.ndarray:
        p = np.full(VOCABULARY, 1e-6)
        if last == START:
            p[3:] = 0.1 / 8
            p[ONE], p[TWO] = 0.5, 0.4
        elif last == ONE:
            p[3:], p[THREE], p[END] = 0.78 / 9, 0.12, 0.1
        elif last == END:
            p[:] = 1 / VOCABULARY if self.finished_trap else 1e-4
            if not self.finished_trap:
                p[END] = 0.999
        else:
            p[3:], p[END] = 0.05 / 10, 0.95
        return p / p.sum()

    def __call__(self, inputs: Any, training: bool = False) -> np.ndarray:
        self.calls += 1
        _, prefixes = inputs
        prefixes = np.asarray(prefixes)
        ended = np.cumsum(prefixes == END, axis=1) > 0  # after an <end>, whatever the later tokens
        rows = [
            [self.next_probabilities(END if done else int(token)) for token, done in zip(row, flags, strict=True)]
            for row, flags in zip(prefixes, ended, strict=True)
        ]
        return (np.log(np.array(rows)) + self.shift * (prefixes == ONE)[..., None]).astype(np.float32)


def until_end(tokens: Any) -> list[int]:
    """The tokens up to and including the first <end>."""
    found = []
    for token in np.asarray(tokens).reshape(-1).tolist():
        found.append(int(token))
        if token == END:
            break
    return found


def check_beam_search(
    answer: Any,
    model: Any,
    sources: np.ndarray,
    targets: np.ndarray,
    greedy: np.ndarray,
    max_length: int,
    max_loss: float = 0.02,
) -> str:
    """Build exercise 2: ``answer(model, source, beam_width, max_length)``: the tokens after <start> of the
    hypothesis with the highest total log-probability, up to and including <end>.

    On :class:`TableModel` (source ignored): width 1 gives greedy's 1 3 <end>; width 2 finds 2 <end>, also when
    a finished hypothesis pays for each token added after <end>, and when the logits carry a constant. On the
    notebook's ``model``: width 1 reproduces ``greedy`` (its greedy outputs on ``sources``), and width 3 loses at
    most ``max_loss`` of greedy's exact matches of ``targets`` (it may gain some)."""
    exercise = "Build exercise 2 (beam search)"
    require_answer(answer, exercise)
    source = np.zeros(4, np.int32)

    def search(table: Any, width: int, what: str, row: np.ndarray = source) -> list[int]:
        return until_end(
            call_answer(answer, exercise, f"{what} with beam width {width}", table, row, width, max_length)
        )

    greedy_path, best = [ONE, THREE, END], [TWO, END]
    found = search(TableModel(finished_trap=False), 1, "a hand-made model")
    expect(
        found == greedy_path,
        f"{exercise}: with beam width 1, beam search is greedy decoding: 1 3 <end> on this model "
        f"(1 is the likelier first digit), ids {greedy_path}; yours gave {found}.",
    )
    found = search(TableModel(finished_trap=False), 2, "a hand-made model")
    expect(
        found == best,
        f"{exercise}: with beam width 2 the search should keep both first digits, 1 (0.5) and 2 (0.4), and find "
        f"2 <end> (0.4 × 0.95 = 0.38) ahead of 1 3 <end> (0.5 × 0.12 × 0.95 = 0.057), ids {best}; yours gave "
        f"{found}. Keep the beam_width best hypotheses at every step, ranked by their total log-probability.",
    )
    found = search(TableModel(finished_trap=True), 2, "a hand-made model where tokens after <end> cost")
    expect(
        found == best,
        f"{exercise}: you extend hypotheses that have already produced <end>: their log-probability falls with every "
        "token added after it, and the better answer 2 <end> is lost. A hypothesis that ends with <end> is finished: "
        f"keep it as it is (score unchanged) and compare it with the others at the end. Yours gave {found}.",
    )
    found = search(TableModel(finished_trap=False, shift=5.0), 2, "a hand-made model whose logits carry a constant")
    expect(
        found == best,
        f"{exercise}: you add up raw logits: a model's logits are only defined up to a constant per row, which the "
        "softmax removes. Add log-probabilities: tf.nn.log_softmax of the logits (or np.log of the softmax). "
        f"Yours gave {found}.",
    )
    narrow = [until_end(search(model, 1, "the notebook's model", row)) for row in sources]
    expected = [until_end(row[:max_length]) for row in greedy]
    expect(
        narrow == expected,
        f"{exercise}: with beam width 1 on the notebook's model, your search differs from greedy_decode on "
        f"{sum(a != b for a, b in zip(narrow, expected, strict=True))} of {len(sources)} numbers.",
    )
    answers = [until_end(row) for row in targets]
    wide = [search(model, 3, "the notebook's model", row) for row in sources]
    greedy_share = np.mean([a == b for a, b in zip(expected, answers, strict=True)])
    beam_share = np.mean([a == b for a, b in zip(wide, answers, strict=True)])
    print(f"exact match on {len(sources)} held-out numbers: greedy {greedy_share:.3f}, beam width 3 {beam_share:.3f}")
    expect(
        beam_share >= greedy_share - max_loss,
        f"{exercise}: with beam width 3 your search gets {beam_share:.3f} of the numbers exactly right, greedy "
        f"{greedy_share:.3f}: a wider beam keeps greedy's hypothesis among its candidates and should not lose this "
        "much. Rank the hypotheses by their total log-probability and return the best finished one.",
    )
    return passed(exercise)
