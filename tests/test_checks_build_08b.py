"""Notebook 08b's exercises: per-token accuracy (exercise 1) and build exercise 2, beam search. A right answer
written here (not the notebook's solution) passes, and each typical wrong answer fails with the sentence that
names it."""

from __future__ import annotations

import heapq

import numpy as np
import pytest

from helpers.checks import encoder_decoder as checks
from helpers.exercises import ExerciseIncorrect, NotAnswered
from helpers.lessons import encoder_decoder as lesson


# Exercise 1: per-token accuracy.
def token_accuracy(predicted, target, *, pads=False, ends=True, exact=False):
    predicted, target = np.asarray(predicted), np.asarray(target)
    if exact:
        return float(np.all((predicted == target) | (target == lesson.PAD), axis=1).mean())
    counted = np.ones_like(target, bool) if pads else target != lesson.PAD
    if not ends:
        counted &= target != lesson.END
    return np.sum((predicted == target) & counted) / np.sum(counted)


def test_token_accuracy_right_answer_passes() -> None:
    assert "correct" in checks.check_token_accuracy(token_accuracy)


@pytest.mark.parametrize(
    ("mistake", "sentence"),
    [({"pads": True}, "padding positions"), ({"ends": False}, "leave <end> out"), ({"exact": True}, "exact match")],
)
def test_token_accuracy_mistakes(mistake, sentence) -> None:
    with pytest.raises(ExerciseIncorrect, match=sentence):
        checks.check_token_accuracy(lambda p, t: token_accuracy(p, t, **mistake))
    with pytest.raises(NotAnswered):
        checks.check_token_accuracy(None)


# Build exercise 2: beam search, written with a heap and a log-sum-exp in NumPy, unlike the notebook's.
def beam_search(*, raw_logits=False, extend_finished=False, greedy=False):
    """A beam search function: right with the defaults; each keyword makes one typical mistake."""

    def search(model, source, beam_width, max_length):
        width = 1 if greedy else beam_width
        hypotheses = [(0.0, (lesson.START,))]
        for _ in range(max_length):
            live = [h for h in hypotheses if h[1][-1] != lesson.END or extend_finished]
            done = [h for h in hypotheses if h[1][-1] == lesson.END and not extend_finished]
            if not live:
                break
            sources = np.tile(np.asarray(source)[None], (len(live), 1))
            logits = np.asarray(model((sources, np.array([h[1] for h in live])))[:, -1], np.float64)
            if not raw_logits:
                top = logits.max(axis=1, keepdims=True)
                logits = logits - top - np.log(np.exp(logits - top).sum(axis=1, keepdims=True))
            extended = [
                (score + logits[i, t], (*tokens, t)) for i, (score, tokens) in enumerate(live) for t in range(13)
            ]
            hypotheses = heapq.nlargest(width, done + extended)
        return list(max(hypotheses)[1][1:])

    return search


@pytest.fixture(scope="module")
def small_model():
    """An untrained small transformer and a few held-out numbers with its greedy outputs."""
    from helpers.seeding import seed_everything

    seed_everything(0)
    model = lesson.Seq2SeqTransformer(16, 1, 2)
    task = lesson.number_task(lesson.draw_numbers(6, held_out=True, seed=0))
    return model, task, lesson.greedy_decode(model, task.source)


def run_check(answer, small_model):
    model, task, greedy = small_model
    return checks.check_beam_search(answer, model, task.source, task.target, greedy, max_length=6)


def test_beam_search_right_answer_passes(small_model) -> None:
    assert "correct" in run_check(beam_search(), small_model)


@pytest.mark.parametrize(
    ("mistake", "sentence"),
    [
        ({"greedy": True}, "keep both first digits"),
        ({"extend_finished": True}, "extend hypotheses that have already produced <end>"),
        ({"raw_logits": True}, "raw logits"),
    ],
)
def test_beam_search_mistakes(mistake, sentence, small_model) -> None:
    with pytest.raises(ExerciseIncorrect, match=sentence):
        run_check(beam_search(**mistake), small_model)
    with pytest.raises(NotAnswered):
        run_check(None, small_model)


def test_table_model_is_the_case_the_check_describes() -> None:
    table = checks.TableModel(finished_trap=False)
    p = table.next_probabilities
    best, greedy = p(lesson.START)[checks.TWO] * p(checks.TWO)[lesson.END], p(lesson.START)[checks.ONE]
    greedy *= p(checks.ONE)[checks.THREE] * p(checks.THREE)[lesson.END]
    assert best > 5 * greedy and np.argmax(p(lesson.START)) == checks.ONE
    assert np.argmax(p(checks.ONE)) == checks.THREE
