"""Encoder-decoder models as notebook 08b trains them: number words to digits, transformer against an LSTM.

The notebook's own code (``helpers.lessons.encoder_decoder``, exported from its cells). For each seed it
draws the synthetic task (numbers of 1 to 18 digits in English words, uniform in the count of digits;
the held-out numbers are a fixed tenth of all numbers, chosen by a hash, never in training), trains the
transformer encoder-decoder with cross-attention and the LSTM encoder-decoder without attention (the
encoder's final state is the only bridge), each for the plan's steps with teacher forcing, decodes the
held-out numbers greedily and prints exact-match accuracy overall and against the source length.

Targets (issue 37, full mode, over the seeds, default 42, 1, 2): the transformer's exact match on the
held-out numbers at least 0.95 on the mean (floor 0.9 on the worst seed), and on the longest bucket of
source lengths at least 20 points above the LSTM on the mean (floor 10). With ``--check`` the figures go
to ``benchmarks/results/encoder_decoder_MODE.json`` (:mod:`helpers.results`).

    python benchmarks/encoder_decoder.py --check             # COURSE_MODE (default full), seeds 42, 1, 2
    python benchmarks/encoder_decoder.py --fast --seeds 42   # a quick look
"""

from __future__ import annotations

import argparse
import sys
import time

from helpers import results
from helpers.mode import course_mode

MIN_EXACT_MATCH = 0.95
FLOOR_EXACT_MATCH = 0.90
MIN_GAIN_ON_LONGEST = 0.20
FLOOR_GAIN_ON_LONGEST = 0.10


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = results.benchmark_parser("encoder_decoder", __doc__, seeds="42,1,2")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = "fast" if args.fast else course_mode()
    seeds = args.seeds


    from helpers.lessons import encoder_decoder as lesson

    version = results.code_version()  # the code that runs, read before the training
    plan = lesson.seq2seq_plan(mode)
    print(results.run_header(mode, seeds))
    print(plan)
    per_seed: dict[int, dict[str, float]] = {}
    longest = lesson.bucket_names()[-1]
    for seed in seeds:
        train, test = lesson.number_tasks(plan, seed)
        print(f"\nseed {seed}: {len(train.numbers):,} training numbers, {len(test.numbers):,} held-out numbers")
        per_seed[seed] = {}
        for name in lesson.MODELS:
            started = time.perf_counter()
            model, rows, matches = lesson.train_and_score(name, train, test, plan, seed)
            by_length = lesson.accuracy_by_length(matches, test)
            print(
                f"  {name}: {model.count_params():,} weights, {rows[-1]['step']} steps, loss {rows[-1]['loss']:.4f}, "
                f"exact match {matches.mean():.4f}; by source length: "
                + ", ".join(f"{bucket} {value:.3f}" for bucket, value in by_length.items())
                + f"  ({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
            per_seed[seed][f"{name}: exact match"] = float(matches.mean())
            per_seed[seed] |= {f"{name}: exact match, {bucket}": value for bucket, value in by_length.items()}
            per_seed[seed][f"{name}: training seconds"] = rows[-1]["seconds"]
        transformer, lstm = lesson.MODELS
        per_seed[seed][f"gain on {longest}"] = (
            per_seed[seed][f"{transformer}: exact match, {longest}"] - per_seed[seed][f"{lstm}: exact match, {longest}"]
        )

    results.print_over_seeds(per_seed, seeds)
    transformer = lesson.MODELS[0]
    targets = {
        f"{transformer}: exact match on held-out numbers >= {MIN_EXACT_MATCH} (floor {FLOOR_EXACT_MATCH})": (
            results.target(
                (per_seed[seed][f"{transformer}: exact match"] for seed in seeds), MIN_EXACT_MATCH, FLOOR_EXACT_MATCH
            )
        ),
        f"{transformer} above the LSTM on {longest} by >= {MIN_GAIN_ON_LONGEST} (floor {FLOOR_GAIN_ON_LONGEST})": (
            results.target(
                (per_seed[seed][f"gain on {longest}"] for seed in seeds), MIN_GAIN_ON_LONGEST, FLOOR_GAIN_ON_LONGEST
            )
        ),
    }
    return results.finish("encoder_decoder", mode, seeds, per_seed, targets, version, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
