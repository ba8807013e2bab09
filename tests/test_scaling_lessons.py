"""helpers.lessons.scaling (notebook 13's lesson code), its exercise checks, figures and profile reader."""

from __future__ import annotations

import itertools
import json

import matplotlib

matplotlib.use("Agg")

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
import tensorflow as tf

from helpers import profiling
from helpers.checks import scaling as checks
from helpers.exercises import ExerciseIncorrect, NotAnswered
from helpers.figures import scaling as scaling_figures
from helpers.lessons import scaling
from helpers.lessons.mlp_gradient_tape import build_mnist_mlp


def fake_mnist(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Images whose label is readable from their pixels: bright rows at the label's place."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=count)
    images = rng.integers(0, 40, size=(count, 28, 28)).astype(np.uint8)
    for image, label in zip(images, labels, strict=True):
        image[2 * label : 2 * label + 3, :] = 250
    return images, labels


def test_global_batch_learning_rate_and_tf_config() -> None:
    assert scaling.global_batch_size(64, 4) == 256
    assert scaling.scaled_learning_rate(0.1, 256, 1024) == pytest.approx(0.4)
    config = json.loads(scaling.tf_config(["a:1", "b:2"], 1))
    assert config == {"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}
    with pytest.raises(ValueError, match="not one of the 2 workers"):
        scaling.tf_config(["a:1", "b:2"], 2)


def test_ring_allreduce_and_the_step_time_model() -> None:
    assert scaling.ring_allreduce_bytes(1000, 1) == 0
    assert scaling.ring_allreduce_bytes(1000, 2) == pytest.approx(1000)
    assert scaling.ring_allreduce_bytes(1000, 8) == pytest.approx(1750)
    assert scaling.data_parallel_step_seconds(1, 0.1, 1e6, 1e9, 1e-5) == 0.1
    two = scaling.data_parallel_step_seconds(2, 0.1, 1e6, 1e9, 1e-5)
    assert two == pytest.approx(0.05 + 1e6 / 1e9 + 2e-5)
    slow_network = scaling.data_parallel_step_seconds(2, 0.001, 1e6, 1e7, 1e-5)
    assert slow_network > 0.001, "on a slow network two workers are slower than one"


def test_training_flops_are_counted_from_the_layers() -> None:
    model = build_mnist_mlp()
    assert model.count_params() == 784 * 256 + 256 + 256 * 10 + 10
    # 6 K per kernel, but the first layer's input (the pixels) needs no gradient: 4 K there
    assert scaling.training_flops_per_sample(model) == 4 * 784 * 256 + 6 * 256 * 10
    assert 4.0 < scaling.training_flops_per_sample(model) / model.count_params() < 4.1
    with pytest.raises(ValueError, match="Dense layers only"):
        scaling.training_flops_per_sample(keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3)]))


def test_mixed_precision_models_compute_their_output_in_float32_and_float16_scales_the_loss() -> None:
    model = scaling.build_model_in("mixed_float16")
    assert model.layers[-2].compute_dtype == "float16" and model.layers[-1].compute_dtype == "float32"
    assert model(np.zeros((2, 28, 28), np.float32)).dtype == "float32" and keras.config.dtype_policy().name == "float32"
    optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(1e-3))
    step = scaling.make_scaled_train_step(model, optimizer, keras.losses.SparseCategoricalCrossentropy())
    images = np.random.default_rng(0).integers(0, 255, (32, 28, 28)).astype(np.float32)
    labels = np.arange(32) % 10
    before = [weight.numpy().copy() for weight in model.trainable_weights]
    losses = [float(step(images, labels)[0]) for _ in range(3)]
    assert all(np.isfinite(losses)) and float(optimizer.dynamic_scale) > 1, "the loss is scaled up"
    assert all(np.any(w.numpy() != b) for w, b in zip(model.trainable_weights, before, strict=True)), "it trained"


