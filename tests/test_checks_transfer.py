"""Notebook 04's exercise checks: reference answers pass, typical mistakes fail with a reason."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from helpers.checks import transfer as checks
from helpers.exercises import ExerciseIncorrect, NotAnswered
from helpers.lessons import transfer_learning as transfer


@pytest.fixture(scope="module")
def backbone() -> keras.Model:
    return transfer.build_small_resnet()


def test_projection_parameters(backbone: keras.Model) -> None:
    assert "correct" in checks.check_projection_parameters(16 * 32, backbone)
    assert "correct" in checks.check_projection_parameters(np.int64(512), backbone)
    with pytest.raises(NotAnswered):
        checks.check_projection_parameters(None, backbone)
    with pytest.raises(ExerciseIncorrect, match="bias"):
        checks.check_projection_parameters(16 * 32 + 32, backbone)
    with pytest.raises(ExerciseIncorrect, match="3×3 kernel"):
        checks.check_projection_parameters(9 * 16 * 32, backbone)
    with pytest.raises(ExerciseIncorrect, match="whole backbone"):
        checks.check_projection_parameters(backbone.count_params(), backbone)
    with pytest.raises(ExerciseIncorrect, match="one weight per"):
        checks.check_projection_parameters(32, backbone)
    with pytest.raises(ExerciseIncorrect, match="whole number"):
        checks.check_projection_parameters("512", backbone)


def reference_last_stage_count() -> int:
    model = transfer.build_small_resnet()
    transfer.set_fine_tunable(model, "stage3")
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


def test_trainable_last_stage() -> None:
    answer = reference_last_stage_count()
    assert "correct" in checks.check_trainable_last_stage(answer, transfer.build_small_resnet())
    with pytest.raises(NotAnswered):
        checks.check_trainable_last_stage(None, transfer.build_small_resnet())
    with pytest.raises(ExerciseIncorrect, match="everything is frozen"):
        checks.check_trainable_last_stage(0, transfer.build_small_resnet())
    whole = transfer.build_small_resnet()
    with pytest.raises(ExerciseIncorrect, match="whole backbone"):
        checks.check_trainable_last_stage(whole.count_params(), transfer.build_small_resnet())
    with pytest.raises(ExerciseIncorrect, match="whole backbone"):
        checks.check_trainable_last_stage(
            sum(int(np.prod(w.shape)) for w in whole.trainable_weights), transfer.build_small_resnet()
        )
    stage3 = [layer for layer in whole.layers if layer.name.startswith("stage3")]
    with_statistics = sum(layer.count_params() for layer in stage3)
    assert with_statistics > answer
    with pytest.raises(ExerciseIncorrect, match="moving means"):
        checks.check_trainable_last_stage(with_statistics, transfer.build_small_resnet())
    with pytest.raises(ExerciseIncorrect, match="not right"):
        checks.check_trainable_last_stage(answer - 1, transfer.build_small_resnet())
