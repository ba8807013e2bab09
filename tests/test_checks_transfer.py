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


def exercise_pixels() -> np.ndarray:
    return np.full((1, 2, 2, 3), checks.EXERCISE_PIXEL_RGB)


def test_preprocess_copy() -> None:
    pixels = exercise_pixels()
    answer = keras.applications.resnet50.preprocess_input(pixels.copy())
    assert "correct" in checks.check_preprocess_copy(answer, pixels)
    with pytest.raises(NotAnswered):
        checks.check_preprocess_copy(None, pixels)
    with pytest.raises(ExerciseIncorrect, match="still the raw pixels"):
        checks.check_preprocess_copy(pixels.copy(), pixels)
    with pytest.raises(ExerciseIncorrect, match="RGB order"):
        checks.check_preprocess_copy(pixels - np.array(checks.IMAGENET_MEAN_BGR), pixels)
    with pytest.raises(ExerciseIncorrect, match="shape"):
        checks.check_preprocess_copy(answer[0], pixels)
    in_place = exercise_pixels()
    answer = keras.applications.resnet50.preprocess_input(in_place)  # the mistake: no copy
    with pytest.raises(ExerciseIncorrect, match="in place"):
        checks.check_preprocess_copy(answer, in_place)
    with pytest.raises(ExerciseIncorrect, match="not right"):
        checks.check_preprocess_copy(keras.applications.resnet50.preprocess_input(pixels.copy()) + 1, pixels)


def test_predicted_digit() -> None:
    names = ["5", "6", "7", "8", "9"]
    probabilities = np.array([0.05, 0.1, 0.7, 0.1, 0.05])
    assert "correct" in checks.check_predicted_digit(7, probabilities, names)
    with pytest.raises(NotAnswered):
        checks.check_predicted_digit(None, probabilities, names)
    with pytest.raises(ExerciseIncorrect, match="class index"):
        checks.check_predicted_digit(2, probabilities, names)
    with pytest.raises(ExerciseIncorrect, match="least"):
        checks.check_predicted_digit(5, probabilities, names)
    with pytest.raises(ExerciseIncorrect, match="not right"):
        checks.check_predicted_digit(8, probabilities, names)
    with pytest.raises(ExerciseIncorrect, match="whole number"):
        checks.check_predicted_digit("7", probabilities, names)
