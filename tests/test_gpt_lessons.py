"""helpers.lessons.gpt, the lesson code of notebook 08 that benchmarks/gpt.py reuses, on tiny inputs."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import keras
import numpy as np
import pytest

from coursetools import export
from helpers.lessons import gpt

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "08_gpt.ipynb"


def test_the_generated_module_is_the_notebooks_export_cells() -> None:
    assert export.render(NOTEBOOK) == (ROOT / "helpers" / "lessons" / "gpt.py").read_text(encoding="utf-8"), (
        "helpers/lessons/gpt.py is stale: run make export"
    )


def test_plans_fast_is_smaller_than_full() -> None:
    fast, full = gpt.gpt_plan("fast"), gpt.gpt_plan("full")
    assert fast.steps < full.steps and fast.width < full.width and fast.context < full.context
    assert full.train_characters is None and full.steps % full.evaluations == 0


def test_ngram_probabilities_sum_to_one_and_learn_a_pattern() -> None:
    ids = np.array([1, 2, 3] * 50 + [1, 3, 2], dtype=np.int64)
    model = gpt.CharNgram(ids, vocabulary_size=5, max_order=3)
    for context in ([1], [1, 2], [4, 4], []):  # seen, seen, never seen, empty
        # the model is causal: bits of (context, c) minus bits of the context alone are the bits of c
        before = model.bits_table(np.array(context), (0.7,))[0, -1] * len(context) if context else 0.0
        probabilities = [
            2.0 ** -(model.bits_table(np.array([*context, c]), (0.7,))[0, -1] * (len(context) + 1) - before)
            for c in range(5)
        ]
        assert sum(probabilities) == pytest.approx(1.0, abs=1e-9), (context, probabilities)
    table = model.bits_table(np.array([1, 2, 3] * 10), (0.5, 0.9))
    assert table.shape == (2, 3)
    assert table[0, 2] < table[0, 0] - 1.0, "the 3-gram should know that 2 follows 1 and 3 follows 2"


def test_evaluation_windows_score_every_character_after_the_first_once() -> None:
    ids = np.arange(1000)  # every id once: a window's first id is its start
    for context in (8, 16, 64):
        inputs, targets, weights = gpt.evaluation_windows(ids, context)
        assert inputs.shape == targets.shape == weights.shape and inputs.shape[1] == context
        scored = [int(inputs[row, 0]) + 1 + j for row in range(len(inputs)) for j in np.flatnonzero(weights[row])]
        assert sorted(scored) == list(range(1, len(ids))), context
        assert np.array_equal(targets[:, :-1], inputs[:, 1:])


def test_gpt_parameters_causality_and_kv_cache() -> None:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    model = gpt.GPT(vocabulary_size=11, context=12, width=16, layers=2, heads=4)
    ids = tf.constant(np.random.default_rng(0).integers(0, 11, size=(2, 12)), tf.int32)
    logits = model(ids).numpy()
    assert model.count_params() == gpt.gpt_parameter_count(11, 12, 16, 2)
    changed = ids.numpy().copy()
    changed[:, 7] = (changed[:, 7] + 1) % 11
    later = model(tf.constant(changed)).numpy()
    assert np.allclose(later[:, :7], logits[:, :7], atol=1e-5), "a later token changed earlier logits"
    assert not np.allclose(later[:, 7:], logits[:, 7:], atol=1e-5)
    # the cache reproduces the full forward pass, one token at a time
    _, caches = gpt.prefill(model, ids[:, :5])
    padded = [tf.pad(cache, ((0, 0), (0, 0), (0, 7), (0, 0))) for cache in caches]
    step_logits, _ = gpt.decode_step(model, ids[:, 5], tf.constant(5), tuple(padded))
    assert np.allclose(step_logits.numpy(), logits[:, 5], atol=1e-4)
    generator = gpt.Generator(model)
    prompt = [1, 2, 3]
    assert generator.generate(prompt, 30, gpt.make_picker(), cache=True) == generator.generate(
        prompt, 30, gpt.make_picker(), cache=False
    ), "greedy tokens differ with and without the cache (30 tokens: the window restarts twice)"
    sampled = [
        generator.generate(prompt, 30, gpt.make_picker(np.random.default_rng(3), top_p=0.9), cache=cache)
        for cache in (True, False)
    ]
    assert sampled[0] == sampled[1]
    python_loop = generator.generate(prompt, 30, gpt.make_picker(), cache=True)
    for cache in (True, False):
        assert gpt.greedy_in_one_function(generator, prompt, 30, cache) == python_loop, (
            f"the loop in one XLA function (cache {cache}) should give generate's greedy tokens, restarts included"
        )


def test_filter_logits_temperature_top_k_top_p() -> None:
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    assert np.allclose(gpt.filter_logits(logits), [0.5, 0.3, 0.15, 0.05])
    assert np.allclose(gpt.filter_logits(logits, top_k=2), [0.625, 0.375, 0, 0])
    assert np.allclose(gpt.filter_logits(logits, top_p=0.7), [0.625, 0.375, 0, 0])
    assert np.allclose(gpt.filter_logits(logits, top_p=0.81), [0.5, 0.3, 0.15, 0] / np.float64(0.95))
    sharp = gpt.filter_logits(logits, temperature=0.5)
    assert sharp[0] > 0.5 and np.isclose(sharp.sum(), 1)
    assert gpt.make_picker()(logits) == 0


def test_lstm_units_match_a_parameter_budget_and_the_model_round_trips(tmp_path: Path) -> None:
    import keras
    import tensorflow as tf

    units = gpt.lstm_units_for(100_000, 78)
    assert abs(gpt.lstm_language_model(78, units, units).count_params() - 100_000) < 2_000
    model = gpt.GPT(vocabulary_size=9, context=8, width=8, layers=1, heads=2)
    ids = tf.constant([[1, 2, 3, 4]])
    before = model(ids).numpy()
    model.save(tmp_path / "gpt.keras")
    reloaded = keras.saving.load_model(tmp_path / "gpt.keras")
    assert isinstance(reloaded, gpt.GPT) and np.allclose(reloaded(ids).numpy(), before, atol=1e-6)


def tiny_plan(**changes) -> gpt.GptPlan:
    """Notebook 08's fast plan shrunk to a 1-block GPT on an 8-character context, with ``changes``."""
    return dataclasses.replace(gpt.gpt_plan("fast"), **{"context": 8, "width": 8, "layers": 1, "heads": 2, **changes})


