"""MNIST MLP and CNN trained exactly as notebook 03 trains them: test accuracy, training time, samples/s.

Both models come from notebook 03 (``helpers.lessons.mnist.fit_mnist_model``: the same architecture, recipe and
``tf.data`` pipeline as the notebook's final models). Only ``model.fit`` is timed; loading the data,
building the model and evaluating are not. The targets (full mode, all 60 000 training images,
a 2-core CPU) are those of the course: MLP ≥ 98.2 % in ≤ 2 minutes, CNN ≥ 99.3 % in ≤ 8 minutes.
The trained models are saved as ``.keras`` files to a folder the script prints.

    python benchmarks/mnist.py             # COURSE_MODE (default full): 60 000 images, 12 epochs each
    python benchmarks/mnist.py --fast      # a quick check: 10 000 images, a few epochs
    python benchmarks/mnist.py --kinds cnn --out /tmp/mnist-models

Runs unchanged on a GPU (``make gpu`` installs TensorFlow's CUDA libraries); the device is printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

from helpers.mode import by_mode, course_mode

# (minimum test accuracy, maximum training seconds) per model and mode; no time target in fast mode.
TARGETS = {
    "full": {"mlp": (0.982, 120.0), "cnn": (0.993, 480.0)},
    "fast": {"mlp": (0.93, None), "cnn": (0.96, None)},
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="quick check run (same as COURSE_MODE=fast)")
    parser.add_argument("--kinds", nargs="+", choices=("mlp", "cnn"), default=["mlp", "cnn"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, help="folder for the .keras files (default: artifacts/benchmarks/mnist)")
    parser.add_argument("--check", action="store_true", help="exit with status 1 if a target is missed")
    return parser.parse_args(argv)


def device_used() -> str:
    """The device TensorFlow trains on here: the first GPU if it sees one, else the CPU."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", gpus[0].name)
        return f"GPU {name} ({len(gpus)} visible)"
    return f"CPU {platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = "fast" if args.fast else course_mode()

    import keras
    import tensorflow as tf

    from helpers.datasets.registry import load_mnist
    from helpers.lessons.mnist import fit_mnist_model, mnist_dataset, mnist_recipe
    from helpers.paths import artifacts_dir
    from helpers.seeding import seed_everything

    out = args.out or artifacts_dir("benchmarks", "mnist")
    out.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"device: {device_used()}")
    print(f"mode: {mode}   TensorFlow {tf.__version__}   Keras {keras.__version__}   load average (1 min): {load:.2f}")
    _, (x_test, y_test) = load_mnist()
    test = mnist_dataset(x_test, y_test, batch_size=1000)

    rows = []
    for kind in args.kinds:
        recipe = mnist_recipe(kind, mode)
        print(f"training {kind}: {recipe}", flush=True)
        seed_everything(args.seed)
        run = fit_mnist_model(kind, mode, verbose=by_mode(mode, fast=0, full=2))
        accuracy = float(run.model.evaluate(test, verbose=0)[1])
        path = out / f"mnist_{kind}.keras"
        run.model.save(path)
        min_accuracy, max_seconds = TARGETS[mode][kind]
        met = accuracy >= min_accuracy and (max_seconds is None or run.seconds <= max_seconds)
        target = f">= {min_accuracy:.1%}" + (f" in <= {max_seconds:.0f} s" if max_seconds else "")
        rows.append((kind, accuracy, run.seconds, run.samples_per_second, run.epochs_run, target, met, path))

    print(f"\n| model | test accuracy | training s | samples/s | epochs | target ({mode}) | met |")
    print("| --- | ---: | ---: | ---: | ---: | --- | --- |")
    for kind, accuracy, seconds, per_second, epochs, target, met, _ in rows:
        print(f"| {kind} | {accuracy:.2%} | {seconds:.1f} | {per_second:,.0f} | {epochs} | {target} | {met} |")
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average (1 min) at the end: {load_after:.2f}  (other work on the machine inflates the times)")
    print(f"models saved to {out}: " + ", ".join(path.name for *_, path in rows))
    return 1 if args.check and not all(row[6] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
