"""Transfer learning as notebook 04 runs it: the label-efficiency curve of frozen, fine-tuned and scratch.

The notebook's own code (``helpers.lessons.transfer_learning``, exported from its cells): for each
seed, pretrain the small ResNet on MNIST digits 0-4 and save it; then, for each number of labelled
target images per class (digits 5-9; 10, 25, 50 and 100 in full mode), ``compare_methods`` runs

* frozen: the pretrained backbone frozen, a new head trained on its features;
* fine-tuned: then the whole network trained on augmented images;
* scratch: the same network from random weights with the fine-tuning recipe;
* random-frozen (at 50 labels only): a random backbone frozen, a new head trained on its features.

Every label count gets about the same number of training steps (``make_plan`` scales the epochs
with 1 / labels). One run is noisy with few labels, so the experiment runs once per seed (each
seed draws other labelled images, initial weights and augmentations) and the targets are checked
on the mean over seeds.

Targets, full mode, on the mean over the seeds (default five: 42, 1, 2, 3, 4, since one seed's gap
ranges from 1 to 8 points): fine-tuned >= 97 % at 50 labels per class, and fine-tuned at least 5
points above scratch at 10 labels per class; floors on the worst seed: 96 % and 0 points (fine-tuning
never below scratch). Fast mode: fine-tuned >= 90 % at 50 (floor 88 %), and at least as good as
scratch at 10 on the mean (floor -3 points). Seconds include evaluating on the test set. With
``--check`` the figures go to ``benchmarks/results/transfer_MODE.json`` (:mod:`helpers.results`).

    python benchmarks/transfer.py --check                # COURSE_MODE (default full), seeds 42, 1, 2, 3, 4
    python benchmarks/transfer.py --fast --seeds 42      # a quick check run
    python benchmarks/transfer.py --labels 10,50         # only these points of the curve
    python benchmarks/transfer.py --epochs 30            # a bigger budget at 50 labels (scaled for the others)
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from helpers import results
from helpers.mode import by_mode, course_mode

if TYPE_CHECKING:
    import pandas as pd

    from helpers.lessons.transfer_learning import Plan


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = results.benchmark_parser("transfer", __doc__, seeds="42,1,2,3,4")
    parser.add_argument("--labels", help="comma-separated labels per class (default: 10,50 fast; 10,25,50,100 full)")
    parser.add_argument(
        "--epochs",
        type=int,
        help="target-task epochs of fine-tuning and of scratch at 50 labels (scaled like the plan for other counts)",
    )
    args = parser.parse_args(argv)
    if args.check and (args.epochs is not None or args.labels):
        parser.error("--check measures the plan as the notebook runs it: drop --epochs and --labels")
    if args.epochs is not None and args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    return args


def plan_for(mode: str, labels: int, epochs: int | None) -> Plan:
    from helpers.lessons.transfer_learning import DEFAULT_LABELS_PER_CLASS, make_plan

    plan = make_plan(mode, labels)
    if epochs is None:
        return plan
    scaled = max(1, round(epochs * DEFAULT_LABELS_PER_CLASS / labels))
    return dataclasses.replace(plan, fine_tune_epochs=scaled, scratch_epochs=scaled)


def run_seed(mode: str, label_counts: list[int], epochs: int | None, seed: int) -> dict[int, pd.DataFrame]:
    """Pretrain and save for one seed, then the comparison table at each label count."""
    from helpers.datasets.digit_tasks import array_dataset
    from helpers.lessons import transfer_learning as lesson
    from helpers.seeding import seed_everything
    from helpers.timing import stopwatch

    seed_everything(seed)
    plan = lesson.make_plan(mode)
    tasks = lesson.digit_tasks(plan, seed=seed)
    with stopwatch() as pretrain_seconds:
        source_model = lesson.pretrain(
            lesson.build_small_resnet(),
            array_dataset(*tasks.source_train, 64, shuffle_seed=seed),
            len(lesson.SOURCE_DIGITS),
            plan,
            seed=seed,
        )
    source_accuracy = source_model.evaluate(array_dataset(*tasks.source_test, 512), verbose=0)[1]
    print(
        f"\nseed {seed}: pretrained on {len(tasks.source_train[0])} images of digits 0-4 "
        f"in {pretrain_seconds():.1f} s, source test accuracy {source_accuracy:.2%}; "
        f"{len(tasks.target_test[0])} target test images",
        flush=True,
    )
    tables = {}
    with tempfile.TemporaryDirectory(prefix="transfer-benchmark-") as folder:
        source_path = Path(folder) / "source.keras"
        source_model.save(source_path)
        for labels in label_counts:
            target_plan = plan_for(mode, labels, epochs)
            table = lesson.compare_methods(
                target_plan, source_path, seed=seed, random_frozen=labels == lesson.DEFAULT_LABELS_PER_CLASS
            )
            tables[labels] = table
            print(f"  {labels} labels per class, {target_plan.fine_tune_epochs} epochs:", flush=True)
            print("    " + table.drop(columns="what").to_string().replace("\n", "\n    "), flush=True)
    return tables


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = "fast" if args.fast else course_mode()
    seeds = args.seeds

    import keras
    import pandas as pd
    import tensorflow as tf

    from helpers.lessons import transfer_learning as lesson

    version = results.code_version()  # the code that runs, read before the long training
    label_counts = [int(n) for n in args.labels.split(",")] if args.labels else list(lesson.label_counts(mode))
    print(
        f"mode: {mode}   TensorFlow {tf.__version__}   Keras {keras.__version__}   CPUs: {os.cpu_count()}   "
        f"load average (1 min): {os.getloadavg()[0]:.2f}   seeds: {seeds}   labels per class: {label_counts}"
    )
    print(plan_for(mode, lesson.DEFAULT_LABELS_PER_CLASS, args.epochs))
    runs = {seed: run_seed(mode, label_counts, args.epochs, seed) for seed in seeds}

    rows = []
    for labels in label_counts:
        accuracies = pd.concat([runs[seed][labels]["test accuracy"] for seed in seeds], axis=1, keys=seeds)
        seconds = pd.concat([runs[seed][labels]["seconds"] for seed in seeds], axis=1, keys=seeds)
        for method in accuracies.index:
            rows.append(
                {
                    "labels per class": labels,
                    "method": method,
                    "mean accuracy": accuracies.loc[method].mean(),
                    "min": accuracies.loc[method].min(),
                    "max": accuracies.loc[method].max(),
                    "mean seconds": seconds.loc[method].mean(),
                }
            )
    summary = (
        pd.DataFrame(rows).set_index(["labels per class", "method"]).round({"mean accuracy": 4, "mean seconds": 1})
    )
    print(f"\nTarget task: digits 5-9 ({mode} mode), mean over {len(seeds)} seed(s)\n")
    print(summary.to_string())

    gaps = pd.DataFrame(
        {
            seed: {
                labels: runs[seed][labels].loc["fine-tuned", "test accuracy"]
                - runs[seed][labels].loc["scratch", "test accuracy"]
                for labels in label_counts
            }
            for seed in seeds
        }
    )
    print("\nfine-tuned minus scratch, points (rows: labels per class, columns: seeds):")
    print((100 * gaps).round(1).assign(mean=(100 * gaps.mean(axis=1)).round(1)).to_string())

    per_seed = {
        seed: {
            f"{method} at {labels} labels per class": float(runs[seed][labels].loc[method, "test accuracy"])
            for labels in label_counts
            for method in runs[seed][labels].index
        }
        | {
            f"fine-tuned minus scratch at {labels} labels per class": float(gaps.loc[labels, seed])
            for labels in label_counts
        }
        for seed in seeds
    }
    targets = {}
    fewest, default = min(label_counts), lesson.DEFAULT_LABELS_PER_CLASS
    if default in label_counts:
        goal, floor = by_mode(mode, fast=(0.90, 0.88), full=(0.97, 0.96))
        targets[f"fine-tuned at {default} labels per class >= {goal:.0%} (floor {floor:.0%})"] = results.target(
            [per_seed[seed][f"fine-tuned at {default} labels per class"] for seed in seeds], goal, floor
        )
    if fewest == 10:
        goal, floor = by_mode(mode, fast=(0.0, -0.03), full=(0.05, 0.0))
        name = f"fine-tuned minus scratch at 10 labels per class >= {100 * goal:+.0f} points (floor {100 * floor:+.0f})"
        targets[name] = results.target(gaps.loc[10], goal, floor)
    return results.finish("transfer", mode, seeds, per_seed, targets, version, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
