"""helpers.lessons.encoders, the lesson code of notebook 09 that benchmarks/encoders.py reuses, on tiny inputs."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers.lessons import encoders

VOCABULARY = 40
LENGTH = 12


def tiny_plan(**changes: object) -> encoders.EncoderPlan:
    plan = dataclasses.replace(
        encoders.encoder_plan("fast"), sequence_length=LENGTH, width=16, layers=1, heads=2, dropout=0.0
    )
    return dataclasses.replace(plan, **changes)


def story_ids(count: int, seed: int = 0) -> np.ndarray:
    """Ids like a story's: [CLS] (2), ordinary ids, [SEP] (3), then padding (0)."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((count, LENGTH), dtype=np.int32)
    for row, length in enumerate(rng.integers(4, LENGTH - 1, size=count)):
        ids[row, 0], ids[row, 1 : length + 1], ids[row, length + 1] = 2, rng.integers(5, VOCABULARY, length), 3
    return ids


def test_plans_fast_is_smaller_than_full() -> None:
    fast, full = encoders.encoder_plan("fast"), encoders.encoder_plan("full")
    assert fast.mlm_epochs < full.mlm_epochs and full.unlabelled_stories is None and full.test_stories is None
    assert min(full.labels_per_class) == min(fast.labels_per_class) and 50 in full.minilm_labels_per_class
    assert full.minilm_sequence_length > full.sequence_length, "fine-tuned MiniLM reads more of each story"


def test_masking_follows_berts_rule() -> None:
    tf.random.set_seed(0)
    ids = tf.constant(np.tile(story_ids(50), (40, 1)))
    special = tf.constant([0, 2, 3])
    corrupted, chosen = (t.numpy() for t in encoders.mask_for_mlm(ids, special, 4, (5, VOCABULARY)))
    ids = ids.numpy()
    ordinary = ~np.isin(ids, [0, 2, 3])
    assert not chosen[~ordinary].any(), "special tokens and padding are never chosen"
    assert (corrupted[~chosen] == ids[~chosen]).all(), "tokens not chosen are left alone"
    assert abs(chosen.sum() / ordinary.sum() - 0.15) < 0.01
    masked, replaced = corrupted[chosen] == 4, (corrupted[chosen] != 4) & (corrupted[chosen] != ids[chosen])
    assert abs(masked.mean() - 0.8) < 0.03 and abs(replaced.mean() - 0.1 * (1 - 1 / 35)) < 0.02
    assert corrupted[chosen][replaced].min() >= 5 and corrupted.max() < VOCABULARY


def test_compact_vocabulary_keeps_specials_first_and_frequent_tokens() -> None:
    old_tokens = ["[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "oil", "rose", "rare"]
    old_ids = np.array([[3, 6, 7, 6, 8, 4, 0], [3, 7, 6, 4, 0, 0, 0]])
    vocabulary = encoders.compact_vocabulary(old_ids, old_tokens)
    assert vocabulary.tokens == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "oil", "rose"]
    assert vocabulary.encode(old_ids).tolist() == [[2, 5, 6, 5, 1, 3, 0], [2, 6, 5, 3, 0, 0, 0]]
    assert len(vocabulary) == 7 and vocabulary.encode(np.array([5]))[0] == encoders.MASK_ID


def test_encoder_attends_both_ways_and_ignores_padding() -> None:
    tf.random.set_seed(1)
    encoder = encoders.SmallEncoder(VOCABULARY, LENGTH, 16, 2, 2, 0.0)
    ids = story_ids(1)
    later = ids.copy()
    later[0, 3] = 5 if later[0, 3] != 5 else 6
    first = encoder(ids).numpy()
    assert np.abs(encoder(later).numpy()[0, 1] - first[0, 1]).max() > 1e-4, "token 1 must see token 3 after it"
    padding = np.flatnonzero(ids[0] == 0)
    other_padding = ids.copy()
    other_padding[0, padding] = 0  # still padding; now change what real tokens see only through the mask
    real = ids[0] != 0
    assert np.allclose(encoder(other_padding).numpy()[0, real], first[0, real])
    longer = ids.copy()
    longer[0, padding[0]] = 7  # one more real token: every real position may change
    assert np.abs(encoder(longer).numpy()[0, 1] - first[0, 1]).max() > 1e-4


def test_mlm_head_scores_only_chosen_positions_with_tied_weights() -> None:
    encoder = encoders.SmallEncoder(VOCABULARY, LENGTH, 16, 1, 2, 0.0)
    model = encoders.MaskedLanguageModel(encoder)
    ids = story_ids(3)
    chosen = np.zeros_like(ids, dtype=bool)
    chosen[0, 1], chosen[2, 1:3] = True, True
    logits = model((tf.constant(ids), tf.constant(chosen)))
    assert tuple(logits.shape) == (3, VOCABULARY)
    head = model.count_params() - encoder.count_params()
    assert head == 16 * 16 + 16 + 2 * 16 + VOCABULARY, "the head reuses the token embedding (no output matrix)"


