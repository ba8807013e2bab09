"""Transfer learning as notebook 04 runs it: frozen, fine-tuned, scratch and random-frozen, with times.

The same code as the notebook (``helpers.transfer``): pretrain the small ResNet on MNIST digits
0-4, save it, load it back, write the target task (digits 5-9, 50 labelled images per class) to a
class-per-folder tree, load it with ``keras.utils.image_dataset_from_directory``, then

* frozen: the pretrained backbone frozen, a new head trained on its features;
* fine-tuned: then the whole network trained on augmented images;
* scratch: the same network from random weights with the fine-tuning recipe (same epochs);
* random-frozen: a random backbone frozen, a new head trained on its features.

Targets (full mode): fine-tuned >= 97 % on all ~4 860 test images of digits 5-9 and >= 5 points
above scratch; fast mode: fine-tuned >= 90 %. Seconds include evaluating on the test set.

    python benchmarks/transfer.py          # COURSE_MODE (default full)
    python benchmarks/transfer.py --fast   # a quick check run
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from helpers.mode import by_mode, course_mode


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="quick check run (same as COURSE_MODE=fast)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--check", action="store_true", help="exit with status 1 if a target is missed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = "fast" if args.fast else course_mode()

    import keras
    import tensorflow as tf

    from helpers import transfer
    from helpers.seeding import seed_everything
    from helpers.timing import stopwatch

    seed_everything(args.seed)
    plan = transfer.plan(mode)
    load = os.getloadavg()[0]
    print(
        f"mode: {mode}   TensorFlow {tf.__version__}   Keras {keras.__version__}   CPUs: {os.cpu_count()}   "
        f"load average (1 min): {load:.2f}"
    )
    print(plan)
    tasks = transfer.digit_tasks(plan, seed=args.seed)
    with stopwatch() as pretrain_seconds:
        source_model = transfer.pretrain(
            transfer.build_small_resnet(),
            transfer.array_dataset(*tasks.source_train, 64, shuffle_seed=args.seed),
            5,
            plan,
        )
    source_accuracy = source_model.evaluate(transfer.array_dataset(*tasks.source_test, 512), verbose=0)[1]
    print(
        f"pretrained on {len(tasks.source_train[0])} images of digits 0-4 in {pretrain_seconds():.1f} s: "
        f"source test accuracy {source_accuracy:.2%}",
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
        train = load_folder(train_root, batch_size=plan.batch_size, seed=args.seed, **common)
        test = load_folder(test_root, batch_size=512, shuffle=False, **common)

        pretrained = transfer.fit_transfer(
            transfer.load_pretrained_backbone(source_path), train, test, len(names), plan, seed=args.seed
        )
        print(f"frozen and fine-tuned: {pretrained}", flush=True)
        scratch = transfer.train_from_scratch(
            transfer.build_small_resnet(), train, test, len(names), plan, seed=args.seed
        )
        print(f"scratch: {scratch}", flush=True)
        random_frozen = transfer.fit_transfer(
            transfer.course_backbone(transfer.build_small_resnet(), "random weights"),
            train,
            test,
            len(names),
            plan,
            fine_tune=False,
            seed=args.seed,
        )

    table = transfer.comparison_table(pretrained, scratch, random_frozen)
    print(
        f"\nTarget task: digits 5-9, {plan.labels_per_class} labelled images per class, "
        f"{len(tasks.target_test[0])} test images ({mode} mode)\n"
    )
    print(table.to_markdown() if _has_tabulate() else table.to_string())
    fine_tuned, scratch_accuracy = table.loc["fine-tuned", "test accuracy"], table.loc["scratch", "test accuracy"]
    bound = by_mode(mode, fast=0.90, full=0.97)
    gap = by_mode(mode, fast=0.0, full=0.05)
    met = fine_tuned >= bound and fine_tuned - scratch_accuracy >= gap
    print(
        f"\nfine-tuned {fine_tuned:.2%} (target >= {bound:.0%}), {100 * (fine_tuned - scratch_accuracy):+.1f} points "
        f"over scratch (target >= {100 * gap:.0f}): {'met' if met else 'NOT met'}"
    )
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}  (other work on the machine inflates the times)")
    return 1 if args.check and not met else 0


def _has_tabulate() -> bool:
    """Whether pandas can print Markdown tables here (it needs the optional ``tabulate`` package)."""
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
