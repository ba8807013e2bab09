"""Part 1 of notebook 14 (helpers.lessons.llm_adaptation): LoRA by hand, the SFT example and its mask, the
masked loss, training only A and B, merging and the adapter file, topic scoring; on a tiny random Llama."""

from __future__ import annotations

from dataclasses import replace

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers.lessons import llm
from helpers.lessons import llm_adaptation as lesson
from helpers.serving.adapters import PROJECTIONS, merge_lora, read_lora, save_lora

SPECIAL = ["<|im_start|>", "<|im_end|>"]
TINY = llm.LlamaConfig(
    vocabulary_size=258, layers=2, width=24, mlp_width=40, heads=6, kv_heads=2, rope_base=10_000.0, norm_epsilon=1e-5
)


@pytest.fixture(scope="module")
def tokenizer() -> llm.BytePairTokenizer:
    """One token per byte (the topic words then begin with eight different letters) and the two turn tokens."""
    characters = llm.byte_characters()
    return llm.BytePairTokenizer([characters[b] for b in range(256)] + SPECIAL, [], SPECIAL)


@pytest.fixture(scope="module")
def gguf_weights() -> dict[str, np.ndarray]:
    """Random weights under llama.cpp's names, as read_gguf returns them."""
    rng = np.random.default_rng(0)
    base = llm.Llama(TINY)
    base.build((None, None))
    names = {"attn_q": "query", "attn_k": "key", "attn_v": "value", "attn_output": "output",
             "ffn_gate": "gate", "ffn_up": "up", "ffn_down": "down"}  # fmt: skip
    weights = {"token_embd.weight": rng.normal(size=(258, 24)).astype(np.float32),
               "output_norm.weight": np.ones(24, np.float32)}  # fmt: skip
    for i in range(TINY.layers):
        weights[f"blk.{i}.attn_norm.weight"] = weights[f"blk.{i}.ffn_norm.weight"] = np.ones(24, np.float32)
        for gguf_name, name in names.items():
            kernel = lesson.projection(base, i, name).kernel
            weights[f"blk.{i}.{gguf_name}.weight"] = (rng.normal(size=kernel.shape) * 0.3).T.astype(np.float32)
    return weights


def base_llama(weights: dict[str, np.ndarray]) -> llm.Llama:
    model = llm.Llama(TINY)
    llm.load_gguf_weights(model, weights)
    return model


def test_lora_dense_matches_keras_enable_lora_and_starts_as_the_base_layer() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 12)).astype(np.float32)
    ours = lesson.LoraDense(keras.layers.Dense(20, use_bias=False), 4, 8.0)
    ours(x)
    assert np.allclose(ours(x).numpy(), ours.base(x).numpy())  # B starts at zero
    ours.b.assign(rng.normal(size=ours.b.shape))
    theirs = keras.layers.Dense(20, use_bias=False)
    theirs.build((None, 12))
    theirs.kernel.assign(ours.kernel)
    theirs.enable_lora(4, lora_alpha=8.0)
    theirs.lora_kernel_a.assign(ours.a)
    theirs.lora_kernel_b.assign(ours.b)
    assert np.allclose(ours(x).numpy(), theirs(x).numpy(), atol=1e-5)
    assert [w.shape for w in ours.trainable_weights] == [(12, 4), (4, 20)]
    wrong_scale = ours.base(x).numpy() + 8.0 * (x @ ours.a.numpy() @ ours.b.numpy())  # alpha without / rank
    assert not np.allclose(ours(x).numpy(), wrong_scale, atol=1e-3)