def test_pretraining_learns_a_predictable_corpus() -> None:
    ids = np.tile(np.array([[2, 10, 11, 12, 13, 14, 15, 16, 17, 3, 0, 0]], dtype=np.int32), (256, 1))
    plan = tiny_plan(mlm_epochs=6, mlm_learning_rate=1e-2)
    keras.utils.set_random_seed(2)  # every generator: the result must not depend on the tests run before this one
    _, history = encoders.pretrain_mlm(encoders.SmallEncoder(VOCABULARY, LENGTH, 16, 1, 2, 0.0), ids, plan, 2)
    assert history["loss"][-1] < 0.5 * np.log(VOCABULARY) < history["loss"][0], history["loss"]
    assert history["accuracy"][-1] > 0.4  # chance: 1 / 40


def test_per_class_sample_takes_at_most_n_of_each_class() -> None:
    labels = np.array([0] * 10 + [1] * 3 + [2] * 7)
    picked = encoders.per_class_sample(labels, 5, seed=0)
    assert np.bincount(labels[picked]).tolist() == [5, 3, 5] and (np.diff(picked) > 0).all()
    assert not np.array_equal(picked, encoders.per_class_sample(labels, 5, seed=1))


def test_frozen_arm_trains_the_head_only_and_fine_tuned_arm_everything() -> None:
    pretrained = encoders.SmallEncoder(VOCABULARY, LENGTH, 16, 1, 2, 0.0)
    ids = story_ids(32)
    pretrained(ids[:1])
    labels = (ids[:, 1] > 20).astype(np.int64)
    plan = tiny_plan(classifier_steps=5)
    before = [w.copy() for w in pretrained.get_weights()]
    frozen = encoders.train_small_classifier("pretrained, frozen", pretrained, ids, labels, 2, plan, 0)
    assert all(np.array_equal(a, b) for a, b in zip(frozen.encoder.get_weights(), before, strict=True))
    tuned = encoders.train_small_classifier("pretrained, fine-tuned", pretrained, ids, labels, 2, plan, 0)
    assert not np.array_equal(tuned.encoder.get_weights()[0], before[0])
    assert all(np.array_equal(a, b) for a, b in zip(pretrained.get_weights(), before, strict=True)), "copies only"
    scratch = encoders.train_small_classifier("scratch", pretrained, ids, labels, 2, plan, 0)
    assert not np.allclose(scratch.encoder.get_weights()[0], before[0])
    assert scratch.predict(ids, verbose=0).shape == (32, 2)


def test_small_encoders_comparison_learns_an_easy_task() -> None:
    ids = story_ids(120)
    labels = np.arange(120) % 2
    ordinary = ids >= 5
    ids[ordinary] = np.where(np.broadcast_to(labels[:, None], ids.shape)[ordinary] == 1, 5, 22) + ids[ordinary] % 17
    texts = [" ".join(f"w{i}" for i in row[row >= 5]) for row in ids]  # each topic its own 17 words
    stories = encoders.Stories(texts, ids, labels)
    pretrained = encoders.SmallEncoder(VOCABULARY, LENGTH, 16, 1, 2, 0.0)
    pretrained(ids[:1])
    plan = tiny_plan(classifier_steps=60)
    rows = encoders.compare_small_encoders(
        pretrained, stories.subset(np.arange(80)), stories.subset(np.arange(80, 120)), 2, 30, plan, 0
    )
    assert [row["approach"] for row in rows] == ["TF-IDF + LR"] + [
        f"small encoder, {a}" for a in encoders.SMALL_ENCODER_ARMS
    ]
    accuracies = {row["approach"]: row["test accuracy"] for row in rows}
    trained = {approach: accuracy for approach, accuracy in accuracies.items() if "frozen" not in approach}
    assert min(trained.values()) > 0.9, accuracies  # the frozen arm's encoder is random here: no bound


def test_top_k_accuracy() -> None:
    scores = np.array([[0.1, 0.9, 0.5], [0.8, 0.1, 0.7], [0.2, 0.3, 0.1]])
    assert encoders.top_k_accuracy(scores, np.array([1, 2, 2]), 1) == pytest.approx(1 / 3)
    assert encoders.top_k_accuracy(scores, np.array([1, 2, 2]), 2) == pytest.approx(2 / 3)


def test_fine_tuning_minilm_changes_every_block_of_a_fresh_copy() -> None:
    import keras_hub

    from helpers.datasets.registry import fetch

    folder = str(fetch("all_minilm_l6_v2") / "model")
    texts = ["oil prices rose after opec cut output"] * 8 + ["the company reported higher quarterly profit"] * 8
    labels = np.array([0] * 8 + [1] * 8)
    plan = tiny_plan(minilm_steps=3, minilm_sequence_length=LENGTH + 4)
    classifier = encoders.fine_tune_bert(folder, texts, labels, 2, plan, seed=0)
    assert classifier.preprocessor.sequence_length == plan.minilm_sequence_length != plan.sequence_length
    original = keras_hub.models.BertBackbone.from_preset(folder)
    tuned = classifier.backbone
    for layer in ("transformer_layer_0", "transformer_layer_5"):
        before, after = original.get_layer(layer).get_weights()[0], tuned.get_layer(layer).get_weights()[0]
        assert not np.allclose(before, after), f"{layer} was not trained"
    assert classifier.predict(tf.data.Dataset.from_tensor_slices(texts).batch(8), verbose=0).shape == (16, 2)
