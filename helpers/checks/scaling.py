"""Exercise checks of notebook 13 (scaling): the global batch and learning rate, training FLOPs per example,
an input pipeline's order, and a worker's TF_CONFIG.

Each check runs the learner's answer on inputs of its own and judges what it returns or does, computed
here independently; known mistakes get a sentence of their own.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np

from helpers.exercises import ExerciseIncorrect, as_number, call_answer, expect, is_mistake, passed


def check_global_batch(answer: Any) -> str:
    """Exercise 1: ``answer(per_replica_batch, replicas, base_rate, base_batch)`` = (global batch, scaled rate)."""
    exercise = "Exercise 1 (global batch and learning rate)"
    for per_replica, replicas, base_rate, base_batch in ((64, 4, 0.1, 256), (32, 8, 1e-3, 128), (100, 1, 0.01, 50)):
        called_on = (
            f"per_replica_batch={per_replica}, replicas={replicas}, base_rate={base_rate}, base_batch={base_batch}"
        )
        result = call_answer(answer, exercise, called_on, per_replica, replicas, base_rate, base_batch)
        expect(
            isinstance(result, tuple | list) and len(result) == 2,
            f"{exercise}: return two values, (global_batch, learning_rate); got {result!r}.",
        )
        global_batch = as_number(result[0], exercise, "the global batch")
        rate = as_number(result[1], exercise, "the learning rate")
        expected_batch = per_replica * replicas
        expect(
            not is_mistake(global_batch, per_replica / replicas, expected_batch),
            f"{exercise}: {called_on}: you divided the per-replica batch by the replicas. Each replica trains on its "
            "own per-replica batch, so a step sees per_replica_batch × replicas examples.",
        )
        expect(
            global_batch == expected_batch,
            f"{exercise}: {called_on}: the global batch should be {expected_batch} (per-replica batch × replicas), "
            f"not {global_batch:g}.",
        )
        expected_rate = base_rate * expected_batch / base_batch
        expect(
            not is_mistake(rate, base_rate * replicas, expected_rate),
            f"{exercise}: {called_on}: you multiplied the rate by the number of replicas. The linear rule scales it "
            "by the batch: global_batch / base_batch (the base rate was found at base_batch, not at one replica).",
        )
        expect(
            not is_mistake(rate, base_rate * base_batch / expected_batch, expected_rate),
            f"{exercise}: {called_on}: the ratio is upside down: a larger batch gets a LARGER rate, "
            "base_rate × global_batch / base_batch.",
        )
        expect(
            not is_mistake(rate, base_rate, expected_rate),
            f"{exercise}: {called_on}: the rate is unchanged; scale it by global_batch / base_batch.",
        )
        expect(
            bool(np.isclose(rate, expected_rate, rtol=1e-6)),
            f"{exercise}: {called_on}: the learning rate should be {expected_rate:g} (base_rate × global_batch / "
            f"base_batch), not {rate:g}.",
        )
    return passed(exercise)


def dense_parameters(sizes: list[int]) -> int:
    """Weights and biases of Dense layers of widths ``sizes`` (input first)."""
    return sum((inputs + 1) * outputs for inputs, outputs in itertools.pairwise(sizes))


def check_training_flops(answer: Any) -> str:
    """Exercise 2: ``answer(layer_sizes)`` = 6 × the parameters (weights and biases) of that MLP."""
    exercise = "Exercise 2 (training FLOPs per example)"
    for sizes in ([784, 256, 10], [10, 3], [100, 50, 50, 2]):
        flops = as_number(call_answer(answer, exercise, f"layer_sizes={sizes}", list(sizes)), exercise, "the FLOPs")
        parameters = dense_parameters(sizes)
        without_bias = sum(a * b for a, b in itertools.pairwise(sizes))
        expected = 6 * parameters
        expect(
            not is_mistake(flops, 2 * parameters, expected),
            f"{exercise}: {sizes}: {flops:g} is the forward pass alone (2 × parameters). Training adds the backward "
            "pass, twice the forward's work: 6 × parameters in all.",
        )
        expect(
            not is_mistake(flops, parameters, expected),
            f"{exercise}: {sizes}: {flops:g} is the number of parameters; each costs about 6 FLOPs per training "
            "example.",
        )
        expect(
            not is_mistake(flops, 6 * without_bias, expected),
            f"{exercise}: {sizes}: the biases are missing: a Dense layer from a to b units has (a + 1) × b parameters.",
        )
        expect(
            not is_mistake(flops, 6 * sum(sizes), expected),
            f"{exercise}: {sizes}: you counted units, not weights: a layer from a to b units has (a + 1) × b of them.",
        )
        expect(
            bool(np.isclose(flops, expected)),
            f"{exercise}: {sizes}: expected {expected:,} FLOPs (6 × {parameters:,} parameters), got {flops:,.0f}.",
        )
    return passed(exercise)


def _epoch(dataset: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.asarray(x), np.asarray(y)) for x, y in dataset.as_numpy_iterator()]


def check_pipeline(answer: Any) -> str:
    """Exercise 3: ``answer(images, labels, batch_size)``: float32 0-1 batches, every example once per epoch,
    reshuffled at every epoch (element by element), the converted images cached, prefetched last."""
    import tensorflow as tf

    exercise = "Exercise 3 (an input pipeline in the right order)"
    count, batch_size = 200, 16
    rng = np.random.default_rng(13)
    images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
    images[:, 0, 0] = np.arange(count) % 256  # each image's identity: its first pixel and its label
    labels = np.arange(count, dtype=np.int64)
    dataset = call_answer(answer, exercise, f"{count} images, batch_size={batch_size}", images, labels, batch_size)
    expect(isinstance(dataset, tf.data.Dataset), f"{exercise}: return a tf.data.Dataset, not {type(dataset).__name__}.")
    try:
        first, second = _epoch(dataset), _epoch(dataset)
    except Exception as error:
        raise ExerciseIncorrect(
            f"{exercise}: iterating over your dataset raised {type(error).__name__}: {error}"
        ) from error
    expect(
        all(isinstance(element, tuple) and len(element) == 2 for element in first) and len(first) > 0,
        f"{exercise}: each element should be a pair (images, labels).",
    )
    x, _ = first[0]
    expect(
        x.ndim == 3 and x.shape[1:] == (28, 28),
        f"{exercise}: the first element's images have shape {x.shape}; batches of images are (batch, 28, 28): "
        "call .batch(batch_size).",
    )
    expect(x.dtype == np.float32, f"{exercise}: the images should be float32, not {x.dtype}.")
    expect(
        float(x.max()) <= 1.0 + 1e-6,
        f"{exercise}: the pixels go up to {float(x.max()):g}: divide by 255 so that they lie between 0 and 1.",
    )
    sizes = [len(batch_y) for _, batch_y in first]
    expect(
        all(size == batch_size for size in sizes[:-1]) and 0 < sizes[-1] <= batch_size,
        f"{exercise}: batches should hold {batch_size} examples (the last may hold fewer), got sizes {sizes}.",
    )
    for number, epoch in enumerate((first, second), start=1):
        seen = np.sort(np.concatenate([batch_y for _, batch_y in epoch]))
        expect(
            np.array_equal(seen, labels),
            f"{exercise}: epoch {number} does not hold every example exactly once ({len(seen)} labels for {count} "
            "examples): did you repeat or take part of the data?",
        )
        for batch_x, batch_y in epoch:
            expect(
                np.allclose(batch_x[:, 0, 0] * 255.0, batch_y % 256, atol=1e-3),
                f"{exercise}: images and labels no longer match: shuffle the (image, label) pairs together.",
            )
    order_1 = np.concatenate([batch_y for _, batch_y in first])
    order_2 = np.concatenate([batch_y for _, batch_y in second])
    expect(
        not np.array_equal(order_1, labels),
        f"{exercise}: the examples come in their original order: shuffle them.",
    )
    expect(
        not np.array_equal(order_1, order_2),
        f"{exercise}: both epochs see the examples in the same order. Either the shuffle comes before cache() (the "
        "cache then replays the first epoch's order), or reshuffle_each_iteration is off: shuffle after the cache.",
    )
    members_1 = {frozenset(batch_y.tolist()) for _, batch_y in first}
    members_2 = {frozenset(batch_y.tolist()) for _, batch_y in second}
    expect(
        members_1 != members_2,
        f"{exercise}: the batches keep the same members every epoch, only their order changes: you shuffled "
        "after batch(). Shuffle the examples, then batch them.",
    )
    kinds = []
    node = dataset
    while node is not None:
        kinds.append(type(node).__name__)
        inputs = node._inputs() if hasattr(node, "_inputs") else []
        node = inputs[0] if inputs else None
    expect(
        "Prefetch" in kinds[0],
        f"{exercise}: the last step should be prefetch(tf.data.AUTOTUNE), so the next batches are prepared while "
        f"the model trains; yours ends with {kinds[0].lstrip('_')}.",
    )
    expect(
        any("Cache" in kind for kind in kinds),
        f"{exercise}: nothing is cached: add cache() after the conversion, so the images are converted only once.",
    )
    cache_at = next(index for index, kind in enumerate(kinds) if "Cache" in kind)
    expect(
        any("Map" in kind for kind in kinds[cache_at + 1 :]),
        f"{exercise}: the cache comes before the conversion (map), which then runs again every epoch: map first, "
        "then cache().",
    )
    return passed(exercise)


def check_tf_config(answer: Any) -> str:
    """Exercise 4: ``answer(hosts, port, index)`` = worker ``index``'s TF_CONFIG JSON string."""
    exercise = "Exercise 4 (TF_CONFIG for worker i)"
    hosts = ["train-0.train", "train-1.train", "train-2.train"]
    for index in (0, 2):
        result = call_answer(answer, exercise, f"hosts={hosts}, port=2222, index={index}", list(hosts), 2222, index)
        if isinstance(result, dict):
            raise ExerciseIncorrect(
                f"{exercise}: TF_CONFIG is an environment variable, a string: return json.dumps(...) of your dict."
            )
        expect(isinstance(result, str), f"{exercise}: return a string (JSON), not {type(result).__name__}.")
        try:
            config = json.loads(result)
        except json.JSONDecodeError as error:
            raise ExerciseIncorrect(f"{exercise}: your string is not valid JSON ({error}).") from error
        expect(
            isinstance(config, dict) and "cluster" in config and "task" in config,
            f"{exercise}: TF_CONFIG has two keys, 'cluster' and 'task'; yours is {config!r}.",
        )
        workers = config["cluster"].get("worker") if isinstance(config["cluster"], dict) else None
        expect(
            workers == [f"{host}:2222" for host in hosts],
            f"{exercise}: cluster['worker'] should list every worker as 'host:port', the same list in the same order "
            f"for all workers: {[f'{host}:2222' for host in hosts]}; yours is {workers}.",
        )
        task = config["task"]
        expect(isinstance(task, dict), f"{exercise}: 'task' should be a dict like {{'type': 'worker', 'index': 0}}.")
        expect(task.get("type") == "worker", f"{exercise}: task['type'] should be 'worker', not {task.get('type')!r}.")
        expect(
            task.get("index") == index and isinstance(task.get("index"), int),
            f"{exercise}: task['index'] should be this worker's position in the list, the integer {index}; "
            f"yours is {task.get('index')!r}.",
        )
    return passed(exercise)
