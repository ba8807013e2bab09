"""Exercise checks of notebook 04 (residual networks and transfer learning)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from helpers.exercises import ExerciseIncorrect, expect, passed, require_answer

if TYPE_CHECKING:
    import keras


def _whole(answer: Any, exercise: str, what: str) -> int:
    """``answer`` as one whole number (``what`` names it in the error), or a clear error."""
    number = np.asarray(answer) if not isinstance(answer, str | bytes) else np.asarray(np.nan)
    whole = number.ndim == 0 and number.dtype.kind in "iuf" and float(number) == np.floor(float(number))
    expect(bool(whole), f"{exercise}: the answer should be one whole number ({what}), got {answer!r}.")
    return int(number)


def _trainable_count(model: keras.Model) -> int:
    """Parameters in ``model``'s trainable weights."""
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


def check_projection_parameters(answer: Any, backbone: keras.Model) -> str:
    """Exercise 1: weights of stage 2's projection shortcut, a 1×1 convolution from 16 to 32 channels, no bias."""
    exercise = "Exercise 1 (parameters of a projection shortcut)"
    require_answer(answer, exercise)
    value = _whole(answer, exercise, "a parameter count")
    layer = backbone.get_layer("stage2_projection")
    inputs, filters = layer.kernel.shape[-2], layer.kernel.shape[-1]
    expected = layer.count_params()
    expect(
        value != expected + filters,
        f"{exercise}: {value} counts a bias per filter, but the convolution is built with use_bias=False "
        "(the BatchNormalization after it adds its own shift).",
    )
    expect(
        value != 9 * expected,
        f"{exercise}: {value} is what a 3×3 kernel would have; the projection is a 1×1 convolution.",
    )
    expect(
        value != backbone.count_params(),
        f"{exercise}: {value} is the whole backbone; count only the layer named 'stage2_projection'.",
    )
    expect(
        value == expected,
        f"{exercise}: {value} is not right; a 1×1 convolution has one weight per (input channel, filter) "
        f"pair: {inputs} input channels, {filters} filters.",
    )
    return passed(exercise)


def check_trainable_last_stage(answer: Any, fresh_backbone: keras.Model) -> str:
    """Exercise 2: trainable parameters once only the layers named ``stage3...`` are unfrozen.

    ``fresh_backbone`` is an untouched copy of the same architecture (every layer trainable). The right
    count is worked out from its layers directly: the trainable weights of the layers named ``stage3...``.
    """
    exercise = "Exercise 2 (fine-tune only the last stage)"
    require_answer(answer, exercise)
    value = _whole(answer, exercise, "a parameter count")
    everything = fresh_backbone.count_params()
    all_trainable = _trainable_count(fresh_backbone)
    stage = [layer for layer in fresh_backbone.layers if layer.name.startswith("stage3")]
    expected = sum(int(np.prod(weight.shape)) for layer in stage for weight in layer.trainable_weights)
    stage_all = sum(layer.count_params() for layer in stage)
    expect(
        value != 0, f"{exercise}: 0 means everything is frozen; unfreeze the layers whose names start with 'stage3'."
    )
    expect(
        value not in (everything, all_trainable),
        f"{exercise}: {value} counts the whole backbone; only the layers named 'stage3...' should be trainable.",
    )
    expect(
        value != stage_all,
        f"{exercise}: {value} also counts the BatchNormalization moving means and variances, which are never "
        "trained by gradient descent; count model.trainable_weights only.",
    )
    expect(value == expected, f"{exercise}: {value} is not right; sum the sizes of model.trainable_weights.")
    return passed(exercise)


def _stage(layer: Any) -> str:
    """The stage a backbone layer belongs to: the start of its name (``stem``, ``stage1``, ... ``stage3``)."""
    return layer.name.split("_")[0]


