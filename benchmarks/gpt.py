"""Character language models on Shakespeare as notebook 08 builds them: n-grams, an LSTM, a small GPT.

The same code as the notebook (``helpers.lessons.gpt``, generated from its cells tagged ``export``),
on the plays of ``helpers.datasets.shakespeare``: 36 plays for training, Hamlet for validation and The Tempest
for the test, whole plays. It prints:

* the character n-grams (interpolated absolute discounting): the order and discount chosen on the
  validation play, and their bits per character on both held-out plays;
* the LSTM and the GPT (about the same parameter count, the same steps, batch, optimiser and
  schedule, each stopped at the plan's time limit): bits per character, parameters, training
  seconds (the compilation in the first epoch included) and training tokens per second (after the
  first epoch);
* greedy generation of 256 new tokens with and without the KV cache, in ``generate``'s Python loop
  and with the whole loop in one XLA function: tokens per second, and whether the tokens are identical.

The trained GPT is saved to ``artifacts/models/gpt_shakespeare_benchmark_MODE.keras`` (``benchmarks/llm.py``
scores it beside SmolLM2).

Targets (full mode): the GPT at least 0.15 bits/char below the best n-gram and below the LSTM on
both held-out plays; the KV cache at least 5 times faster at 256 new tokens (the loop in one XLA
function), with identical tokens.
Fast mode: the GPT at least 1 bit/char below the unigram, identical tokens with and without the cache.

    python benchmarks/gpt.py           # COURSE_MODE (default full): about 25 minutes on a 2-core CPU
    python benchmarks/gpt.py --fast    # a quick check run (about a minute)
    python benchmarks/gpt.py --check   # exit 1 when a target is missed
    python benchmarks/gpt.py --generation-only   # only the generation figures, of the GPT a full run saved
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from helpers.mode import by_mode, course_mode

NEW_TOKENS = 256
MIN_GAIN_OVER_NGRAM = 0.15  # full mode: bits/char the GPT must be below the best n-gram
MIN_KV_SPEEDUP = 5.0  # full mode
MIN_GAIN_OVER_UNIGRAM = 1.0  # fast mode


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="quick check run (same as COURSE_MODE=fast)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the networks' initialisation and batches")
    parser.add_argument("--check", action="store_true", help="exit with status 1 if a target is missed")
    parser.add_argument(
        "--generation-only", action="store_true", help="only the generation figures of the GPT a full run saved"
    )
    return parser.parse_args(argv)


def generation_figures(gpt, model, prompt: list[int]) -> dict:
    """Greedy tokens per second with and without the KV cache, in generate's Python loop and in one
    XLA function, and whether all four give the same tokens."""
    import pandas as pd

    generator = gpt.Generator(model)
    tokens = {
        (loop, cache): gpt.greedy_in_one_function(generator, prompt, NEW_TOKENS, cache)
        if loop == "one XLA function"
        else generator.generate(prompt, NEW_TOKENS, gpt.make_picker(), cache)
        for loop in ("Python loop", "one XLA function")
        for cache in (True, False)
    }
    speed = pd.DataFrame(
        {
            loop: {
                "with the cache": gpt.generation_speed(generator, prompt, NEW_TOKENS, True, one_function=whole),
                "without": gpt.generation_speed(generator, prompt, NEW_TOKENS, False, one_function=whole),
            }
            for loop, whole in (("Python loop", False), ("one XLA function", True))
        }
    ).T
    speed["with / without"] = speed["with the cache"] / speed["without"]
    return {"speed": speed, "same": len({tuple(t) for t in tokens.values()}) == 1}


def print_generation(generation: dict) -> None:
    print(f"\ngeneration, {NEW_TOKENS} new tokens (greedy), tokens per second:")
    print(generation["speed"].round(1).to_string())
    print(f"identical tokens with and without the cache, in both loops: {generation['same']}")


def generation_misses(generation: dict, mode: str) -> list[str]:
    missed = [] if generation["same"] else ["generation with and without the KV cache gave different tokens"]
    ratio = generation["speed"].loc["one XLA function", "with / without"]
    if by_mode(mode, fast=False, full=True) and ratio < MIN_KV_SPEEDUP:
        missed.append(f"KV cache only {ratio:.1f}x faster in one XLA function (target {MIN_KV_SPEEDUP}x)")
    return missed


def generation_only(mode: str) -> int:
    """--generation-only: the generation figures of the GPT that a full run saved, without training."""
    import keras

    from helpers.datasets import shakespeare
    from helpers.lessons import gpt
    from helpers.paths import artifacts_dir

    saved = artifacts_dir("models") / f"gpt_shakespeare_benchmark_{mode}.keras"
    if not saved.exists():
        print(f"{saved} is missing: run this benchmark without --generation-only first (it saves the GPT)")
        return 1
    vocabulary = shakespeare.CharVocabulary.from_texts(shakespeare.load_plays().values())
    generation = generation_figures(gpt, keras.saving.load_model(saved), list(vocabulary.encode("ROMEO:\n")))
    print(f"mode {mode}, the GPT of {saved.name}")
    print_generation(generation)
    missed = generation_misses(generation, mode)
    print("\ntargets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    return 1 if missed else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.fast:
        os.environ["COURSE_MODE"] = "fast"
    mode = course_mode()
    if args.generation_only:
        status = generation_only(mode)
        return status if args.check else 0

    import keras
    import numpy as np
    import pandas as pd
    import tensorflow as tf

    from helpers.datasets import shakespeare
    from helpers.lessons import gpt
    from helpers.paths import artifacts_dir
    from helpers.seeding import seed_everything

    plan = gpt.gpt_plan(mode)
    plays = shakespeare.load_plays()
    split = shakespeare.split_plays(plays, train_limit=plan.train_characters)
    vocabulary = shakespeare.CharVocabulary.from_texts(plays.values())
    train, validation, test = (vocabulary.encode(text) for text in (split.train, split.validation, split.test))
    print(
        f"mode {mode}: {len(split.train_plays)} training plays ({len(train):,} characters), validation "
        f"{'+'.join(split.validation_plays)} ({len(validation):,}), test {'+'.join(split.test_plays)} ({len(test):,}), "
        f"vocabulary {len(vocabulary)}",
        flush=True,
    )

    started = time.perf_counter()
    ngram = gpt.CharNgram(train, len(vocabulary), plan.ngram_orders, pad=vocabulary.characters.index("\n"))
    table = ngram.bits_table(validation, plan.discounts)
    row, column = np.unravel_index(np.argmin(table), table.shape)
    discount, order = plan.discounts[row], int(column) + 1
    ngram_test = ngram.bits_table(test, (discount,))[0]
    print(f"n-grams: orders 1-{plan.ngram_orders}, counted and scored in {time.perf_counter() - started:.0f} s")
    print(pd.DataFrame(table, index=plan.discounts, columns=range(1, plan.ngram_orders + 1)).round(3).to_string())
    rows = {
        "unigram": (table[row, 0], ngram_test[0], len(vocabulary), None, None),
        f"{order}-gram, D = {discount}": (table[row, column], ngram_test[order - 1], None, None, None),
    }

    networks = {}
    seed_everything(args.seed)
    keras.utils.set_random_seed(args.seed)
    model = gpt.GPT(len(vocabulary), plan.context, plan.width, plan.layers, plan.heads)
    model(tf.zeros((1, plan.context), tf.int32))
    networks["GPT"] = model
    keras.utils.set_random_seed(args.seed)
    units = gpt.lstm_units_for(model.count_params(), len(vocabulary))
    networks["LSTM"] = gpt.lstm_language_model(len(vocabulary), units, units)
    for name, network in networks.items():
        print(f"training the {name} ({network.count_params():,} parameters) ...", flush=True)
        log = gpt.train_language_model(network, train, validation, plan, args.seed)
        print(pd.DataFrame(log.rows).round(3).to_string(index=False), flush=True)
        steps = log.rows[-1]["step"]
        tokens_per_second = log.tokens_per_second(plan.batch_size * plan.context)  # after the first epoch
        scorer = gpt.CharacterScorer(network, plan.context)
        rows[name] = (scorer(validation), scorer(test), network.count_params(), log.training_seconds, tokens_per_second)
        print(
            f"  {steps} steps in {log.training_seconds:.0f} s (compilation included), "
            f"{tokens_per_second:,.0f} training tokens/s (after the first epoch)",
            flush=True,
        )

    saved = artifacts_dir("models") / f"gpt_shakespeare_benchmark_{mode}.keras"
    networks["GPT"].save(saved)  # benchmarks/llm.py compares SmolLM2 with it
    print(f"saved the GPT to {saved}")

    generation = generation_figures(gpt, networks["GPT"], list(vocabulary.encode("ROMEO:\n")))
    results = pd.DataFrame(
        rows, index=["validation bits/char", "test bits/char", "parameters", "training s", "training tokens/s"]
    ).T
    print(f"\nbits per character on whole held-out plays ({mode} mode, seed {args.seed}):")
    print(results.to_string(float_format=lambda value: f"{value:,.3f}"))
    print_generation(generation)

    missed = []
    best_ngram = results.iloc[1]
    for column_name in ("validation bits/char", "test bits/char"):
        gpt_bits = results.loc["GPT", column_name]
        if by_mode(mode, fast=False, full=True):
            if gpt_bits > best_ngram[column_name] - MIN_GAIN_OVER_NGRAM:
                missed.append(f"GPT {column_name} {gpt_bits:.3f} not {MIN_GAIN_OVER_NGRAM} below the n-gram")
            if gpt_bits >= results.loc["LSTM", column_name]:
                missed.append(f"GPT {column_name} {gpt_bits:.3f} not below the LSTM")
        elif gpt_bits > results.loc["unigram", column_name] - MIN_GAIN_OVER_UNIGRAM:
            missed.append(f"GPT {column_name} {gpt_bits:.3f} not {MIN_GAIN_OVER_UNIGRAM} below the unigram")
    missed += generation_misses(generation, mode)
    print("\ntargets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
