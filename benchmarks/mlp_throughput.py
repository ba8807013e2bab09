"""Training throughput of the MNIST MLP: eager loop vs ``tf.function`` loop vs ``keras fit``, in one run.

Notebook 02's model and training step (``helpers.lessons.mlp_gradient_tape``, exported from its §7),
identical starting weights for every variant, the same cached ``tf.data`` batches, the same
optimiser and loss, trained four ways:

* an eager ``tf.GradientTape`` loop (every operation dispatched from Python);
* the same step under ``tf.function`` (traced once into a graph);
* the same step under ``tf.function(jit_compile=True)`` (the graph compiled by XLA; ``--no-jit`` skips it);
* ``model.fit`` (Keras's own ``tf.function`` loop, compiled with ``jit_compile=False`` to match).

Each variant first runs one warm-up epoch (tracing, compiling, filling the data cache); then the
variants take turns, one timed epoch each, for ``--rounds`` rounds, so that a slow spell of the
machine hits all of them alike. The table gives the median samples/s, each variant's ratio to the
eager loop, and the test accuracy each model reached, to show all four really trained.

    python benchmarks/mlp_throughput.py --fast     # a quick check: 4096 images, 3 rounds
    python benchmarks/mlp_throughput.py            # COURSE_MODE (default full): 60000 images, 3 rounds
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys

from helpers.mode import by_mode, course_mode

EAGER = "eager GradientTape loop"
GRAPH = "tf.function loop"
XLA = "tf.function(jit_compile=True) loop"
FIT = "keras fit (jit_compile=False)"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="quick check run (same as COURSE_MODE=fast)")
    parser.add_argument("--samples", type=int, help="training images per epoch (default: 4096 fast, 60000 full)")
    parser.add_argument("--rounds", type=int, help="timed epochs per variant (default: 3)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--no-jit", action="store_true", help="leave out the XLA (jit_compile=True) variant")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    for name in ("samples", "rounds", "batch_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    return args


def device_description() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"GPU: {details.get('device_name', gpus[0].name)} (x{len(gpus)})"
    return f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = "fast" if args.fast else course_mode()
    samples = args.samples or by_mode(mode, fast=4096, full=60000)
    rounds = args.rounds or 3

    import keras
    import numpy as np
    import tensorflow as tf

    from helpers.data import load_mnist
    from helpers.lessons.mlp_gradient_tape import build_mnist_mlp, make_model_train_step
    from helpers.seeding import seed_everything
    from helpers.timing import stopwatch

    seed_everything(args.seed)
    (x_train, y_train), (x_test, y_test) = load_mnist()
    if samples > len(x_train):
        print(f"--samples {samples} is more than the {len(x_train)} MNIST training images", file=sys.stderr)
        return 2
    dataset = tf.data.Dataset.from_tensor_slices((x_train[:samples], y_train[:samples])).batch(args.batch_size).cache()

    reference = build_mnist_mlp()
    start_weights = reference.get_weights()
    names = [EAGER, GRAPH, *([] if args.no_jit else [XLA]), FIT]
    models, runners = {}, {}
    for name in names:
        model = build_mnist_mlp()
        model.set_weights(start_weights)
        optimizer = keras.optimizers.Adam(1e-3)
        loss_fn = keras.losses.SparseCategoricalCrossentropy()
        models[name] = model
        if name == FIT:
            model.compile(optimizer=optimizer, loss=loss_fn, jit_compile=False)
            runners[name] = lambda model=model: model.fit(dataset, epochs=1, shuffle=False, verbose=0)
            continue
        step = make_model_train_step(model, optimizer, loss_fn)
        if name == GRAPH:
            step = tf.function(step)
        elif name == XLA:
            step = tf.function(step, jit_compile=True)

        def run_epoch(step=step):
            for x, y in dataset:
                step(x, y)

        runners[name] = run_epoch

    steps_per_epoch = int(dataset.cardinality())
    print(f"MNIST MLP training throughput ({reference.count_params():,} parameters), {mode} mode")
    print(f"{samples} images per epoch, batch {args.batch_size} ({steps_per_epoch} steps), {rounds} timed epochs each")
    print(f"device {device_description()}; TensorFlow {tf.__version__}, Keras {keras.__version__}")
    warmup = {}
    for name, run in runners.items():
        with stopwatch() as elapsed:
            run()
        warmup[name] = elapsed()
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        for name, run in runners.items():
            with stopwatch() as elapsed:
                run()
            times[name].append(elapsed())

    test_images = by_mode(mode, fast=2000, full=len(x_test))
    rows = []
    for name in names:
        probabilities = models[name].predict(x_test[:test_images], batch_size=1000, verbose=0)
        accuracy = float(np.mean(probabilities.argmax(axis=1) == y_test[:test_images]))
        rows.append((name, samples / statistics.median(times[name]), warmup[name], accuracy))
    eager_speed = rows[0][1]
    print()
    print(f"{'variant':<38}{'samples/s':>12}{'x eager':>10}{'warm-up s':>11}{'test acc':>10}")
    for name, speed, first, accuracy in rows:
        print(f"{name:<38}{speed:>12,.0f}{speed / eager_speed:>10.2f}{first:>11.2f}{accuracy:>10.3f}")
    speeds = {name: speed for name, speed, _, _ in rows}
    print()
    ratios = {
        "tf.function / eager": speeds[GRAPH] / speeds[EAGER],
        "fit / eager": speeds[FIT] / speeds[EAGER],
        "fit / tf.function": speeds[FIT] / speeds[GRAPH],
    }
    if not args.no_jit:
        ratios["XLA / tf.function"] = speeds[XLA] / speeds[GRAPH]
    print("ratios: " + ", ".join(f"{name} = {ratio:.2f}" for name, ratio in ratios.items()))
    print(
        f"(median of {rounds} epochs of {samples} images each; warm-up = first epoch, with tracing/compiling;"
        f" test accuracy on {test_images} test images after {rounds + 1} epochs)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