def test_lora_llama_trains_only_a_and_b_and_merges_into_the_same_logits(gguf_weights, tokenizer, tmp_path) -> None:
    base = base_llama(gguf_weights)
    keras.utils.set_random_seed(2)
    model = lesson.lora_llama(TINY, gguf_weights, 4, 8.0, PROJECTIONS)
    ids = np.array([tokenizer.encode("<|im_start|>user\nwhich topic?<|im_end|>\n")], np.int32)
    assert np.allclose(model(ids).numpy(), base(ids).numpy(), atol=1e-5)
    per_block = sum(4 * (lesson.projection(base, 0, n).kernel.shape[0] + lesson.projection(base, 0, n).kernel.shape[1])
                    for n in PROJECTIONS)  # fmt: skip
    assert sum(w.numpy().size for w in model.trainable_weights) == TINY.layers * per_block
    assert {id(w) for w in model.trainable_weights} == {id(w) for w in lesson.lora_variables(model)}
    frozen_before = [w.numpy().copy() for w in model.non_trainable_weights]
    examples = [lesson.sft_example(tokenizer, f"story number {i} about wheat", "grain") for i in range(4)]
    plan = lesson.TuningPlan(4, epochs=3, batch_size=2, learning_rate=1e-2, sequence_length=320, compiled=False)
    losses = lesson.train_sft(model, lesson.lora_variables(model), *lesson.pad_examples(examples, 320), plan, 0)
    assert len(losses) == 6 and losses[-1] < losses[0]
    keras.utils.set_random_seed(2)  # the same run with the step compiled by XLA: the same losses
    again = lesson.lora_llama(TINY, gguf_weights, 4, 8.0, PROJECTIONS)
    compiled = lesson.train_sft(again, lesson.lora_variables(again), *lesson.pad_examples(examples, 320),
                                replace(plan, compiled=True), 0)  # fmt: skip
    assert np.allclose(compiled, losses, rtol=1e-3)
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(frozen_before, model.non_trainable_weights, strict=True))
    path = save_lora(tmp_path / "adapter.npz", lesson.lora_adapter(model))
    merge_lora(base, read_lora(path))
    assert np.abs(base(ids).numpy() - model(ids).numpy()).max() < 1e-4
    fresh = lesson.lora_llama(TINY, gguf_weights, 4, 8.0, PROJECTIONS)
    lesson.load_adapter(fresh, read_lora(path))
    assert np.allclose(fresh(ids).numpy(), model(ids).numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="different projections"):
        lesson.load_adapter(lesson.lora_llama(TINY, gguf_weights, 4, 8.0, ("query",)), read_lora(path))


def test_the_sft_mask_covers_the_answer_and_the_end_of_turn_only(tokenizer) -> None:
    ids, mask = lesson.sft_example(tokenizer, "shares of the bank rose", "earn")
    answer = tokenizer.encode("earnings<|im_end|>")
    assert ids[-len(answer) :] == answer and sum(mask) == len(answer) and len(mask) == len(ids) - 1
    inputs, targets, masks = lesson.pad_examples([(ids, mask)], len(ids) + 5)
    assert list(targets[0][masks[0] == 1]) == answer  # the masked positions predict exactly the answer
    assert list(inputs[0, : len(ids) - 1]) == ids[:-1] and not masks[0, len(ids) - 1 :].any()
    with pytest.raises(ValueError, match="at least"):  # cutting the example would cut off its answer
        lesson.pad_examples([(ids, mask)], len(ids) - 3)


def test_the_masked_loss_ignores_the_prompt_positions() -> None:
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(1, 5, 7)).astype(np.float32)
    targets = np.array([[1, 2, 3, 4, 5]])
    mask = np.array([[0, 0, 0, 1, 1]])
    changed = logits.copy()
    changed[0, :3] += rng.normal(size=(3, 7)) * 5  # other predictions on the prompt
    loss = float(lesson.masked_next_token_loss(logits, targets, mask))
    assert loss == pytest.approx(float(lesson.masked_next_token_loss(changed, targets, mask)))
    expected = -np.mean([tf.nn.log_softmax(logits[0, t]).numpy()[targets[0, t]] for t in (3, 4)])
    assert loss == pytest.approx(expected, rel=1e-5)


def test_topic_scorer_picks_the_largest_topic_logit_at_the_answer_position(gguf_weights, tokenizer) -> None:
    model = base_llama(gguf_weights)
    stories = ["oil prices rose", "the company bought a rival", "wheat exports fell"]
    found = lesson.TopicScorer(model, tokenizer, batch_size=2).predict(stories)
    candidates = lesson.topic_token_ids(tokenizer)
    for story, topic in zip(stories, found, strict=True):
        prompt = tokenizer.encode(llm.chat_prompt(lesson.topic_messages(story)))
        logits = model(np.array([prompt], np.int32)).numpy()[0, -1]
        assert topic == logits[candidates].argmax()
    few_shot = lesson.topic_messages("wheat", [("oil story", "crude")])[0]["content"]
    assert "Topic: oil" in few_shot and few_shot.endswith("Story: wheat")


def test_part_1_figures_draw_what_they_say(tokenizer) -> None:
    import matplotlib.pyplot as plt

    from helpers.figures import llm_adaptation as figures

    ids, mask = lesson.sft_example(tokenizer, "wheat exports fell sharply this week", "grain")
    drawn = figures.masked_loss_figure([tokenizer.decode([i]) for i in ids], [0, *mask])
    orange = [
        patch
        for patch in drawn.axes[0].patches
        if patch.get_facecolor()[:3] == (1.0, 0.4980392156862745, 0.054901960784313725)
    ]
    assert len(orange) == sum(mask)  # the answer's tokens, and only they, are marked as targets
    bars = figures.approach_accuracy_figure({"zero-shot": 0.06, "LoRA": 0.93}, 512)
    assert "512 held-out stories" in bars.axes[0].get_xlabel()
    assert "A·B" in figures.lora_figure().axes[0].get_title()
    plt.close("all")