def test_cpu_flags_and_low_precision(tmp_path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx512f amx_bf16\n\nprocessor\t: 1\nflags\t: fpu\n")
    assert scaling.cpu_flags(cpuinfo) == {"fpu", "avx512f", "amx_bf16"}
    assert scaling.cpu_flags(tmp_path / "missing") == set()
    assert scaling.low_precision_dtype() in (None, "bfloat16", "float16")


def test_matmul_flops_are_measured() -> None:
    flops = scaling.matmul_flops_per_second(128, "float32", repeats=3)
    assert 1e6 < flops < 1e15
    best = scaling.matmul_limit("float32", sizes=(64, 128), repeats=2)
    assert 1e6 < best < 1e15


def test_png_round_trip_and_both_pipelines_give_the_same_examples() -> None:
    images, labels = fake_mnist(40)
    pngs = scaling.encode_png(images)
    assert pngs.shape == (40,) and pngs[0][:4] == b"\x89PNG"
    pixels, label = scaling.decode(tf.constant(pngs[3]), tf.constant(labels[3]))
    assert np.array_equal(pixels.numpy(), images[3].astype(np.float32)) and int(label) == labels[3]
    right = scaling.pipeline_done_right(pngs, labels, 8, seed=1)
    wrong = scaling.pipeline_done_wrong(pngs, labels, 8, seed=1)
    epochs = [[y for _, y in right.as_numpy_iterator()] for _ in range(2)]
    assert sorted(np.concatenate(epochs[0])) == sorted(labels) == sorted(np.concatenate(epochs[1]))
    assert not np.array_equal(np.concatenate(epochs[0]), np.concatenate(epochs[1])), "reshuffled every epoch"
    assert sorted(np.concatenate([y for _, y in wrong.as_numpy_iterator()])) == sorted(labels)
    x, _ = next(iter(right))
    assert x.dtype == tf.float32 and x.shape == (8, 28, 28)


def test_compile_step_and_several_steps_per_call() -> None:
    with pytest.raises(ValueError, match="'eager', 'graph' or 'xla'"):
        scaling.compile_step(lambda x, y: None, "jit")
    model = build_mnist_mlp()
    optimizer = keras.optimizers.Adam(1e-3)
    from helpers.lessons.mlp_gradient_tape import make_model_train_step

    step = scaling.compile_step(
        make_model_train_step(model, optimizer, keras.losses.SparseCategoricalCrossentropy()), "graph"
    )
    images, labels = fake_mnist(64)
    dataset = tf.data.Dataset.from_tensor_slices((images.astype(np.float32), labels)).batch(8)
    scaling.several_steps(step, 4)(iter(dataset))
    assert int(optimizer.iterations) == 4


def test_build_model_in_a_policy_puts_the_global_policy_back() -> None:
    before = keras.config.dtype_policy().name
    model = scaling.build_model_in("mixed_bfloat16")
    assert model.layers[-2].compute_dtype == "bfloat16" and model.layers[-2].variable_dtype == "float32"
    assert model.layers[-1].compute_dtype == "float32", "the output layer computes in float32"
    assert keras.config.dtype_policy().name == before


def test_the_ladder_measures_every_rung_and_they_all_train() -> None:
    images, labels = fake_mnist(1024)
    pngs = scaling.encode_png(images)
    test_images, test_labels = fake_mnist(300, seed=5)
    rungs = [
        scaling.Rung("eager", 64, "eager"),
        scaling.Rung("graph, wrong pipeline", 64, pipeline="wrong"),
        scaling.Rung("graph, 4 steps per call", 64, steps_per_execution=4),
    ]
    ladder = scaling.measure_ladder(rungs, pngs, labels, (test_images, test_labels), rounds=1, seed=0)
    rows = ladder.rows
    assert list(ladder.limits) == ["float32"] and 1e6 < ladder.limits["float32"] < 1e15
    assert [row["rung"] for row in rows] == ["eager", "graph, wrong pipeline", "graph, 4 steps per call"]
    for row in rows:
        assert row["samples/s"] > 0 and row["warm-up s"] > 0
        assert row["test accuracy"] > 0.8, row
    with pytest.raises(ValueError, match="fewer than 64 batches"):
        scaling.RungTrainer(
            scaling.Rung("too few", 512, steps_per_execution=64), pngs, labels, build_mnist_mlp().get_weights(), 0
        )


def test_standard_rungs_add_mixed_precision_only_with_hardware_for_it() -> None:
    plan = scaling.scaling_plan("fast")
    names = [rung.name for rung in scaling.standard_rungs(plan, None)]
    assert names[0] == "eager, batch 128" and not any("mixed" in name for name in names)
    with_bf16 = scaling.standard_rungs(plan, "bfloat16")
    assert [rung.precision for rung in with_bf16[-2:]] == ["float32", "mixed_bfloat16"]
    full = scaling.standard_rungs(scaling.scaling_plan("full"), "bfloat16")
    assert [rung.batch_size for rung in full if rung.precision != "float32"] == [2048, 8192]
    assert scaling.scaling_plan("full").ladder_samples == 60_000


def test_train_distributed_resumes_from_its_checkpoint(tmp_path) -> None:
    images, labels = fake_mnist(512)
    common = {"global_batch": 64, "learning_rate": 1e-3, "seed": 3, "checkpoint_dir": str(tmp_path)}
    strategy = tf.distribute.get_strategy()
    seen = []
    first = scaling.train_distributed(
        strategy, images, labels, epochs=2, on_epoch=lambda e, loss: seen.append(e), **common
    )
    assert first.resumed_from_epoch == 0 and list(first.losses) == [1, 2] and seen == [1, 2]
    assert first.losses[2] < first.losses[1]
    saved = [weight.copy() for weight in first.model.get_weights()]
    resumed = scaling.train_distributed(strategy, images, labels, epochs=2, **common)
    assert resumed.resumed_from_epoch == 2 and resumed.losses == {}, "nothing left to train"
    for restored, original in zip(resumed.model.get_weights(), saved, strict=True):
        assert np.array_equal(restored, original)
    more = scaling.train_distributed(strategy, images, labels, epochs=3, **common)
    assert more.resumed_from_epoch == 2 and list(more.losses) == [3]
    assert more.losses[3] < first.losses[2] + 0.05, "the third epoch continues from the second's weights"
    assert scaling.accuracy(more.model, images, labels) > 0.5


def test_op_seconds_reads_a_real_profile(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"tf\.profiler\.experimental\.start"):
        profiling.latest_trace(tmp_path)
    matmul = tf.function(lambda a, b: tf.nn.relu(tf.matmul(a, b)))
    a = tf.random.normal((256, 256))
    matmul(a, a)
    tf.profiler.experimental.start(str(tmp_path))
    for _ in range(3):
        matmul(a, a)
    tf.profiler.experimental.stop()
    seconds = profiling.op_seconds(tmp_path)
    assert seconds and all(value >= 0 for value in seconds.values())
    assert any(profiling.op_kind(name) == "matrix multiply" for name in seconds), seconds
    assert profiling.op_kind("Relu") == "elementwise, reductions, optimizer"
    assert profiling.op_kind("Cast") == "data movement, casts"


def test_figures_draw() -> None:
    figures = [
        scaling_figures.ladder_figure(["a", "b"], [0.1, 0.5], 1 / 3),
        scaling_figures.data_parallel_figure(2, 2),
        scaling_figures.step_time_figure(
            [1, 2, 4],
            lambda n, bandwidth: 0.01 / n + (n - 1) / bandwidth,
            {"slow": 1e3, "fast": 1e6},
            {1: 0.01, 2: 0.02},
        ),
    ]
    for figure in figures:
        assert figure.axes
        plt.close(figure)


# The exercise checks: right answers pass, typical wrong ones fail with their own message.


def test_check_training_flops() -> None:
    def parameters(sizes):
        return sum((a + 1) * b for a, b in itertools.pairwise(sizes))

    def kernels(sizes):
        return [a * b for a, b in itertools.pairwise(sizes)]

    assert "correct" in checks.check_training_flops(lambda sizes: 4 * kernels(sizes)[0] + 6 * sum(kernels(sizes)[1:]))
    wrong = {
        "gradient of the first layer's input": lambda sizes: 6 * sum(kernels(sizes)),
        "rule of thumb": lambda sizes: 6 * parameters(sizes),
        "forward pass alone": lambda sizes: 2 * sum(kernels(sizes)),
        "except the first one": lambda sizes: 4 * sum(kernels(sizes)),
        "not the last": lambda sizes: 6 * sum(kernels(sizes)[:-1]) + 4 * kernels(sizes)[-1],
        "biases are not counted": lambda sizes: (
            6 * sum(kernels(sizes)) - 2 * kernels(sizes)[0] + 2 * (parameters(sizes) - sum(kernels(sizes)))
        ),
        "expected": parameters,
    }
    for message, answer in wrong.items():
        with pytest.raises(ExerciseIncorrect, match=message):
            checks.check_training_flops(answer)


def pipeline(images, labels, batch_size, *, order="right", scale=True):
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    convert = lambda x, y: (tf.cast(x, tf.float32) / (255.0 if scale else 1.0), y)  # noqa: E731
    if order == "right":
        dataset = dataset.map(convert).cache().shuffle(len(labels)).batch(batch_size)
    elif order == "shuffle before cache":
        dataset = dataset.map(convert).shuffle(len(labels)).cache().batch(batch_size)
    elif order == "shuffle after batch":
        dataset = dataset.map(convert).cache().batch(batch_size).shuffle(100)
    elif order == "cache before map":
        dataset = dataset.cache().shuffle(len(labels)).map(convert).batch(batch_size)
    elif order == "no cache":
        dataset = dataset.map(convert).shuffle(len(labels)).batch(batch_size)
    elif order == "no shuffle":
        dataset = dataset.map(convert).cache().batch(batch_size)
    return dataset if order == "no prefetch" else dataset.prefetch(tf.data.AUTOTUNE)


def test_check_pipeline() -> None:
    assert "correct" in checks.check_pipeline(pipeline)
    wrong = {
        "same order": lambda *a: pipeline(*a, order="shuffle before cache"),
        "same members": lambda *a: pipeline(*a, order="shuffle after batch"),
        "cache comes before the conversion": lambda *a: pipeline(*a, order="cache before map"),
        "nothing is cached": lambda *a: pipeline(*a, order="no cache"),
        "original order": lambda *a: pipeline(*a, order="no shuffle"),
        "divide by 255": lambda *a: pipeline(*a, scale=False),
        "prefetch": lambda images, labels, b: pipeline(images, labels, b).unbatch().batch(b),
        "tf.data.Dataset": lambda *a: list(a),
    }
    for message, answer in wrong.items():
        with pytest.raises(ExerciseIncorrect, match=message):
            checks.check_pipeline(answer)


def test_checks_say_when_an_exercise_is_not_answered() -> None:
    for check in (checks.check_training_flops, checks.check_pipeline):
        with pytest.raises(NotAnswered):
            check(None)