def test_training_lowers_the_loss_on_a_repeating_text() -> None:
    ids = np.array(list(range(6)) * 300, dtype=np.int32)
    plan = tiny_plan(width=16, steps=40, evaluations=2, warmup_steps=4, curve_characters=None, batch_size=8)
    model = gpt.GPT(6, plan.context, plan.width, plan.layers, plan.heads)
    log = gpt.train_language_model(model, ids, ids[:200], plan, seed=0)
    assert len(log.rows) == 2 and log.rows[-1]["validation bits/char"] < 1.0 < np.log2(6)


def test_training_runs_exactly_the_planned_steps_and_samples_at_the_last_epoch() -> None:
    ids = np.array(list(range(6)) * 100, dtype=np.int32)
    plan = tiny_plan(steps=12, evaluations=3, warmup_steps=2, batch_size=4)
    model = gpt.GPT(6, plan.context, plan.width, plan.layers, plan.heads)
    samples = []
    log = gpt.train_language_model(model, ids, ids[:100], plan, seed=0, sampler=samples.append, sample_epochs=(3,))
    assert [row["step"] for row in log.rows] == [4, 8, 12] and log.steps_done == 12
    assert len(samples) == 1 and list(log.samples) == [12]
    assert log.training_seconds > 0


def test_a_plan_whose_steps_do_not_divide_into_its_evaluations_is_refused() -> None:
    with pytest.raises(ValueError, match="multiple of evaluations"):
        tiny_plan(steps=10, evaluations=3)


def trained_weights(slowdown: keras.callbacks.Callback | None = None) -> list[np.ndarray]:
    """The weights of a tiny GPT after 30 steps from seed 0, with ``slowdown`` delaying every step."""
    ids = np.array(list(range(6)) * 100, dtype=np.int32)
    plan = tiny_plan(steps=30, evaluations=2, warmup_steps=3, batch_size=4, curve_characters=None)
    keras.utils.set_random_seed(0)
    model = gpt.GPT(6, plan.context, plan.width, plan.layers, plan.heads)
    model.compile(optimizer=keras.optimizers.AdamW(plan.peak_learning_rate), loss="sparse_categorical_crossentropy")
    log = gpt.TrainingLog(ids[:100], plan)
    data = gpt.window_dataset(ids, plan.context, plan.batch_size, seed=0)
    callbacks = [log] if slowdown is None else [slowdown, log]
    steps_per_epoch = plan.steps // plan.evaluations
    model.fit(data, epochs=plan.evaluations, steps_per_epoch=steps_per_epoch, callbacks=callbacks, verbose=0)
    assert log.steps_done == plan.steps
    return [weight.numpy() for weight in model.weights]


def test_the_same_seed_gives_the_same_weights_on_a_loaded_machine_with_a_slow_clock(monkeypatch) -> None:
    import time

    from conftest import busy_machine

    quiet = trained_weights()

    class Slow(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            time.sleep(0.01)

    real_clock = time.perf_counter
    monkeypatch.setattr(time, "perf_counter", lambda: 50 * real_clock())  # every second looks like 50
    with busy_machine():  # other programs competing for the cores
        loaded = trained_weights(Slow())
    assert len(quiet) == len(loaded)
    for before, after in zip(quiet, loaded, strict=True):
        np.testing.assert_array_equal(before, after)


def test_warmup_cosine_rises_then_decays_to_a_tenth() -> None:
    rates = [gpt.warmup_cosine(step, 1.0, 10, 110) for step in range(120)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == pytest.approx(1.0), "linear warm-up to the peak"
    assert all(a >= b for a, b in itertools.pairwise(rates[9:])), "decays monotonically after warm-up"
    assert rates[60] == pytest.approx(0.55) and rates[110] == pytest.approx(0.1) and rates[119] == pytest.approx(0.1)
