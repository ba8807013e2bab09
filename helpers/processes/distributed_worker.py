"""The training script of notebook 13's distributed runs: ``python -m helpers.processes.distributed_worker``.

One process trains notebook 02's MNIST MLP with the lesson's custom loop
(:func:`helpers.lessons.scaling.train_distributed`) under one of three strategies:

* ``TF_CONFIG`` set: :class:`tf.distribute.MultiWorkerMirroredStrategy`, this process being one worker
  of the cluster it names (started by :func:`helpers.processes.worker_cluster.start_worker_cluster`, or by a
  Kubernetes Job: ``deploy/k8s-training/multiworker-job.yaml``);
* ``--local-devices N``: :class:`tf.distribute.MirroredStrategy` over N logical CPU devices of this one
  process (they must be configured before TensorFlow initialises its devices, which is why this runs in a
  fresh process rather than in the notebook's kernel);
* neither: the default strategy, one replica.

It prints one JSON object per line on stdout (``{"event": "start" | "epoch" | "done", ...}``), which the
notebook and the tests read from its log, and the chief (worker 0) writes the run's result to ``--result``.
``--loop fit`` trains with ``model.fit`` instead, to show what Keras 3 does under each strategy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=8_192, help="MNIST training images (default 8192)")
    parser.add_argument("--test-samples", type=int, default=5_000, help="test images for the accuracy")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--global-batch", type=int, default=256, help="examples per step over all replicas")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--checkpoint-dir", type=Path, help="save after every epoch, resume from the latest")
    parser.add_argument("--result", type=Path, help="JSON file the chief writes its result to")
    parser.add_argument("--local-devices", type=int, default=0, help="MirroredStrategy over N logical CPUs")
    parser.add_argument("--loop", choices=("custom", "fit"), default="custom")
    parser.add_argument("--exit-with-parent", action="store_true", help="exit when the starting process ends")
    args = parser.parse_args(argv)
    for name in ("samples", "test_samples", "epochs", "global_batch"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.local_devices and "TF_CONFIG" in os.environ:
        parser.error("--local-devices is for one process; with TF_CONFIG set, each worker is one replica")
    return args


def emit(event: str, **fields: Any) -> None:
    """One JSON line on stdout (flushed: the log is read while the worker runs)."""
    print(json.dumps({"event": event, **fields}), flush=True)


def exit_with_parent() -> None:
    """A daemon thread that ends this process when its parent does (a crashed notebook leaves no worker)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(3)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def socket_bytes_sent(pid: int | None = None) -> dict[str, int] | None:
    """Bytes each TCP socket of process ``pid`` (default: this one) has sent so far, keyed by its local and peer
    addresses, from the kernel's per-socket counters (``ss -tinp``, iproute2; Linux). None where ``ss`` is
    missing or shows no counters."""
    if shutil.which("ss") is None:
        return None
    listing = subprocess.run(["ss", "-tinpH"], capture_output=True, text=True, check=False).stdout
    owner, counters, mine, key = f"pid={pid or os.getpid()},", {}, False, ""
    for line in listing.splitlines():
        if not line[:1].isspace():  # a socket's first line names its addresses and process; its counters follow
            fields = line.split()
            mine, key = owner in line, " -> ".join(fields[3:5])
        elif mine and (match := re.search(r"bytes_sent:(\d+)", line)):
            counters[key] = counters.get(key, 0) + int(match.group(1))
    return counters or None


def bytes_sent_between(before: dict[str, int], after: dict[str, int]) -> int:
    """What the sockets sent between two :func:`socket_bytes_sent` snapshots: each socket's increase, all the
    bytes of a socket opened in between (a counter below its old value is a new socket on the same ports). A
    socket closed in between is not in ``after``: what it sent after ``before`` goes uncounted, never negative."""
    return sum(sent - before.get(key, 0) if sent >= before.get(key, 0) else sent for key, sent in after.items())


def strategy_name(strategy: Any) -> str:
    """The strategy's public name (MultiWorkerMirroredStrategy's class is CollectiveAllReduceStrategy)."""
    import tensorflow as tf

    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return "MultiWorkerMirroredStrategy"
    if isinstance(strategy, tf.distribute.MirroredStrategy):
        return "MirroredStrategy"
    return "default (one replica)"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.exit_with_parent:
        exit_with_parent()
    import numpy as np

    from helpers.datasets.registry import load_mnist
    from helpers.lessons.scaling import accuracy, fit_model, make_strategy, train_distributed

    strategy = make_strategy(args.local_devices)
    resolver = strategy.cluster_resolver
    task = int(resolver.task_id) if resolver is not None and resolver.task_type else 0
    (x_train, y_train), (x_test, y_test) = load_mnist()
    if args.samples > len(x_train):
        print(f"--samples {args.samples} is more than the {len(x_train)} MNIST training images", file=sys.stderr)
        return 2
    images, labels = x_train[: args.samples], y_train[: args.samples]
    emit("start", task=task, replicas=int(strategy.num_replicas_in_sync), strategy=strategy_name(strategy))
    training = dict(
        epochs=args.epochs, global_batch=args.global_batch, learning_rate=args.learning_rate, seed=args.seed
    )
    started, sent_per_step = time.perf_counter(), None
    if args.loop == "fit":
        model, losses = fit_model(strategy, images, labels, **training)
        resumed, step_seconds = 0, []
    else:
        checkpoint_dir = str(args.checkpoint_dir) if args.checkpoint_dir else None
        sent_after_epoch: dict[int, dict[str, int] | None] = {}

        def on_epoch(epoch: int, loss: float) -> None:
            sent_after_epoch[epoch] = socket_bytes_sent()
            emit("epoch", task=task, epoch=epoch, loss=loss)

        run = train_distributed(strategy, images, labels, **training, checkpoint_dir=checkpoint_dir, on_epoch=on_epoch)
        model, losses, resumed, step_seconds = run.model, run.losses, run.resumed_from_epoch, run.step_seconds
        # Bytes sent per step, from the end of the first epoch this run trained (the start-up's broadcast of the
        # initial weights and the tracing are behind) to the end of the last, in the epochs without checkpoints.
        epochs_done = sorted(sent_after_epoch)
        counted = [sent_after_epoch[epoch] for epoch in epochs_done]
        if len(counted) >= 2 and None not in counted and args.checkpoint_dir is None:
            sent = bytes_sent_between(counted[0], counted[-1])
            sent_per_step = sent / ((len(counted) - 1) * (args.samples // args.global_batch))
    seconds = time.perf_counter() - started
    test_accuracy = accuracy(model, x_test[: args.test_samples], y_test[: args.test_samples])
    result = {
        "task": task,
        "strategy": strategy_name(strategy),
        "replicas": int(strategy.num_replicas_in_sync),
        "resumed_from_epoch": resumed,
        "losses": {str(epoch): float(loss) for epoch, loss in losses.items()},
        "median_step_seconds": float(np.median(step_seconds)) if step_seconds else None,
        "train_seconds": seconds,
        "bytes_sent_per_step": sent_per_step,  # over TCP: to the other workers (None: one process, or no ss)
        "test_accuracy": test_accuracy,
        "parameters": int(model.count_params()),
    }
    emit("done", **result)
    if args.result is not None and task == 0:
        args.result.parent.mkdir(parents=True, exist_ok=True)
        args.result.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
