"""The course's shipped weights (helpers/weights/, from `make weights`) fit today's code and score their record."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from coursetools import weights
from helpers.datasets import course_weights, shakespeare
from helpers.lessons import gpt

# Scoring on this machine against the figures recorded by `make weights` (float16 weights, the same
# code): the same arithmetic up to the order of float32 sums, so far below a thousandth of a bit.
TOLERANCE_BITS = 1e-3
SHIPPED = sorted(path.stem for path in course_weights.WEIGHTS_DIR.glob("*.npz"))


def test_every_shipped_weights_file_has_its_record_and_the_total_stays_small() -> None:
    assert SHIPPED == [
        "diffusion_digits", "dqn_cartpole", "gan_digits", "gpt_shakespeare", "lora_r8_topics", "lstm_shakespeare",
        "mlm_r8", "seq2seq_lstm", "seq2seq_transformer", "vae_digits",
    ]  # fmt: skip
    for name in SHIPPED:
        record = course_weights.read_record(name)
        assert {"commit", "seed", "plan", "figures", "made by"} <= set(record), record.keys()
        assert "steps" in record or "epochs" in record, f"{name}: how long it trained is not recorded"
        assert not record["uncommitted changes"], f"{name} was made from uncommitted code"
    total = sum(path.stat().st_size for path in course_weights.WEIGHTS_DIR.iterdir())
    # 08-14's weights came to about 15 MB; 16's VAE, GAN generator and diffusion model add 1.3 MB
    assert total < 20e6, f"the shipped weights take {total / 1e6:.1f} MB"


@pytest.fixture(scope="module")
def plays() -> dict[str, np.ndarray]:
    texts = shakespeare.load_plays()
    split = shakespeare.split_plays(texts, train_limit=None)
    vocabulary = shakespeare.CharVocabulary.from_texts(texts.values())
    return {"vocabulary size": len(vocabulary), "validation": vocabulary.encode(split.validation),
            "test": vocabulary.encode(split.test)}  # fmt: skip


@pytest.mark.parametrize("name", ["gpt_shakespeare", "lstm_shakespeare"])
def test_08s_models_load_into_todays_code_and_score_their_recorded_bits(name: str, plays: dict) -> None:
    model = weights.shakespeare_model(name, plays["vocabulary size"])
    record = course_weights.load_weights(model, name)
    scorer = gpt.CharacterScorer(model, gpt.gpt_plan("full").context)
    scored = record["scored characters"]
    for play in ("validation", "test"):
        recorded = record["figures"][f"{play} bits/char, first {scored:,} characters"]
        assert scorer(plays[play][:scored]) == pytest.approx(recorded, abs=TOLERANCE_BITS), (name, play)


@pytest.mark.parametrize("name", ["seq2seq_transformer", "seq2seq_lstm"])
def test_08bs_models_load_into_todays_code_and_decode_their_recorded_exact_match(name: str) -> None:
    from helpers.lessons import encoder_decoder

    test = encoder_decoder.held_out_task(encoder_decoder.seq2seq_plan("full"), weights.SEED)
    model = weights.seq2seq_model(name)
    record = course_weights.load_weights(model, name)
    task = test.every(weights.SCORED_STRIDE)
    matches = encoder_decoder.exact_matches(encoder_decoder.greedy_decode(model, task.source), task)
    recorded = record["figures"][f"exact match, every {weights.SCORED_STRIDE}th number"]
    assert abs(matches.mean() - recorded) <= 1.01 / len(task.numbers), "at most one number decodes otherwise"


def test_12s_dqn_loads_into_todays_code_and_scores_its_recorded_test_return() -> None:
    from helpers.lessons import rl

    plan = rl.rl_plan("full").dqn
    network = rl.q_network(4, 2, plan.hidden_units, "online")
    record = course_weights.load_weights(network, "dqn_cartpole")
    returns = np.array(weights.dqn_test_returns(network, plan))
    # The same greedy actions on the same seeded episodes: identical returns, unless float32 sums on another
    # machine flip a near-tie between the two actions somewhere; a point of mean return allows for that.
    assert returns.mean() == pytest.approx(record["figures"]["mean test return"], abs=1.0)


def test_09s_pretrained_encoder_loads_into_todays_code_and_scores_its_recorded_accuracy() -> None:
    from helpers.lessons import encoders

    plan = encoders.encoder_plan("full")
    _, test, vocabulary_size = weights.r8_stories(plan)
    model = encoders.masked_language_model(vocabulary_size, plan)
    record = course_weights.load_weights(model, "mlm_r8")
    recorded = record["figures"]["masked-token accuracy, test stories"]
    assert weights.masked_token_accuracy(model, test.ids) == pytest.approx(recorded, abs=1e-3)


def test_14s_lora_adapter_loads_into_todays_code_and_scores_its_recorded_accuracy() -> None:
    from helpers.datasets.registry import smollm2_file
    from helpers.lessons import llm
    from helpers.lessons import llm_adaptation as lesson
    from helpers.serving.adapters import PROJECTIONS, read_lora

    smollm = llm.read_gguf(smollm2_file())
    adapter = read_lora(course_weights.weights_path("lora_r8_topics"))
    model = lesson.lora_llama(smollm.config, smollm.weights, adapter.rank, adapter.alpha, PROJECTIONS)
    lesson.load_adapter(model, adapter)
    record = course_weights.read_record("lora_r8_topics")
    found = weights.topic_accuracy(model, llm.gguf_tokenizer(smollm), ("fast",))
    # The same 32 stories scored with the same weights: the same answers unless float32 sums on another
    # machine flip a near-tie between two topics; one story (1/32) allows for that.
    for figure, value in found.items():
        assert value == pytest.approx(record["figures"][figure], abs=1 / 32 + 1e-9), figure



@pytest.mark.parametrize("name", weights.DIGIT_MODELS)
def test_16s_generators_load_into_todays_code_and_draw_their_recorded_samples(name: str) -> None:
    _, shipped, steps = weights.digits_model(name)
    record = course_weights.load_weights(shipped, name)
    assert record["steps"] == steps and len(record["fid curve"]) == steps // weights.FID_EVERY
    samples = weights.digit_samples(name, shipped, record["scored samples"])
    assert samples.shape == (record["scored samples"], 28, 28, 1)
    assert float(samples.mean()) == pytest.approx(record["figures"]["mean pixel"], abs=1e-3)
    assert float(samples.std()) == pytest.approx(record["figures"]["pixel spread"], abs=1e-3)

def test_a_weights_file_that_no_longer_fits_the_code_fails_with_what_to_do(tmp_path: Path) -> None:
    def tiny(width: int) -> keras.Model:
        model = gpt.GPT(6, 8, width, 1, 2)
        model(tf.zeros((1, 8), tf.int32))
        return model

    course_weights.save_weights(tiny(8), "tiny", {"figures": {}}, folder=tmp_path)
    same = tiny(8)
    assert course_weights.load_weights(same, "tiny", folder=tmp_path) == {"figures": {}}
    with pytest.raises(course_weights.WeightsMismatchError, match=r"is \(6, 8\) in the file, \(6, 16\).*make weights"):
        course_weights.load_weights(tiny(16), "tiny", folder=tmp_path)
    deeper = gpt.GPT(6, 8, 8, 2, 2)
    deeper(tf.zeros((1, 8), tf.int32))
    with pytest.raises(course_weights.WeightsMismatchError, match=r"holds .* weights, the model .* has"):
        course_weights.load_weights(deeper, "tiny", folder=tmp_path)
    with pytest.raises(FileNotFoundError, match="make weights"):
        course_weights.load_weights(same, "missing", folder=tmp_path)


def test_weights_round_trip_through_float16(tmp_path: Path) -> None:
    model = gpt.GPT(6, 8, 8, 1, 2)
    model(tf.zeros((1, 8), tf.int32))
    course_weights.save_weights(model, "tiny", {}, folder=tmp_path)
    copy = gpt.GPT(6, 8, 8, 1, 2)
    copy(tf.zeros((1, 8), tf.int32))
    course_weights.load_weights(copy, "tiny", folder=tmp_path)
    for original, loaded in zip(model.weights, copy.weights, strict=True):
        np.testing.assert_allclose(loaded.numpy(), original.numpy(), rtol=1e-3, atol=1e-4)
