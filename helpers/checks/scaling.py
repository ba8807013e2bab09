"""Exercise checks of notebook 13 (scaling): training FLOPs per example, an input pipeline's order, and
resuming a training run from the newest of its checkpoints.

Each check runs the learner's answer on inputs of its own and judges what it returns or does, computed
here independently; known mistakes get a sentence of their own.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from helpers.exercises import (
    ExerciseIncorrect,
    NotAnswered,
    as_number,
    call_answer,
    expect,
    is_mistake,
    passed,
    require_answer,
)


def dense_parameters(sizes: list[int]) -> int:
    """Weights and biases of Dense layers of widths ``sizes`` (input first)."""
    return sum((inputs + 1) * outputs for inputs, outputs in itertools.pairwise(sizes))


def check_training_flops(answer: Any) -> str:
    """Exercise 1: ``answer(layer_sizes)`` = the training FLOPs per example of that MLP counted as notebook 13's
    ``training_flops_per_sample`` counts them: 6 K per kernel of K weights, 4 K for the first (no input gradient)."""
    exercise = "Exercise 1 (training FLOPs per example)"
    for sizes in ([784, 256, 10], [10, 3], [100, 50, 50, 2]):
        flops = as_number(call_answer(answer, exercise, f"layer_sizes={sizes}", list(sizes)), exercise, "the FLOPs")
        kernels = [a * b for a, b in itertools.pairwise(sizes)]
        parameters = dense_parameters(sizes)
        expected = 6 * sum(kernels) - 2 * kernels[0]
        mistakes = {
            6 * sum(kernels): "you counted the gradient of the first layer's input (6 K for every layer): the input is "
            "the data, and training never computes its gradient; that layer costs 4 K.",
            6 * parameters: "that is the 6 × parameters rule of thumb; count the layers instead: 6 K per kernel, 4 K "
            "for the first, biases not counted.",
            2 * sum(kernels): "that is the forward pass alone (2 K per kernel); training adds the backward pass.",
            4 * sum(kernels): "every layer's backward pass needs the gradient of its input except the first one: "
            "6 K for the others.",
            6 * sum(kernels[:-1]) + 4 * kernels[-1]: "it is the first layer, whose input is the data, that needs no "
            "input gradient, not the last.",
            6 * sum(kernels) - 2 * kernels[0] + 2 * (parameters - sum(kernels)): "biases are not counted (their "
            "additions are elementwise work, like the activations).",
        }
        for wrong, explanation in mistakes.items():
            expect(wrong == expected or not is_mistake(flops, wrong, expected), f"{exercise}: {sizes}: {explanation}")
        expect(
            bool(np.isclose(flops, expected)),
            f"{exercise}: {sizes}: expected {expected:,} FLOPs (kernels {kernels}), got {flops:,.0f}.",
        )
    return passed(exercise)


def _epoch(dataset: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.asarray(x), np.asarray(y)) for x, y in dataset.as_numpy_iterator()]


def check_pipeline(answer: Any) -> str:
    """Exercise 2: ``answer(images, labels, batch_size)``: float32 0-1 batches, every example once per epoch,
    reshuffled at every epoch (element by element), the converted images cached, prefetched last."""
    import tensorflow as tf

    exercise = "Exercise 2 (an input pipeline in the right order)"
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


RESUME_EPOCHS = 12  # the check's run: 12 epochs, checkpoints epoch-1 ... epoch-12
RESUME_KILLED_AFTER = 10  # the interrupted run stops once epoch-10 is saved: epoch-9 sorts after it as text
RESUME_DECOY = 3  # epoch-3's files are touched last: the most recently modified, not the newest


def _resume_problem() -> tuple[np.ndarray, np.ndarray]:
    """The check's own data: 96 examples of 6 features in 3 classes, 3 batches of 32 per epoch."""
    rng = np.random.default_rng(2013)
    images = rng.normal(size=(96, 6)).astype(np.float32)
    labels = (images[:, 0] + images[:, 1] > 0).astype(np.int32) + (images[:, 2] > 1).astype(np.int32)
    return images, labels


def _resume_model(seed: int) -> tuple[Any, Any]:
    """A tiny model and its Adam, both built (their variables exist), from initial weights drawn with ``seed``."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(3)])
    optimizer = keras.optimizers.Adam(0.01)
    optimizer.build(model.trainable_variables)
    return model, optimizer


def _weights(model: Any) -> list[np.ndarray]:
    return [np.array(weight) for weight in model.get_weights()]


def _same(a: list[np.ndarray], b: list[np.ndarray], atol: float = 1e-6) -> bool:
    return len(a) == len(b) and all(
        x.shape == y.shape and np.allclose(x, y, atol=atol) for x, y in zip(a, b, strict=True)
    )


def _optimizer_state(optimizer: Any) -> list[np.ndarray]:
    """Adam's step count and moments (its learning rate left out: it never changes here)."""
    return [np.array(variable) for variable in optimizer.variables if "learning_rate" not in variable.path]


