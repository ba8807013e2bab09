"""helpers.lessons.llm, the lesson code of notebook 10, on a tiny random Llama and a tiny BPE vocabulary."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from helpers import timing
from helpers.checks import llm as llm_checks
from helpers.exercises import ExerciseIncorrect
from helpers.lessons import llm
from helpers.lessons.gpt import make_picker

TINY = llm.LlamaConfig(
    vocabulary_size=50, layers=2, width=24, mlp_width=40, heads=6, kv_heads=2, rope_base=10_000.0, norm_epsilon=1e-5
)


def tiny_llama(seed: int = 0) -> llm.Llama:
    tf.random.set_seed(seed)
    model = llm.Llama(TINY)
    model(np.zeros((1, 1), dtype=np.int32))
    rng = np.random.default_rng(seed)
    for variable in model.trainable_variables:  # large random weights: logits far apart, no ties
        variable.assign(rng.normal(size=variable.shape) * 0.5)
    return model


def test_unpermute_undoes_the_gguf_converters_row_order() -> None:
    heads, head_width, columns = 3, 8, 5
    original = np.arange(heads * head_width * columns, dtype=np.float32).reshape(heads * head_width, columns)
    # convert_hf_to_gguf.py's permute: reshape(heads, 2, head_width // 2, ...).swapaxes(1, 2)
    permuted = original.reshape(heads, 2, head_width // 2, columns).swapaxes(1, 2).reshape(original.shape)
    assert np.array_equal(llm.unpermute_rows(permuted, heads), original)


def test_rms_norm_and_parameter_count() -> None:
    norm = llm.RMSNorm(1e-6)
    x = np.array([[3.0, -4.0, 0.0, 0.0]], dtype=np.float32)
    assert np.allclose(norm(x).numpy(), x / np.sqrt(25 / 4))
    assert tiny_llama().count_params() == llm.llama_parameter_count(TINY)


def test_rotary_dot_products_depend_on_the_distance_only() -> None:
    rng = np.random.default_rng(1)
    q, k = (tf.constant(rng.normal(size=(1, 1, 1, 16)), tf.float32) for _ in range(2))
    products = []
    for start in (0, 7, 30):
        cos, sin = llm.rotary_angles(tf.constant([start, start + 4]), 16, 10_000.0)
        rotated_q = llm.apply_rotary(q, cos[1:], sin[1:])
        rotated_k = llm.apply_rotary(k, cos[:1], sin[:1])
        products.append(float(tf.reduce_sum(rotated_q * rotated_k)))
        assert np.isclose(float(tf.norm(rotated_q)), float(tf.norm(q)), rtol=1e-5)
    assert np.allclose(products, products[0], rtol=1e-4)


def test_attention_is_causal_and_groups_share_key_value_heads() -> None:
    model = tiny_llama()
    ids = np.array([[3, 9, 4, 17, 8, 21]], dtype=np.int32)
    changed = ids.copy()
    changed[0, 4] = 30
    before, after = model(ids).numpy(), model(changed).numpy()
    assert np.allclose(before[0, :4], after[0, :4], atol=1e-5), "a token must not see the tokens after it"
    assert not np.allclose(before[0, 4:], after[0, 4:])
    assert model.blocks[0].attention.key.kernel.shape == (24, 8), "2 key/value heads of width 4"


def test_cached_decoding_gives_the_uncached_tokens_and_stops() -> None:
    model = tiny_llama(2)
    prompt = [5, 7, 11, 13, 2 + 1]
    uncached = list(llm.generate_uncached(model, prompt, 12, make_picker(), stop=()))
    decoder = llm.CachedDecoder(model, xla=False, cache_lengths=(80,))
    assert list(decoder.generate(prompt, 12, make_picker(), stop=())) == uncached
    stop = uncached[3]
    assert list(decoder.generate(prompt, 12, make_picker(), stop=(stop,))) == uncached[: uncached.index(stop)]
    with pytest.raises(ValueError, match="too long"):
        list(decoder.generate([1] * 600, 3, make_picker()))


def test_chat_prompt_is_chatml_with_a_default_system_turn() -> None:
    text = llm.chat_prompt([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}])
    assert text.startswith("<|im_start|>system\nYou are a helpful AI assistant")
    assert text.endswith(
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n<|im_start|>assistant\n"
    )
    own = llm.chat_prompt([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
    assert own.count("<|im_start|>system") == 1 and "Be brief." in own


def test_byte_pair_tokenizer_merges_by_rank_and_keeps_special_tokens() -> None:
    characters = llm.byte_characters()
    assert len(set(characters.values())) == 256 and characters[ord(" ")] == "Ġ"
    base = [characters[b] for b in range(256)]
    tokens = [*base, "Ġt", "he", "Ġthe", "<|end|>", "1"]
    merges = ["h e", "Ġ t", "Ġt he"]
    tokenizer = llm.BytePairTokenizer(tokens, merges, ["<|end|>"])
    ids = tokenizer.encode("the the<|end|>12")
    assert [tokenizer.tokens[i] for i in ids] == ["t", "he", "Ġthe", "<|end|>", "1", "2"]
    assert tokenizer.decode(ids) == "the the<|end|>12"
    assert tokenizer.decode(tokenizer.encode("naïve 😀")) == "naïve 😀"


def test_rotary_step_check() -> None:
    assert "correct" in llm_checks.check_rotary_step(llm_checks.rotate)
    with pytest.raises(ExerciseIncorrect, match="wrong way"):
        llm_checks.check_rotary_step(lambda x, p, b: llm_checks.rotate(x, -p, b))
    with pytest.raises(ExerciseIncorrect, match="neighbouring"):
        llm_checks.check_rotary_step(
            lambda x, p, b: llm_checks.rotate(x.reshape(-1, 2).T.ravel(), p, b).reshape(2, -1).T.ravel()
        )
    with pytest.raises(ExerciseIncorrect, match="length"):
        llm_checks.check_rotary_step(lambda x, p, b: llm_checks.rotate(x, p, b) * (1 + 0.1 * (p > 0)))


def test_stop_rule_check() -> None:
    from helpers.serving.openai_protocol import releasable_text

    assert "correct" in llm_checks.check_stop_rule(releasable_text), "the server's own rule passes"

    def cut_only(text: str, stops: list[str]) -> tuple[str, bool]:
        found = [text.find(stop) for stop in stops if stop in text]
        return (text[: min(found)], True) if found else (text, False)

    def shortest_hold(text: str, stops: list[str]) -> tuple[str, bool]:
        for stop in stops:
            for size in range(1, len(stop)):
                if text.endswith(stop[:size]):
                    return text[:-size], False
        return cut_only(text, stops)

    def first_in_list(text: str, stops: list[str]) -> tuple[str, bool]:
        hit = next((stop for stop in stops if stop in text), None)
        return (text[: text.find(hit)], True) if hit else releasable_text(text, stops)

    with pytest.raises(ExerciseIncorrect, match="Hold back"):
        llm_checks.check_stop_rule(cut_only)
    with pytest.raises(ExerciseIncorrect, match="LONGEST"):
        llm_checks.check_stop_rule(shortest_hold)
    with pytest.raises(ExerciseIncorrect, match="EARLIEST"):
        llm_checks.check_stop_rule(first_in_list)
    with pytest.raises(ExerciseIncorrect, match="return a pair"):
        llm_checks.check_stop_rule(lambda text, stops: text)


def test_llama_figure() -> None:
    import matplotlib.pyplot as plt

    from helpers.figures import llm as llm_figures

    figure = llm_figures.llama_block_figure(30)
    assert "× 30 blocks" in " ".join(t.get_text() for t in figure.axes[0].texts)
    plt.close(figure)


def test_bits_per_character_counts_every_token_after_the_first_once() -> None:
    characters = llm.byte_characters()
    tokens = [characters[b] for b in range(256)]  # one token per byte, no merges
    config = llm.LlamaConfig(**{**TINY.__dict__, "vocabulary_size": 256})
    tf.random.set_seed(3)
    model = llm.Llama(config)
    tokenizer = llm.BytePairTokenizer(tokens, [], [])
    text = "to be, or not to be"
    ids = tokenizer.encode(text)
    log_probabilities = tf.nn.log_softmax(model(np.array([ids], dtype=np.int32))[0]).numpy()
    expected = -sum(log_probabilities[i - 1, ids[i]] for i in range(1, len(ids))) / np.log(2) / (len(text) - 1)
    decoder = llm.CachedDecoder(model, xla=False)
    assert np.isclose(llm.bits_per_character(decoder, tokenizer, text, step=64), expected, rtol=1e-5)
    windowed = llm.bits_per_character(decoder, tokenizer, text, step=4)  # shorter contexts: a different value
    assert np.isfinite(windowed) and windowed > 0 and not np.isclose(windowed, expected, rtol=1e-3)


def test_one_trace_serves_every_prompt_bucket_and_cache_length() -> None:
    model = tiny_llama(4)
    decoder = llm.CachedDecoder(model, xla=False, cache_lengths=(128, 256))
    short, long = [5, 7, 11], list(range(3, 40)) * 2  # buckets 64 and 128: caches of 128 and 256 rows
    for prompt in (short, long):
        assert len(list(decoder.generate(prompt, 4, make_picker(), stop=()))) == 4
    assert decoder.prefill.experimental_get_tracing_count() == 1
    assert decoder.step.experimental_get_tracing_count() == 1


def test_the_last_token_costs_no_decode_step() -> None:
    decoder = llm.CachedDecoder(tiny_llama(5), xla=False)
    assert len(list(decoder.generate([5, 7, 11], 1, make_picker(), stop=()))) == 1
    assert decoder.step.experimental_get_tracing_count() == 0, "one new token needs the prefill only"


def test_time_generation_splits_the_first_token_from_decoding() -> None:
    def slow_tokens(first_s: float, each_s: float, count: int):
        time.sleep(first_s)
        for token in range(count):
            if token:
                time.sleep(each_s)
            yield token

    timed = timing.time_generation(lambda: slow_tokens(0.2, 0.02, 6))
    assert timed.tokens == [0, 1, 2, 3, 4, 5]
    assert 0.2 <= timed.first_token_s < 0.3
    assert 30 < timed.tokens_per_s <= 50, "5 tokens after the first, 0.02 s each: at most 50 per second"
    with pytest.raises(ValueError, match="at least 2"):
        timing.time_generation(lambda: slow_tokens(0, 0, 1))


def test_speed_table_reads_the_weights_once_per_token() -> None:
    model = tiny_llama(7)
    assert llm.weight_bytes(model) == 4 * model.count_params(), "float32: 4 bytes a weight"
    timings = {"a": timing.GenerationTiming([1, 2, 3], 0.5, 10.0), "b": timing.GenerationTiming([1, 2], 0.1, 40.0)}
    table = timing.speed_table(timings, {"a": 2_000_000_000, "b": 500_000_000}, bandwidth_gb_per_s=40.0)
    assert list(table["first token (s)"]) == [0.5, 0.1]
    assert list(table["weights read (GB/s)"]) == [20.0, 20.0]
    assert list(table["share of memory bandwidth"]) == [0.5, 0.5]


def write_tiny_gguf(path: Path, architecture: str = "llama") -> dict[str, np.ndarray]:
    """A GGUF file with TINY's metadata, a byte vocabulary and random float32 weights (as stored: (out, in))."""
    import gguf

    rng = np.random.default_rng(6)
    c = TINY
    shapes = {"token_embd.weight": (c.vocabulary_size, c.width), "output_norm.weight": (c.width,)}
    for i in range(c.layers):
        shapes |= {
            f"blk.{i}.attn_q.weight": (c.heads * c.head_width, c.width),
            f"blk.{i}.attn_k.weight": (c.kv_heads * c.head_width, c.width),
            f"blk.{i}.attn_v.weight": (c.kv_heads * c.head_width, c.width),
            f"blk.{i}.attn_output.weight": (c.width, c.heads * c.head_width),
            f"blk.{i}.ffn_gate.weight": (c.mlp_width, c.width),
            f"blk.{i}.ffn_up.weight": (c.mlp_width, c.width),
            f"blk.{i}.ffn_down.weight": (c.width, c.mlp_width),
            f"blk.{i}.attn_norm.weight": (c.width,),
            f"blk.{i}.ffn_norm.weight": (c.width,),
        }
    weights = {name: rng.normal(size=shape).astype(np.float32) for name, shape in shapes.items()}
    writer = gguf.GGUFWriter(path, architecture)
    writer.add_block_count(c.layers)
    writer.add_embedding_length(c.width)
    writer.add_feed_forward_length(c.mlp_width)
    writer.add_head_count(c.heads)
    writer.add_head_count_kv(c.kv_heads)
    writer.add_rope_freq_base(c.rope_base)
    writer.add_layer_norm_rms_eps(c.norm_epsilon)
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list([f"t{i}" for i in range(c.vocabulary_size - 1)] + ["<|end|>"])
    writer.add_token_types([1] * (c.vocabulary_size - 1) + [3])
    writer.add_token_merges(["t 1", "t1 0"])
    for name, array in weights.items():
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return weights


def test_read_gguf_from_a_path_or_an_open_reader(tmp_path: Path) -> None:
    import gguf

    written = write_tiny_gguf(tmp_path / "tiny.gguf")
    for source in (tmp_path / "tiny.gguf", gguf.GGUFReader(tmp_path / "tiny.gguf")):
        model = llm.read_gguf(source)
        stored_epsilon = model.config.norm_epsilon  # float32 in the file
        assert model.config == replace(TINY, norm_epsilon=stored_epsilon) and np.isclose(stored_epsilon, 1e-5)
        assert model.tokens[-1] == "<|end|>" and model.token_types[-1] == 3 and model.merges == ["t 1", "t1 0"]
        assert np.array_equal(model.weights["blk.1.ffn_down.weight"], written["blk.1.ffn_down.weight"])
        query = written["blk.0.attn_q.weight"]
        assert np.array_equal(model.weights["blk.0.attn_q.weight"], llm.unpermute_rows(query, TINY.heads))
    write_tiny_gguf(tmp_path / "other.gguf", architecture="gpt2")
    with pytest.raises(ValueError, match=r"other\.gguf holds a 'gpt2' model"):
        llm.read_gguf(tmp_path / "other.gguf")
