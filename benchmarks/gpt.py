"""Character language models on Shakespeare as notebook 08 builds them: n-grams, an LSTM, a small GPT.

The same code as the notebook (``helpers.lessons.gpt``, generated from its cells tagged ``export``),
on the plays of ``helpers.datasets.shakespeare``: 36 plays for training, Hamlet for validation and The Tempest
for the test, whole plays. It prints:

* the character n-grams (interpolated absolute discounting): the order and discount chosen on the
  validation play, and their bits per character on both held-out plays;
* the LSTM and the GPT, for each seed (about the same parameter count, the same steps, batch,
  optimiser and schedule; training sized in steps, never seconds): bits per character, parameters,
  training seconds (the compilation in the first epoch included) and training tokens per second
  (after the first epoch);
* greedy generation of 256 new tokens with and without the KV cache, in ``generate``'s Python loop
  and with the whole loop in one XLA function: tokens per second, and whether the tokens are identical.

The trained GPT is saved to ``artifacts/models/gpt_shakespeare_benchmark_MODE.keras`` (``benchmarks/llm.py``
scores it beside SmolLM2).

Targets (full mode), over the seeds (default 42, 1, 2): the GPT at least 0.15 bits/char below the best
n-gram on the mean (at least 0.10 on every seed) and below the LSTM on every seed, on both held-out
plays; the KV cache at least 5 times faster at 256 new tokens (the loop in one XLA function), with
identical tokens. Fast mode: the GPT at least 1 bit/char below the unigram, identical tokens.
``--check`` writes ``benchmarks/results/gpt_MODE.json`` (helpers.results), which notebook 08 quotes.

    python benchmarks/gpt.py           # COURSE_MODE (default full): about 25 minutes a seed on a 2-core CPU
    python benchmarks/gpt.py --fast    # a quick check run (about a minute a seed)
    python benchmarks/gpt.py --check   # write the results file; exit 1 when a target is missed
    python benchmarks/gpt.py --generation-only   # only the generation figures, of the GPT a full run saved
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from helpers.mode import by_mode, course_mode

NEW_TOKENS = 256
MIN_GAIN_OVER_NGRAM = 0.15  # full mode: bits/char the GPT must be below the best n-gram, on the mean over seeds
FLOOR_GAIN_OVER_NGRAM = 0.10  # full mode: and on every seed
MIN_KV_SPEEDUP = 5.0  # full mode
MIN_GAIN_OVER_UNIGRAM = 1.0  # fast mode


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="quick check run (same as COURSE_MODE=fast)")
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[42, 1, 2], help="seeds of the networks' initialisation and batches"
    )
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


def train_networks(gpt, plan, vocabulary_size: int, held_out: dict, train, seed: int) -> tuple[dict, dict]:
    """The GPT and the LSTM of its size trained from ``seed``: their figures, and the models."""
    import keras
    import pandas as pd
    import tensorflow as tf

    from helpers.seeding import seed_everything

    seed_everything(seed)
    keras.utils.set_random_seed(seed)
    model = gpt.GPT(vocabulary_size, plan.context, plan.width, plan.layers, plan.heads)
    model(tf.zeros((1, plan.context), tf.int32))
    networks = {"GPT": model}
    keras.utils.set_random_seed(seed)
    units = gpt.lstm_units_for(model.count_params(), vocabulary_size)
    networks["LSTM"] = gpt.lstm_language_model(vocabulary_size, units, units)
    figures = {}
    for name, network in networks.items():
        print(f"seed {seed}: training the {name} ({network.count_params():,} parameters) ...", flush=True)
        log = gpt.train_language_model(network, train, held_out["validation"], plan, seed)
        print(pd.DataFrame(log.rows).round(3).to_string(index=False), flush=True)
        scorer = gpt.CharacterScorer(network, plan.context)
        for play, ids in held_out.items():
            figures[f"{name} {play} bits/char"] = scorer(ids)
        figures[f"{name} parameters"] = network.count_params()
        figures[f"{name} training s"] = log.training_seconds
        figures[f"{name} training tokens/s"] = log.tokens_per_second(plan.batch_size * plan.context)
        print(
            f"  {log.steps_done} steps in {log.training_seconds:.0f} s (compilation included), "
            f"{figures[f'{name} training tokens/s']:,.0f} training tokens/s (after the first epoch)",
            flush=True,
        )
    return figures, networks


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.fast:
        os.environ["COURSE_MODE"] = "fast"
    mode = course_mode()
    if args.generation_only:
        status = generation_only(mode)
        return status if args.check else 0

    import numpy as np
    import pandas as pd

    from helpers import results
    from helpers.datasets import shakespeare
    from helpers.lessons import gpt
    from helpers.paths import artifacts_dir

    version = results.code_version()  # the code that runs: read before the long training, not after it
    plan = gpt.gpt_plan(mode)
    plays = shakespeare.load_plays()
    split = shakespeare.split_plays(plays, train_limit=plan.train_characters)
    vocabulary = shakespeare.CharVocabulary.from_texts(plays.values())
    train, validation, test = (vocabulary.encode(text) for text in (split.train, split.validation, split.test))
    held_out = {"validation": validation, "test": test}
    print(
        f"mode {mode}: {len(split.train_plays)} training plays ({len(train):,} characters), validation "
        f"{'+'.join(split.validation_plays)} ({len(validation):,}), test {'+'.join(split.test_plays)} ({len(test):,}), "
        f"vocabulary {len(vocabulary)}, {plan.steps} steps per network, seeds {args.seeds}",
        flush=True,
    )

    started = time.perf_counter()
    ngram = gpt.CharNgram(train, len(vocabulary), plan.ngram_orders, pad=vocabulary.characters.index("\n"))
    table = ngram.bits_table(validation, plan.discounts)
    row, column = np.unravel_index(np.argmin(table), table.shape)
    discount, order = plan.discounts[row], int(column) + 1
    ngram_bits = {"validation": table[row, column], "test": ngram.bits_table(test, (discount,))[0][order - 1]}
    unigram_bits = {"validation": table[row, 0], "test": ngram.bits_table(test, (discount,))[0][0]}
    print(f"n-grams: orders 1-{plan.ngram_orders}, counted and scored in {time.perf_counter() - started:.0f} s")
    print(pd.DataFrame(table, index=plan.discounts, columns=range(1, plan.ngram_orders + 1)).round(3).to_string())
    print(f"best: order {order}, D = {discount}: {ngram_bits}")

    per_seed, first_gpt = {}, None
    for seed in args.seeds:
        figures, networks = train_networks(gpt, plan, len(vocabulary), held_out, train, seed)
        for play in held_out:
            figures[f"n-gram minus GPT, {play} (bits/char)"] = ngram_bits[play] - figures[f"GPT {play} bits/char"]
            figures[f"LSTM minus GPT, {play} (bits/char)"] = (
                figures[f"LSTM {play} bits/char"] - figures[f"GPT {play} bits/char"]
            )
            figures[f"unigram minus GPT, {play} (bits/char)"] = unigram_bits[play] - figures[f"GPT {play} bits/char"]
        per_seed[seed] = figures
        first_gpt = first_gpt or networks["GPT"]

    saved = artifacts_dir("models") / f"gpt_shakespeare_benchmark_{mode}.keras"
    first_gpt.save(saved)  # benchmarks/llm.py compares SmolLM2 with it
    print(f"saved the GPT of seed {args.seeds[0]} to {saved}")
    generation = generation_figures(gpt, first_gpt, list(vocabulary.encode("ROMEO:\n")))
    print_generation(generation)

    per_seed_table = pd.DataFrame(per_seed).T
    shown = [column for column in per_seed_table.columns if "bits/char" in column]
    print(f"\nper seed ({mode} mode), bits per character on whole held-out plays:")
    print(per_seed_table[shown].T.round(3).to_string())
    bits = ", ".join(f"{ngram_bits[play]:.3f} {play}" for play in held_out)
    print(f"n-gram ({order}-gram, D = {discount}): {bits}")

    targets = {}
    for play in held_out:
        if by_mode(mode, fast=False, full=True):
            targets[f"GPT at least {MIN_GAIN_OVER_NGRAM} bits/char below the n-gram, {play}"] = results.target(
                per_seed_table[f"n-gram minus GPT, {play} (bits/char)"], MIN_GAIN_OVER_NGRAM, FLOOR_GAIN_OVER_NGRAM
            )
            targets[f"GPT below the LSTM, {play}"] = results.target(
                per_seed_table[f"LSTM minus GPT, {play} (bits/char)"], 0.0, 0.0
            )
        else:
            targets[f"GPT at least {MIN_GAIN_OVER_UNIGRAM} bits/char below the unigram, {play}"] = results.target(
                per_seed_table[f"unigram minus GPT, {play} (bits/char)"], MIN_GAIN_OVER_UNIGRAM, MIN_GAIN_OVER_UNIGRAM
            )
    speedup = generation["speed"].loc["one XLA function", "with / without"]
    targets["identical tokens with and without the KV cache"] = {"met": bool(generation["same"])}
    if by_mode(mode, fast=False, full=True):
        targets[f"KV cache at least {MIN_KV_SPEEDUP}x faster (one XLA function)"] = {
            "measured": float(speedup),
            "target": MIN_KV_SPEEDUP,
            "met": bool(speedup >= MIN_KV_SPEEDUP),
        }
    return results.finish("gpt", mode, args.seeds, per_seed, targets, version, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