def _saved_weights(checkpoint_dir: Path, epoch: int) -> list[np.ndarray]:
    """The model weights stored in ``epoch-<epoch>``, read into a model of the check's own."""
    import tensorflow as tf

    model, _ = _resume_model(0)
    tf.train.Checkpoint(model=model).read(str(checkpoint_dir / f"epoch-{epoch}")).expect_partial()
    return _weights(model)


def _resume(answer: Any, exercise: str, model: Any, optimizer: Any, checkpoint_dir: Path, called_on: str) -> int:
    """``answer(model, optimizer, checkpoint_dir)`` as an int, the epochs it says are done."""
    done = call_answer(answer, exercise, called_on, model, optimizer, str(checkpoint_dir))
    try:
        value = np.asarray(done)
        expect(value.dtype.kind in "iuf" and value.size == 1 and float(value) == int(value), "")
    except (ExerciseIncorrect, TypeError, ValueError) as error:
        raise ExerciseIncorrect(
            f"{exercise}: return the number of epochs the checkpoint holds (one integer, 0 without a checkpoint); "
            f"{called_on} gave {done!r}."
        ) from error
    return int(value)


def _train(answer: Any, exercise: str, model: Any, optimizer: Any, checkpoint_dir: Path, **kwargs: Any) -> list[int]:
    """The lesson's ``train_resumable`` on the check's problem, resuming with ``answer``."""
    import keras

    from helpers.lessons.scaling import train_resumable

    images, labels = _resume_problem()
    try:
        return train_resumable(
            model,
            optimizer,
            answer,
            images,
            labels,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            epochs=RESUME_EPOCHS,
            batch_size=32,
            seed=7,
            checkpoint_dir=checkpoint_dir,
            **kwargs,
        )
    except (ExerciseIncorrect, NotAnswered):
        raise
    except Exception as error:  # the learner's resume runs inside: report any failure in words
        raise ExerciseIncorrect(
            f"{exercise}: train_resumable with your function raised {type(error).__name__}: {error}"
        ) from error


