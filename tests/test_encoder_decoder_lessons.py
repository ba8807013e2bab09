"""Notebook 08b's lesson code (helpers.lessons.encoder_decoder): the synthetic task, teacher forcing, the models
at initialisation, greedy decoding and exact match, and the figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers.figures import encoder_decoder as figures
from helpers.lessons import encoder_decoder as lesson

SMALL = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
SMALL |= {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16}
SMALL |= {"seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}
SMALL |= {"sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
POWERS = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12, "quadrillion": 10**15}


def parse(words: list[str]) -> int:
    """Words back to a number, written independently of the lesson's generator."""
    total = group = 0
    for word in words:
        if word in SMALL:
            group += SMALL[word]
        elif word == "hundred":
            group *= 100
        elif word in POWERS:
            total, group = total + group * POWERS[word], 0
        else:
            assert word == "and"
    return total + group


def test_number_words_read_back_to_the_number() -> None:
    assert " ".join(lesson.number_words(312_005)) == "three hundred and twelve thousand five"
    assert " ".join(lesson.number_words(1_000_019)) == "one million nineteen"
    assert len(lesson.number_words(777_777_777_777_777_777)) == lesson.MAX_WORDS
    for number in lesson.draw_numbers(2000, held_out=False, seed=3):
        words = lesson.number_words(int(number))
        assert parse(words) == number and set(words) <= set(lesson.SOURCE_WORDS[1:])


def test_held_out_numbers_are_a_fixed_tenth_never_drawn_for_training() -> None:
    numbers = np.arange(1, 200_001)
    assert 0.09 < lesson.is_held_out(numbers).mean() < 0.11
    train = lesson.draw_numbers(20_000, held_out=False, seed=0)
    test = lesson.draw_numbers(2_000, held_out=True, seed=1)
    assert not np.intersect1d(train, test).size and lesson.is_held_out(test).all()
    digits = np.array([len(str(number)) for number in train])
    assert digits.min() == 1 and digits.max() == lesson.MAX_DIGITS
    assert np.bincount(digits)[1:].min() > 0.8 * len(train) / lesson.MAX_DIGITS  # uniform in the count of digits
    again = lesson.draw_numbers(20_000, held_out=False, seed=0)
    assert np.array_equal(train, again)


def test_teacher_forcing_input_is_the_target_shifted_right() -> None:
    task = lesson.number_task(np.array([305, 7]))
    assert lesson.digits_text(task.target[0]) == "305" and lesson.digits_text(task.target[1]) == "7"
    decoder_input = task.decoder_input()
    assert decoder_input[:, 0].tolist() == [lesson.START, lesson.START]
    assert np.array_equal(decoder_input[0, 1:4], task.target[0, :3])
    assert lesson.END not in decoder_input and decoder_input.shape == task.target.shape


class Oracle:
    """Logits that always favour the right next token of each source (a perfect model)."""

    def __init__(self, task: lesson.NumberTask) -> None:
        self.answers = {row.tobytes(): target for row, target in zip(task.source, task.target, strict=True)}

    def __call__(self, inputs, training: bool = False) -> np.ndarray:
        sources, prefixes = (np.asarray(part) for part in inputs)
        logits = np.zeros((*prefixes.shape, len(lesson.TARGET_TOKENS)), np.float32)
        for row, source in enumerate(sources):
            target = self.answers[source.tobytes()]
            logits[row, np.arange(prefixes.shape[1]), target[: prefixes.shape[1]]] = 5.0
        return logits


def test_greedy_decoding_of_a_perfect_model_is_an_exact_match_everywhere() -> None:
    task = lesson.number_task(lesson.draw_numbers(40, held_out=True, seed=5))
    output = lesson.greedy_decode(Oracle(task), task.source, batch_size=16)
    assert output.shape == (len(task.numbers), lesson.MAX_TARGET)
    assert lesson.exact_matches(output, task).all()
    wrong = output.copy()
    wrong[0, 0] = lesson.TARGET_TOKENS.index("0") if output[0, 0] != lesson.TARGET_TOKENS.index("0") else 4
    wrong[1, len(str(task.numbers[1]))] = lesson.TARGET_TOKENS.index("1")  # a digit where <end> belongs
    assert lesson.exact_matches(wrong, task).tolist()[:3] == [False, False, True]
    by_length = lesson.accuracy_by_length(lesson.exact_matches(output, task), task)
    assert list(by_length) == lesson.bucket_names() and all(v == 1.0 for v in by_length.values() if v == v)


@pytest.mark.parametrize("name", lesson.MODELS)
def test_both_models_start_near_uniform_guessing(name: str) -> None:
    import keras

    plan = lesson.seq2seq_plan("fast")
    task = lesson.number_task(lesson.draw_numbers(128, held_out=False, seed=2))
    model = lesson.new_model(name, plan)
    logits = model((task.source, task.decoder_input()))
    assert tuple(logits.shape) == (128, lesson.MAX_TARGET, len(lesson.TARGET_TOKENS))
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=lesson.PAD)
    assert abs(float(loss(task.target, logits)) - np.log(len(lesson.TARGET_TOKENS))) < 0.1


def test_cross_attention_maps_sum_to_one_over_the_real_source_words() -> None:
    model = lesson.Seq2SeqTransformer(16, 2, 2)
    task = lesson.number_task(np.array([12_345_678]))
    maps = lesson.cross_attention_maps(model, task.source[0], task.target[0][:9])
    assert maps.shape == (2, 9, task.source_lengths[0]) and np.allclose(maps.sum(axis=-1), 1.0, atol=1e-5)


def test_figures_draw() -> None:
    for figure in (figures.encoder_decoder_figure(), figures.lstm_bottleneck_figure()):
        text = " ".join(item.get_text() for item in figure.axes[0].texts)
        assert len(figure.axes[0].patches) >= 5 and ("cross-attention" in text or "final state" in text)
        plt.close(figure)
    figure = figures.accuracy_by_length_figure({"a": [1, 0.5, 0.2, 0.1]}, lesson.bucket_names())
    plt.close(figure)
    figure = figures.cross_attention_figure(np.full((2, 3, 4), 0.25), list("abcd"), list("123"))
    assert len(figure.axes) == 2
    plt.close(figure)
