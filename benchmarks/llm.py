"""SmolLM2-135M-Instruct as notebook 10 runs it: correctness, generation speed, memory, and its server.

The notebook's own code (``helpers.lessons.llm``, exported from its cells) on the model file that
the data layer fetches. It prints:

* the largest logit difference against keras_hub's ``Llama3Backbone`` with the same weights, and the
  greedy answer to "What is the capital of France?";
* for each generation variant, side by side: no cache (eager), no cache compiled (the whole text,
  padded to a fixed length, through one XLA function for every token), KV cache under
  ``tf.function``, KV cache under XLA, and XLA with int8 weights (``model.quantize("int8")``): the
  time to the first token, the greedy tokens per second after it (decoding) and counting the
  prefill (what the user waits for), the weights read per second and their share of the machine's
  memory bandwidth (measured in the same run); whether the cached and uncached tokens are identical;
  each variant generates a 64-token answer (16 in fast mode) to a 20-token prompt, three times
  (median shown; the targets use the mean and the slowest of the three);
* prompt (prefill) time at 40 and 500 tokens, XLA;
* int8 against float32: weight memory, next-token agreement, largest logit change, bits per character;
* bits per character on the first characters of Hamlet: SmolLM2 against 08's full-mode GPT (the one
  benchmarks/gpt.py saved, else the course's weights from ``make weights``) and 08's character n-gram;
* over HTTP, the course's LLM server driven by the ``openai`` client: time to first token for a
  40-token prompt (median of 5, after warm-up), streamed tokens per second, the server's peak memory;
* this process's peak memory.

Targets (full mode): logit difference at most 1e-3 and "Paris" in the answer; with the cache under
XLA, at least 30 tokens/s counting the prefill (mean of three runs; floor 27 on the slowest), the
rate after the first token printed beside it; cached at least 3x uncached, both compiled (XLA); SmolLM2's
bits per character below 08's GPT's; time to first token at most 1 s; streaming through the client
gives the whole answer; server peak memory at most 3 GB. Fast mode checks correctness only (logits,
"Paris", identical tokens, streaming).

    python benchmarks/llm.py           # COURSE_MODE (default full): about 5 minutes on a 2-core CPU
    python benchmarks/llm.py --fast    # a quick check run
    python benchmarks/llm.py --check   # write benchmarks/results/llm_MODE.json; exit 1 when a target is missed
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
import time
from pathlib import Path

from helpers.mode import by_mode, course_mode

MAX_LOGIT_GAP = 1e-3
MIN_XLA_TOKENS_PER_S = 30.0  # counting the prefill, mean of the repeats
FLOOR_XLA_TOKENS_PER_S = 27.0  # the slowest repeat
PROMPT_TOKENS = 20
REPEATS = 3
MIN_CACHE_SPEEDUP = 3.0
MAX_TIME_TO_FIRST_TOKEN_S = 1.0
MAX_SERVER_PEAK_GB = 3.0
MODEL_NAME = "SmolLM2-135M-Instruct"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="quick check run (same as COURSE_MODE=fast)")
    parser.add_argument(
        "--check", action="store_true", help="write benchmarks/results/llm_MODE.json; exit 1 if a target is missed"
    )
    return parser.parse_args(argv)


def peak_memory_gb(pid: int | None = None) -> float:
    """The peak resident memory of process ``pid`` (this one if None), in GB (Linux's VmHWM)."""
    if pid is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kilobytes on Linux
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1e6
    raise RuntimeError(f"no VmHWM for process {pid}")


def uncached_xla_generator(model, total_length: int):
    """Generation without a cache, compiled: the whole text so far, padded to ``total_length``, through one
    XLA function for every new token (the causal mask keeps the padding after the text from mattering)."""
    import numpy as np
    import tensorflow as tf

    @tf.function(
        jit_compile=True, input_signature=[tf.TensorSpec((1, total_length), tf.int32), tf.TensorSpec((), tf.int32)]
    )
    def logits_at(ids, position):
        return model(ids)[0, position]

    def generate(prompt: list[int], max_new_tokens: int, pick):
        ids = np.zeros((1, total_length), dtype=np.int32)
        ids[0, : len(prompt)] = prompt
        for position in range(len(prompt), min(len(prompt) + max_new_tokens, total_length)):
            token = pick(logits_at(tf.constant(ids), position - 1).numpy())
            ids[0, position] = token
            yield token

    return generate


def with_prefill_tokens_per_s(timing) -> float:
    """Tokens per second counting the wait for the first token: all tokens over the whole time."""
    total_seconds = timing.first_token_s + (len(timing.tokens) - 1) / timing.tokens_per_s
    return len(timing.tokens) / total_seconds


def server_figures(model_file: Path, prompt_40: str, new_tokens: int) -> dict[str, float | str | bool]:
    """The LLM server over HTTP through the openai client: time to first token, streamed speed, peak memory."""
    import openai

    from helpers.processes.server import start_llm_server

    with start_llm_server(MODEL_NAME, model_file, timeout_s=300) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="local", max_retries=0, timeout=120)

        def first_token_seconds() -> float:
            sent = time.perf_counter()
            stream = client.completions.create(
                model=MODEL_NAME, prompt=prompt_40, max_tokens=2, temperature=0, stream=True
            )
            first = None
            for chunk in stream:
                if first is None and chunk.choices and chunk.choices[0].text:
                    first = time.perf_counter() - sent
            return first if first is not None else float("inf")

        first_token_seconds()  # warm-up
        first_token = statistics.median(first_token_seconds() for _ in range(5))
        messages = [{"role": "user", "content": "Write a short poem about the sea."}]
        settings = {"model": MODEL_NAME, "messages": messages, "max_tokens": new_tokens, "temperature": 0}
        whole = client.chat.completions.create(**settings).choices[0].message.content
        started = time.perf_counter()
        pieces = [c.choices[0].delta.content or "" for c in client.chat.completions.create(**settings, stream=True)]
        seconds = time.perf_counter() - started
        tokens = client.chat.completions.create(**settings).usage.completion_tokens
        return {
            "time to first token, 40-token prompt (s)": first_token,
            "streamed tokens/s": tokens / seconds,
            "streamed equals whole": "".join(pieces) == whole and sum(bool(p) for p in pieces) > 1,
            "server peak memory (GB)": peak_memory_gb(server.process.pid),
        }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.fast:
        os.environ["COURSE_MODE"] = "fast"
    mode = course_mode()
    full = by_mode(mode, fast=False, full=True)

    import keras
    import numpy as np
    import pandas as pd
    import tensorflow as tf

    from helpers import results, timing
    from helpers.datasets import course_weights, shakespeare
    from helpers.datasets.registry import smollm2_file
    from helpers.lessons import llm
    from helpers.lessons.gpt import GPT, CharacterScorer, CharNgram, gpt_plan, make_picker
    from helpers.paths import artifacts_dir

    version = results.code_version()
    new_tokens = by_mode(mode, fast=16, full=64)
    scored_characters = by_mode(mode, fast=2_000, full=20_000)
    model_file = smollm2_file()
    started = time.perf_counter()
    smollm = llm.read_gguf(model_file)
    tokenizer = llm.gguf_tokenizer(smollm)
    model = llm.Llama(smollm.config)
    llm.load_gguf_weights(model, smollm.weights)
    print(f"mode {mode}: {model_file.name} read and loaded in {time.perf_counter() - started:.1f} s", flush=True)

    question = "What is the capital of France?"
    prompt = tokenizer.encode(llm.chat_prompt([{"role": "user", "content": question}]))
    ours = model(np.array([prompt], dtype=np.int32)).numpy()[0]
    hub = llm.keras_hub_llama(smollm.config, smollm.weights)
    hidden = hub({"token_ids": np.array([prompt], dtype=np.int32), "padding_mask": np.ones((1, len(prompt)))})
    gap = float(np.abs(ours - hub.get_layer("token_embedding")(hidden, reverse=True).numpy()[0]).max())
    del hub
    xla = llm.CachedDecoder(model, xla=True)
    answer = tokenizer.decode(list(xla.generate(prompt, 24, make_picker())))
    print(f"largest logit difference against keras_hub: {gap:.1e}; greedy answer: {answer!r}", flush=True)

    greedy = make_picker()
    plays = shakespeare.load_plays()
    split = shakespeare.split_plays(plays, train_limit=1_000_000)
    speed_prompt = tokenizer.encode(split.validation[:400])[:PROMPT_TOKENS]
    quantized = llm.Llama(smollm.config)
    llm.load_gguf_weights(quantized, smollm.weights)
    gc.freeze()  # Keras collects garbage after each layer: skip the objects that exist already
    quantized.quantize("int8", filters=lambda layer: isinstance(layer, keras.layers.Dense))
    gc.unfreeze()
    uncached_xla = uncached_xla_generator(model, next(b for b in llm.PROMPT_BUCKETS if b >= PROMPT_TOKENS + new_tokens))
    generators = {
        "no cache (eager)": lambda: llm.generate_uncached(model, speed_prompt, new_tokens, greedy, ()),
        "no cache, XLA": lambda: uncached_xla(speed_prompt, new_tokens, greedy),
    }
    decoders = {
        "KV cache, tf.function": llm.CachedDecoder(model, xla=False),
        "KV cache, XLA": xla,
        "KV cache, XLA, int8 weights": llm.CachedDecoder(quantized, xla=True),
    }
    generators |= {name: lambda d=d: d.generate(speed_prompt, new_tokens, greedy, ()) for name, d in decoders.items()}
    list(uncached_xla(speed_prompt, 2, greedy))  # compile first
    for decoder in decoders.values():
        list(decoder.generate(speed_prompt, 2, greedy, ()))
    runs = {name: [timing.time_generation(generate) for _ in range(REPEATS)] for name, generate in generators.items()}
    timings = {name: sorted(repeats, key=lambda t: t.tokens_per_s)[REPEATS // 2] for name, repeats in runs.items()}
    with_prefill = {name: [with_prefill_tokens_per_s(t) for t in repeats] for name, repeats in runs.items()}
    speeds = {name: timed.tokens_per_s for name, timed in timings.items()}
    tokens = {name: timed.tokens for name, timed in timings.items()}
    same = (
        tokens["KV cache, XLA"]
        == tokens["no cache (eager)"]
        == tokens["no cache, XLA"]
        == tokens["KV cache, tf.function"]
    )
    bandwidth = timing.memory_read_gb_per_s()
    bytes_per_token = {name: llm.weight_bytes(model) for name in ("no cache (eager)", "no cache, XLA")}
    bytes_per_token |= {name: llm.weight_bytes(decoder.model) for name, decoder in decoders.items()}
    table = timing.speed_table(timings, bytes_per_token, bandwidth)
    table.insert(2, "tokens/s with the prefill", [statistics.median(with_prefill[name]) for name in table.index])
    print(
        f"\ngreedy generation, {new_tokens} new tokens after a {len(speed_prompt)}-token prompt (median of {REPEATS}):"
    )
    print(table.round(3).to_string())
    print(f"memory bandwidth (TensorFlow summing 512 MiB): {bandwidth:.1f} GB/s")
    print(f"identical tokens with and without the cache, eager and compiled: {same}", flush=True)
    for name, repeats in runs.items():
        print(f"  {name}: tokens/s after the first token, each run: {[round(t.tokens_per_s, 2) for t in repeats]}")

    prefill_seconds = {}
    for length in (40, 500):
        ids = tf.constant(np.resize(np.array(speed_prompt, dtype=np.int32), (1, length)))
        bucket = next(b for b in llm.PROMPT_BUCKETS if b >= length)
        padded = tf.pad(ids, [[0, 0], [0, bucket - length]])
        rows = next(n for n in llm.CACHE_LENGTHS if n >= bucket + new_tokens)
        xla.prefill(padded, rows)  # compile this bucket
        started = time.perf_counter()
        xla.prefill(padded, rows)[0].numpy()
        prefill_seconds[f"prompt of {length} tokens (bucket {bucket})"] = time.perf_counter() - started
    print("\nprefill, XLA (s):\n" + pd.Series(prefill_seconds).round(3).to_string(), flush=True)

    characters = shakespeare.CharVocabulary.from_texts(plays.values())
    hamlet = split.validation[:scored_characters]
    drift_ids = np.array([tokenizer.encode(hamlet)[:256]], dtype=np.int32)
    float_logits = xla.prefill(drift_ids, 256)[0][0].numpy()
    int8_logits = decoders["KV cache, XLA, int8 weights"].prefill(drift_ids, 256)[0][0].numpy()
    bits = {MODEL_NAME: llm.bits_per_character(xla, tokenizer, hamlet)}
    int8_bits = llm.bits_per_character(decoders["KV cache, XLA, int8 weights"], tokenizer, hamlet)
    quantisation = pd.DataFrame(
        {
            "weights (MB)": [llm.weight_bytes(model) / 1e6, llm.weight_bytes(quantized) / 1e6],
            "tokens/s (XLA, cache)": [speeds["KV cache, XLA"], speeds["KV cache, XLA, int8 weights"]],
            "bits/char": [bits[MODEL_NAME], int8_bits],
            "same next token": [1.0, float(np.mean(float_logits.argmax(-1) == int8_logits.argmax(-1)))],
            "largest logit change": [0.0, float(np.abs(float_logits - int8_logits).max())],
        },
        index=["float32", "int8 (Keras)"],
    )
    print(f"\nint8 quantisation of the Dense layers (logits on {drift_ids.shape[1]} tokens of Hamlet):")
    print(quantisation.round(3).to_string(), flush=True)

    benchmark_gpt = artifacts_dir("models") / "gpt_shakespeare_benchmark_full.keras"  # benchmarks/gpt.py's
    if benchmark_gpt.exists():
        small_gpt, source = keras.saving.load_model(benchmark_gpt), benchmark_gpt.name
    else:  # the course's full-mode GPT (make weights), loaded as notebook 08 loads it
        full_plan = gpt_plan("full")
        small_gpt = GPT(len(characters), full_plan.context, full_plan.width, full_plan.layers, full_plan.heads)
        small_gpt(tf.zeros((1, full_plan.context), tf.int32))
        course_weights.load_weights(small_gpt, "gpt_shakespeare")
        source = "the course's full-mode weights"
    scorer = CharacterScorer(small_gpt, small_gpt.context, batch_size=64, jit_compile=False)
    bits[f"08's GPT ({small_gpt.count_params():,} parameters, {source})"] = scorer(characters.encode(hamlet))
    ngram = CharNgram(characters.encode(split.train), len(characters), max_order=6)
    bits["08's character n-gram (order <= 6, D = 0.9)"] = float(
        ngram.bits_table(characters.encode(hamlet), (0.9,)).min()
    )
    print(f"\nbits per character, first {len(hamlet):,} characters of Hamlet:")
    print(pd.Series(bits).round(3).to_string(), flush=True)

    prompt_40 = tokenizer.decode(tokenizer.encode(split.validation[:400])[:40])
    server = server_figures(model_file, prompt_40, new_tokens)
    print("\nthe LLM server over HTTP (openai client):")
    print(pd.Series(server).to_string())
    print(f"\npeak memory of this process: {peak_memory_gb():.2f} GB")

    targets = {
        f"logits within {MAX_LOGIT_GAP} of keras_hub's": {"measured": gap, "met": gap <= MAX_LOGIT_GAP},
        "the greedy answer says Paris": {"answer": answer, "met": "Paris" in answer},
        "identical tokens with and without the cache": {"met": bool(same)},
        "the streamed answer equals the whole one, in pieces": {"met": bool(server["streamed equals whole"])},
    }
    if full:
        targets[
            f"KV cache, XLA: at least {MIN_XLA_TOKENS_PER_S:.0f} tokens/s counting the prefill "
            f"(floor {FLOOR_XLA_TOKENS_PER_S:.0f})"
        ] = results.target(with_prefill["KV cache, XLA"], MIN_XLA_TOKENS_PER_S, FLOOR_XLA_TOKENS_PER_S)
        speedup = speeds["KV cache, XLA"] / speeds["no cache, XLA"]  # medians: one slow repeat cannot swing it
        targets[f"cached at least {MIN_CACHE_SPEEDUP:.0f}x uncached, both XLA (medians)"] = {
            "measured": speedup,
            "met": speedup >= MIN_CACHE_SPEEDUP,
        }
        gpt_bits = [value for name, value in bits.items() if name.startswith("08's GPT")]
        targets["SmolLM2's bits/char below 08's full-mode GPT's"] = {
            "SmolLM2": float(bits[MODEL_NAME]),
            "GPT": float(gpt_bits[0]),
            "met": bool(bits[MODEL_NAME] < gpt_bits[0]),
        }
        first = server["time to first token, 40-token prompt (s)"]
        targets[f"time to first token at most {MAX_TIME_TO_FIRST_TOKEN_S} s"] = {
            "measured": first,
            "met": first <= MAX_TIME_TO_FIRST_TOKEN_S,
        }
        memory = server["server peak memory (GB)"]
        targets[f"server peak memory at most {MAX_SERVER_PEAK_GB} GB"] = {
            "measured": memory,
            "met": memory <= MAX_SERVER_PEAK_GB,
        }
    per_repeat = {
        repeat: {f"{name}, tokens/s with the prefill": with_prefill[name][repeat] for name in runs}
        | {f"{name}, tokens/s after the first token": runs[name][repeat].tokens_per_s for name in runs}
        | {f"{name}, first token (s)": runs[name][repeat].first_token_s for name in runs}
        for repeat in range(REPEATS)
    }
    return results.finish("llm", mode, range(REPEATS), per_repeat, targets, version, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
