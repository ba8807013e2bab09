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

Then the performance ladder of notebook 13 (``helpers.lessons.scaling``), in the same run: the machine's limit
first (the best FLOP/s of 512, 1024 and 2048 square matmuls in float32, and in bfloat16 where the CPU has
AVX-512 BF16 or AMX, float16 on a GPU), then every rung (eager, tf.function, XLA, larger batches, several
steps per call, the tf.data pipeline done wrong and right, mixed precision) with its samples/s and its share
of the limit of the precision its matmuls compute in (a bfloat16 rung against the bfloat16 limit), with the
FLOPs per training example counted from the layers (``training_flops_per_sample``: about 4 x the parameters
for this MLP, whose first layer needs no gradient of its input; the usual rule says 6 x). The limit's matmuls
take their turn in every round of the ladder too, and are measured alone before and after it; the shares use
the best of all (a limit measured in a busy moment would flatter them). The load average is printed, since
another job on the same cores distorts every absolute number (the ratios, measured in turns, much less).

    python benchmarks/mlp_throughput.py --ladder-only           # the ladder alone
    python benchmarks/mlp_throughput.py --ladder-only --check   # exit 1 if the best float32 rung < 1/3 of the limit
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
    parser.add_argument("--ladder-only", action="store_true", help="only notebook 13's ladder against the limit")
    parser.add_argument("--no-ladder", action="store_true", help="only the eager / tf.function / XLA / fit table")
    parser.add_argument("--check", action="store_true", help="exit 1 if the best float32 rung is under the target")
    args = parser.parse_args(argv)
    if args.ladder_only and args.no_ladder:
        parser.error("--ladder-only and --no-ladder exclude each other")
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


TARGET_SHARE = 1 / 3  # issue 20: the best float32 rung at a third of the float32 matmul limit


def ladder(mode: str, seed: int, rounds: int | None) -> float:
    """Notebook 13's ladder against the machine's limit; the best float32 rung's share of that limit."""
    import pandas as pd

    from helpers.datasets.registry import load_mnist
    from helpers.lessons.mlp_gradient_tape import build_mnist_mlp
    from helpers.lessons.scaling import (
        encode_png,
        low_precision_dtype,
        matmul_limit,
        measure_ladder,
        scaling_plan,
        standard_rungs,
        training_flops_per_sample,
    )
    from helpers.seeding import seed_everything

    plan = scaling_plan(mode)
    seed_everything(seed)
    (x_train, y_train), (x_test, y_test) = load_mnist()
    low = low_precision_dtype()
    load_before = os.getloadavg()[0]
    before = {"float32": matmul_limit("float32")}
    if low is not None:
        before[low] = matmul_limit(low)
    flops = training_flops_per_sample(build_mnist_mlp())
    pngs = encode_png(x_train[: plan.ladder_samples])
    rungs = standard_rungs(plan, low)
    measured = measure_ladder(
        rungs,
        pngs,
        y_train[: plan.ladder_samples],
        (x_test[: plan.test_samples], y_test[: plan.test_samples]),
        rounds=rounds or plan.ladder_rounds,
        seed=seed,
        limit_dtypes=list(before),
    )
    after = {dtype: matmul_limit(dtype) for dtype in before}
    limit = {dtype: max(before[dtype], measured.limits[dtype], after[dtype]) for dtype in before}
    table = pd.DataFrame(measured.rows).set_index("rung")
    table["GFLOP/s"] = table["samples/s"] * flops / 1e9
    table["computes in"] = [rung.precision.removeprefix("mixed_") for rung in rungs]
    table["% of its limit"] = 100 * table["GFLOP/s"] * 1e9 / table["computes in"].map(limit)
    print()
    print(
        f"notebook 13's ladder, {mode} mode: {plan.ladder_samples} images per epoch, {rounds or plan.ladder_rounds}"
        f" timed epochs per rung in turns; {flops / 1e6:.2f} MFLOP per training example, counted from the layers"
    )
    for dtype in before:
        print(
            f"limit in {dtype} (best of 512, 1024, 2048 matmuls): {before[dtype] / 1e9:,.0f} GFLOP/s alone before the"
            f" ladder, {measured.limits[dtype] / 1e9:,.0f} in turns with the rungs, {after[dtype] / 1e9:,.0f} after;"
            f" the shares use the best, {limit[dtype] / 1e9:,.0f} = {limit[dtype] / flops:,.0f} samples/s"
        )
    print(f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after, on {os.cpu_count()} cores")
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(
            table.round(
                {
                    "samples/s": 0,
                    "warm-up s": 2,
                    "test accuracy": 3,
                    "GFLOP/s": 1,
                    "% of its limit": 1,
                }
            ).to_string()
        )
    float32_rows = table[table["computes in"] == "float32"]
    best = float32_rows["samples/s"].idxmax()
    share = float(float32_rows.loc[best, "% of its limit"]) / 100
    print(
        f"best float32 rung: {best}: {float32_rows.loc[best, 'samples/s']:,.0f} samples/s = {share:.1%} of the"
        f" float32 limit: target {TARGET_SHARE:.0%} {'met' if share >= TARGET_SHARE else 'NOT met'};"
        f" the fastest rung overall: {table['samples/s'].idxmax()}"
        f" at {table['samples/s'].max():,.0f} samples/s"
    )
    return share


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = "fast" if args.fast else course_mode()
    if args.ladder_only:
        share = ladder(mode, args.seed, args.rounds)
        return 1 if args.check and share < TARGET_SHARE else 0
    samples = args.samples or by_mode(mode, fast=4096, full=60000)
    rounds = args.rounds or 3

    import keras
    import numpy as np
    import tensorflow as tf

    from helpers.datasets.registry import load_mnist
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
    if args.no_ladder:
        return 0
    share = ladder(mode, args.seed, args.rounds)
    return 1 if args.check and share < TARGET_SHARE else 0


if __name__ == "__main__":
    sys.exit(main())
