"""Transfer learning as notebook 04 runs it: frozen, fine-tuned, scratch and random-frozen, with times.

The same code as the notebook (``helpers.transfer``): pretrain the small ResNet on MNIST digits
0-4, save it, load it back, write the target task (digits 5-9, 50 labelled images per class) to a
class-per-folder tree, load it with ``keras.utils.image_dataset_from_directory``, then

* frozen: the pretrained backbone frozen, a new head trained on its features;
* fine-tuned: then the whole network trained on augmented images;
* scratch: the same network from random weights with the fine-tuning recipe (same epochs);
* random-frozen: a random backbone frozen, a new head trained on its features.

With 250 labelled images one run is noisy (a point or more between seeds), so the experiment runs
once per seed (each seed draws other labelled images, initial weights and augmentations) and the
targets are checked on the mean over seeds.

Targets (full mode): fine-tuned >= 97 % on all ~4 860 test images of digits 5-9 and >= 5 points
above scratch; fast mode: fine-tuned >= 90 %. Seconds include evaluating on the test set.

    python benchmarks/transfer.py                        # COURSE_MODE (default full), seeds 42, 1, 2
    python benchmarks/transfer.py --fast --seeds 42      # a quick check run
    python benchmarks/transfer.py --labels-per-class 10  # fewer labels: where pretraining matters most
    python benchmarks/transfer.py --epochs 30            # a bigger budget on the target task, for both
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from helpers.mode import by_mode, course_mode

if TYPE_CHECKING:
    import pandas as pd

    from helpers.transfer import Plan


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="quick check run (same as COURSE_MODE=fast)")
    parser.add_argument("--seeds", default="42,1,2", help="comma-separated seeds, one run each (default 42,1,2)")
    parser.add_argument(
        "--labels-per-class", type=int, default=50, help="labelled target images per digit (default 50)"
    )
    parser.add_argument(
        "--epochs",
        type=int,
        help="target-task epochs of fine-tuning and of scratch, the same for both (default: the plan's)",
    )
    parser.add_argument("--check", action="store_true", help="exit with status 1 if a target is missed")
    return parser.parse_args(argv)


def run_once(plan: Plan, seed: int) -> pd.DataFrame:
    """Pretrain, save, load, transfer and compare for one seed: the comparison table of the notebook."""
    import keras

    from helpers import transfer
    from helpers.seeding import seed_everything
    from helpers.timing import stopwatch

    seed_everything(seed)
    tasks = transfer.digit_tasks(plan, seed=seed)
    with stopwatch() as pretrain_seconds:
        source_model = transfer.pretrain(
            transfer.build_small_resnet(),
            transfer.array_dataset(*tasks.source_train, 64, shuffle_seed=seed),
            len(transfer.SOURCE_DIGITS),
            plan,
            seed=seed,
        )
    source_accuracy = source_model.evaluate(transfer.array_dataset(*tasks.source_test, 512), verbose=0)[1]
    print(
        f"\nseed {seed}: pretrained on {len(tasks.source_train[0])} images of digits 0-4 "
        f"in {pretrain_seconds():.1f} s, source test accuracy {source_accuracy:.2%}; "
        f"target: {len(tasks.target_train[0])} labelled images, {len(tasks.target_test[0])} test images",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="transfer-benchmark-") as folder:
        source_path = Path(folder) / "source.keras"
        source_model.save(source_path)
        names = transfer.TARGET_CLASS_NAMES
        train_root = transfer.write_image_folders(*tasks.target_train, names, Path(folder) / "train")
        test_root = transfer.write_image_folders(*tasks.target_test, names, Path(folder) / "test")
        load_folder = keras.utils.image_dataset_from_directory
        common = {"color_mode": "grayscale", "image_size": (28, 28), "verbose": False}
        train = load_folder(train_root, batch_size=plan.batch_size, seed=seed, **common)
        test = load_folder(test_root, batch_size=512, shuffle=False, **common)

        pretrained = transfer.fit_transfer(
            transfer.load_pretrained_backbone(source_path), train, test, len(names), plan, seed=seed
        )
        scratch = transfer.train_from_scratch(transfer.build_small_resnet(), train, test, len(names), plan, seed=seed)
        random_backbone = transfer.course_backbone(transfer.build_small_resnet(), "random weights")
        random_frozen = transfer.fit_transfer(
            random_backbone, train, test, len(names), plan, fine_tune=False, seed=seed
        )
    table = transfer.comparison_table(pretrained, scratch, random_frozen)
    print(table.to_string(), flush=True)
    return table


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = "fast" if args.fast else course_mode()
    seeds = [int(seed) for seed in args.seeds.split(",")]

    import dataclasses

    import keras
    import pandas as pd
    import tensorflow as tf

    from helpers import transfer

    plan = transfer.plan(mode, args.labels_per_class)
    if args.epochs is not None:
        if args.epochs < 1:
            raise SystemExit(f"--epochs must be at least 1, got {args.epochs}")
        plan = dataclasses.replace(plan, fine_tune_epochs=args.epochs, scratch_epochs=args.epochs)
    print(
        f"mode: {mode}   TensorFlow {tf.__version__}   Keras {keras.__version__}   CPUs: {os.cpu_count()}   "
        f"load average (1 min): {os.getloadavg()[0]:.2f}   seeds: {seeds}"
    )
    print(plan)
    tables = [run_once(plan, seed) for seed in seeds]

    accuracies = pd.concat([table["test accuracy"] for table in tables], axis=1, keys=seeds)
    seconds = pd.concat([table["seconds"] for table in tables], axis=1, keys=seeds)
    summary = pd.DataFrame(
        {
            "what": tables[0]["what"],
            "mean accuracy": accuracies.mean(axis=1),
            "min": accuracies.min(axis=1),
            "max": accuracies.max(axis=1),
            "mean seconds": seconds.mean(axis=1),
        }
    ).round({"mean accuracy": 4, "mean seconds": 1})
    gaps = accuracies.loc["fine-tuned"] - accuracies.loc["scratch"]
    print(
        f"\nTarget task: digits 5-9, {plan.labels_per_class} labelled images per class ({mode} mode), "
        f"{plan.fine_tune_epochs} epochs of fine-tuning and of scratch, mean over {len(seeds)} seed(s)\n"
    )
    print(summary.to_string())
    fine_tuned = float(summary.loc["fine-tuned", "mean accuracy"])
    bound = by_mode(mode, fast=0.90, full=0.97)
    gap_target = by_mode(mode, fast=0.0, full=0.05)
    met = fine_tuned >= bound and gaps.mean() >= gap_target
    print(
        "\nfine-tuned minus scratch, points per seed: "
        + ", ".join(f"{seed}: {100 * gap:+.1f}" for seed, gap in gaps.items())
    )
    print(
        f"fine-tuned {fine_tuned:.2%} (target >= {bound:.0%}), {100 * gaps.mean():+.1f} points over scratch on average "
        f"(target >= {100 * gap_target:.0f}): {'met' if met else 'NOT met'}"
    )
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}  (other work on the machine inflates the times)")
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