def check_resume(answer: Any) -> str:
    """Build exercise 3: ``answer(model, optimizer, checkpoint_dir)`` restores the newest checkpoint (by epoch
    number) of ``checkpoint_dir`` into the built model and optimiser and returns its epochs done (0 without one).

    Judged on the check's own tiny model and data, with the lesson's ``train_resumable``: an empty folder
    starts at 0 and leaves the model alone; a run stopped after epoch 10 (checkpoints epoch-1 to epoch-10,
    epoch-3's files touched last) resumed into a model with other initial weights must restore epoch-10's
    weights and Adam's state, say 10, train epochs 11 and 12 only, and end with the weights of an
    uninterrupted 12-epoch run. About 3 s on 2 cores.
    """
    exercise = "Build exercise 3 (resume from the newest checkpoint)"
    require_answer(answer, exercise)
    expect(
        callable(answer),
        f"{exercise}: answer_3 should be the function resume(model, optimizer, checkpoint_dir), not "
        f"{type(answer).__name__}.",
    )
    with tempfile.TemporaryDirectory(prefix="resume-check-") as work:
        root = Path(work)
        empty = root / "empty"
        empty.mkdir()
        model, optimizer = _resume_model(1)
        before = _weights(model)
        done = _resume(answer, exercise, model, optimizer, empty, "an empty checkpoint folder (no checkpoint yet)")
        expect(
            done == 0,
            f"{exercise}: in an empty folder (a first run) there is nothing to resume: return 0, so that training "
            f"starts with epoch 1; yours returned {done}.",
        )
        expect(
            _same(_weights(model), before),
            f"{exercise}: with no checkpoint your function changed the model's weights: leave the model as it is.",
        )

        uninterrupted_dir, interrupted_dir = root / "uninterrupted", root / "interrupted"
        uninterrupted_dir.mkdir()
        interrupted_dir.mkdir()
        model, optimizer = _resume_model(1)
        first = _train(answer, exercise, model, optimizer, interrupted_dir, stop_after=RESUME_KILLED_AFTER)
        expect(
            first == list(range(1, RESUME_KILLED_AFTER + 1)),
            f"{exercise}: a run from an empty folder stopped after epoch {RESUME_KILLED_AFTER} should train epochs 1 "
            f"to {RESUME_KILLED_AFTER}; it trained {first}.",
        )
        saved_state = _optimizer_state(optimizer)
        later = time.time() + 60  # epoch-3's files look the most recently written, as after a copy
        for path in interrupted_dir.glob(f"epoch-{RESUME_DECOY}.*"):
            os.utime(path, (later, later))

        model, optimizer = _resume_model(2)  # other initial weights: what the restore must replace
        fresh = _weights(model)
        folder = f"a folder with epoch-1 ... epoch-{RESUME_KILLED_AFTER}"
        done = _resume(answer, exercise, model, optimizer, interrupted_dir, folder)
        restored = _weights(model)
        expect(
            not _same(restored, fresh),
            f"{exercise}: the model's weights were not restored (they are still the new model's own). Read the "
            "newest checkpoint into tf.train.Checkpoint(model=model, optimizer=optimizer, epoch=...) with read().",
        )
        epochs = range(1, RESUME_KILLED_AFTER + 1)
        matches = [epoch for epoch in epochs if _same(restored, _saved_weights(interrupted_dir, epoch))]
        if matches and matches[0] != RESUME_KILLED_AFTER:
            chosen = matches[0]
            if chosen == 9:
                why = (
                    "Sorted as text, 'epoch-9' comes after 'epoch-10' ('9' > '1'): compare the epoch numbers as "
                    "integers (int(...) of the part after 'epoch-')."
                )
            elif chosen == RESUME_DECOY:
                why = (
                    f"epoch-{RESUME_DECOY}'s files were modified last, but a file's time says when it was written or "
                    "copied, not which epoch it holds: compare the epoch numbers in the names."
                )
            else:
                why = "Newest means the largest epoch number in the file names."
            raise ExerciseIncorrect(
                f"{exercise}: with epoch-1 ... epoch-{RESUME_KILLED_AFTER} in the folder, your function restored "
                f"epoch-{chosen}, not epoch-{RESUME_KILLED_AFTER}. {why}"
            )
        expect(
            matches == [RESUME_KILLED_AFTER],
            f"{exercise}: the model's weights after your restore are not those of any checkpoint in the folder.",
        )
        state = _optimizer_state(optimizer)
        expect(
            _same(state, saved_state),
            f"{exercise}: the model was restored but not the optimiser: Adam's step count and moments are not "
            "those of the checkpoint (still a fresh Adam's). Restore the optimizer too: "
            "tf.train.Checkpoint(model=model, optimizer=optimizer, ...).",
        )
        expect(
            done != 0,
            f"{exercise}: the weights are restored, but your function returned 0: training would start again at "
            f"epoch 1 and repeat the {RESUME_KILLED_AFTER} epochs done. Return the checkpoint's epoch counter.",
        )
        expect(
            done != RESUME_KILLED_AFTER + 1,
            f"{exercise}: off by one: epoch-{RESUME_KILLED_AFTER} is saved at the end of epoch "
            f"{RESUME_KILLED_AFTER}, so {RESUME_KILLED_AFTER} epochs are done; your {done} would skip epoch "
            f"{RESUME_KILLED_AFTER + 1}. Return the epochs done; the loop goes on with the next one.",
        )
        consequence = "epochs would be trained twice" if done < RESUME_KILLED_AFTER else "epochs would be skipped"
        expect(
            done == RESUME_KILLED_AFTER,
            f"{exercise}: from epoch-{RESUME_KILLED_AFTER} your function returned {done}; it should return "
            f"{RESUME_KILLED_AFTER}, the epochs that checkpoint holds ({consequence}).",
        )

        model, optimizer = _resume_model(1)
        trained = _train(answer, exercise, model, optimizer, uninterrupted_dir)
        expect(
            trained == list(range(1, RESUME_EPOCHS + 1)),
            f"{exercise}: a run from an empty folder should train epochs 1 to {RESUME_EPOCHS}; it trained {trained}.",
        )
        reference = _weights(model)
        model, optimizer = _resume_model(2)
        second = _train(answer, exercise, model, optimizer, interrupted_dir)
        resumed = list(range(RESUME_KILLED_AFTER + 1, RESUME_EPOCHS + 1))
        expect(
            second == resumed,
            f"{exercise}: the resumed run should train epochs {resumed} only; it trained {second}.",
        )
        worst = max(float(np.max(np.abs(a - b))) for a, b in zip(_weights(model), reference, strict=True))
        expect(
            worst <= 1e-5,
            f"{exercise}: stopped after epoch {RESUME_KILLED_AFTER} and resumed, the run ends with weights up to "
            f"{worst:.2g} away from the uninterrupted run's; they should be the same.",
        )
    print(
        f"empty folder: starts at epoch 1; stopped after epoch {RESUME_KILLED_AFTER}: restored epoch-"
        f"{RESUME_KILLED_AFTER} (model and Adam), trained epochs {resumed}; final weights as the uninterrupted run's "
        f"(largest difference {worst:.2g})"
    )
    return passed(exercise)