def check_gradual_unfreezing(
    answer: Any,
    source_path: Any,
    *,
    plan: Any,
    min_accuracy: float,
    min_gain: float,
    seed: int = 42,
    compare_with: float | None = None,
) -> str:
    """Build exercise 3: ``answer(model, backbone, train, plan)`` fine-tunes ``model`` in phases, top block first.

    Judged by behaviour, on the notebook's pipeline: the check loads the backbone pretrained on digits
    0-4 from ``source_path``, trains a new head on its frozen features (the notebook's ``fit_transfer``
    without fine-tuning) on the target task of ``plan`` drawn with ``seed``, then calls ``answer`` with
    that model, its backbone, the augmented training images and ``plan``. It watches every
    ``model.fit``: which stages of the backbone are trainable in each phase (the top block alone
    first, then more, from the top down; frozen stages frozen whole, BatchNormalization included),
    whether the layers marked trainable really changed (they do not if the model was not compiled
    again after changing ``trainable``), and that all phases together take at most
    ``plan.fine_tune_epochs`` epochs. Then the test accuracy must reach ``min_accuracy`` and beat the
    frozen backbone's head by ``min_gain``. ``compare_with``, the test accuracy of the notebook's fine-tuning
    on the same task, is printed beside the result. About 10 s in fast mode on 2 cores.
    """
    import inspect

    import keras

    from helpers.datasets.digit_tasks import array_dataset
    from helpers.lessons.transfer_learning import (
        TARGET_DIGITS,
        augmented,
        digit_tasks,
        fit_transfer,
        load_pretrained_backbone,
    )

    exercise = "Build exercise 3 (gradual unfreezing)"
    require_answer(answer, exercise)
    expect(
        callable(answer),
        f"{exercise}: answer_3 should be the function fine_tune(model, backbone, train, plan), not "
        f"{type(answer).__name__}.",
    )
    tasks = digit_tasks(plan, seed=seed)
    train = array_dataset(*tasks.target_train, plan.batch_size, shuffle_seed=seed)
    test = array_dataset(*tasks.target_test, 512)
    keras.utils.set_random_seed(seed)
    pretrained = load_pretrained_backbone(source_path)
    frozen = fit_transfer(pretrained, train, test, len(TARGET_DIGITS), plan, fine_tune=False, seed=seed)
    model = frozen.model
    backbone = pretrained.model
    with_weights = [layer for layer in backbone.layers if layer.weights]
    stages = list(dict.fromkeys(_stage(layer) for layer in with_weights))  # bottom to top: stem, stage1, ...
    top = stages[-1]
    batchnorms = [layer for layer in with_weights if isinstance(layer, keras.layers.BatchNormalization)]
    others = [layer for layer in with_weights if layer not in batchnorms]
    original_fit = model.fit
    phases: list[dict[str, Any]] = []

    def named(chosen: Sequence[str]) -> str:
        return ", ".join(chosen) if chosen else "none"

    def recording_fit(*args: Any, **kwargs: Any) -> Any:
        number = len(phases) + 1
        bound = inspect.signature(original_fit).bind(*args, **kwargs).arguments
        epochs = int(bound.get("epochs", 1)) - int(bound.get("initial_epoch", 0))
        trainable = {id(weight) for weight in model.trainable_weights}
        training = [layer for layer in others if any(id(weight) in trainable for weight in layer.weights)]
        chosen = [stage for stage in stages if any(_stage(layer) == stage for layer in training)]
        phase = f"phase {number} (model.fit call {number})"
        loose = [
            layer.name
            for layer in batchnorms
            if _stage(layer) not in chosen and any(id(weight) in trainable for weight in layer.weights)
        ]
        expect(
            not loose,
            f"{exercise}: in {phase} BatchNormalization layers of stages that should be frozen are trainable "
            f"({named(loose)}). A trainable BatchNormalization layer normalises with the statistics of each "
            "batch and updates its moving averages, so a stage whose convolutions are frozen but whose "
            "BatchNormalization is not still changes. Freeze a stage whole, its BatchNormalization included.",
        )
        if number == 1:
            expect(
                chosen != stages,
                f"{exercise}: the first phase already trains the whole backbone ({named(chosen)}): that is the "
                f"notebook's fine-tuning, everything at once. Start with the top block ({top}) alone.",
            )
            expect(
                bool(chosen),
                f"{exercise}: the first phase trains no layer of the backbone, only the head (which feature "
                f"extraction has trained already). Unfreeze the top block ({top}) first.",
            )
            expect(
                top in chosen,
                f"{exercise}: the first phase trains {named(chosen)} but not the top block {top}: that is "
                "bottom-first. The lower stages hold the most general features (strokes, edges), useful as they "
                f"are; the top block is the most specific to the source digits. Start with {top} alone.",
            )
            expect(
                chosen == [top],
                f"{exercise}: the first phase trains {named(chosen)}; train the top block ({top}) alone first, and "
                "keep the lower stages frozen until a later phase.",
            )
        else:
            before = phases[-1]["stages"]
            expect(
                set(before) <= set(chosen),
                f"{exercise}: {phase} freezes again {named([s for s in before if s not in chosen])}, trained in the "
                "phase before; gradual unfreezing only ever unfreezes more.",
            )
        expect(
            chosen == stages[len(stages) - len(chosen) :],
            f"{exercise}: {phase} trains {named(chosen)} while a stage above them stays frozen: unfreeze from the "
            f"top down ({', '.join(reversed(stages))}).",
        )
        spent = sum(earlier["epochs"] for earlier in phases) + epochs
        expect(
            spent <= plan.fine_tune_epochs,
            f"{exercise}: with {phase} the phases train {spent} epochs in all, more than the notebook's fine-tuning "
            f"({plan.fine_tune_epochs}, plan.fine_tune_epochs): compare the two on the same budget.",
        )
        kernels = {layer.name: [np.array(weight) for weight in layer.weights] for layer in training}
        history = original_fit(*args, **kwargs)
        still = [
            name
            for name, values in kernels.items()
            if all(
                np.array_equal(value, np.array(weight))
                for value, weight in zip(values, backbone.get_layer(name).weights, strict=True)
            )
        ]
        expect(
            not still,
            f"{exercise}: in {phase} the layers {named(still)} were marked trainable but their weights did not "
            "change. Keras builds the training step when the model is compiled, with the weights that were trainable "
            "then: after changing `trainable`, compile the model again (compiled(model, ...)) before fit.",
        )
        phases.append({"stages": chosen, "epochs": epochs})
        return history

    object.__setattr__(model, "fit", recording_fit)
    try:
        answer(model, backbone, augmented(train, seed), plan)
    except ExerciseIncorrect:
        raise
    except Exception as error:  # the learner's code: report any failure in words
        raise ExerciseIncorrect(
            f"{exercise}: answer_3(model, backbone, train, plan) raised {type(error).__name__}: {error}"
        ) from error
    finally:
        object.__setattr__(model, "fit", original_fit)
    expect(
        bool(phases),
        f"{exercise}: answer_3 never called model.fit on the model it was given: train that model, phase by phase.",
    )
    expect(
        len(phases) >= 2 and phases[-1]["stages"] != [top],
        f"{exercise}: the backbone never trains more than the top block ({top}) in {len(phases)} phase(s): after "
        "the first phase, unfreeze more (the stage below, or everything) and train again.",
    )
    accuracy = float(model.evaluate(test, verbose=0)[1])
    schedule = "; ".join(
        f"phase {n}: {named(phase['stages'])}, {phase['epochs']} epochs" for n, phase in enumerate(phases, 1)
    )
    expect(
        accuracy >= min_accuracy,
        f"{exercise}: the phases are right ({schedule}), but the fine-tuned model reaches {accuracy:.2%} test "
        f"accuracy; at least {min_accuracy:.0%} expected. Use the budget of epochs, with a learning rate that "
        "starts around 3e-3 for the first phase and decays (compiled(model, rate, decay_steps=steps(train, epochs))).",
    )
    expect(
        accuracy >= frozen.frozen_accuracy + min_gain,
        f"{exercise}: the phases are right ({schedule}), but the fine-tuned model reaches {accuracy:.2%} test "
        f"accuracy, not {min_gain:.0%} above the frozen backbone's head ({frozen.frozen_accuracy:.2%}): fine-tuning "
        "should help. Use the whole budget of epochs, with a learning rate that starts around 3e-3.",
    )
    print(schedule)
    print(f"test accuracy, {plan.labels_per_class} labels per class, seed {seed}:")
    print(f"  frozen backbone, new head     {frozen.frozen_accuracy:.2%}")
    print(f"  gradual unfreezing            {accuracy:.2%}")
    if compare_with is not None:
        print(f"  fine-tuned at once (notebook) {compare_with:.2%}")
    return passed(exercise)
