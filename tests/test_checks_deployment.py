"""Exercise checks of notebook 06: reference answers pass, typical mistakes get the right message."""

from __future__ import annotations

import re

import numpy as np
import pytest

from helpers.checks import deployment as checks
from helpers.exercises import ExerciseIncorrect, NotAnswered

IMAGES = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)


def test_row_request() -> None:
    assert "correct" in checks.check_row_request({"instances": IMAGES.tolist()}, IMAGES)
    mistakes = {
        "columnar format": {"inputs": IMAGES.tolist()},
        "cannot be written as JSON": {"instances": list(IMAGES)},
        "convert it with .tolist()": {"instances": IMAGES},
        "one entry per image": {"instances": IMAGES[:2].tolist()},
        "shape (3, 784)": {"instances": IMAGES.reshape(3, -1).tolist()},
        "not the requested images": {"instances": IMAGES[::-1].tolist()},
        "one key": {"instances": IMAGES.tolist(), "signature": "serving_default"},
    }
    for message, answer in mistakes.items():
        with pytest.raises(ExerciseIncorrect, match=re.escape(message)):
            checks.check_row_request(answer, IMAGES)
    with pytest.raises(NotAnswered):
        checks.check_row_request(None, IMAGES)


def test_refused_for_shape() -> None:
    shape = (None, 28, 28)
    good_image = np.zeros((28, 28)).tolist()
    assert "correct" in checks.check_refused_for_shape({"instances": [np.zeros((28, 27)).tolist()]}, "pixels", shape)
    assert "correct" in checks.check_refused_for_shape({"inputs": np.zeros((2, 784)).tolist()}, "pixels", shape)
    with pytest.raises(ExerciseIncorrect, match="would accept"):
        checks.check_refused_for_shape({"instances": [good_image]}, "pixels", shape)
    with pytest.raises(ExerciseIncorrect, match="not for a shape"):
        checks.check_refused_for_shape({"instances": []}, "pixels", shape)
    with pytest.raises(ExerciseIncorrect, match="not for a shape"):
        checks.check_refused_for_shape({"instance": [good_image]}, "pixels", shape)
    with pytest.raises(ExerciseIncorrect, match="not valid JSON"):
        checks.check_refused_for_shape({"instances": [[float("nan")]]}, "pixels", shape)
    with pytest.raises(NotAnswered):
        checks.check_refused_for_shape(None, "pixels", shape)


def test_custom_signature_through_the_server(tmp_path) -> None:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [keras.Input((28, 28)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    model.layers[-1].kernel.assign(np.random.default_rng(0).normal(size=(784, 10)) * 0.3)
    model = keras.Sequential([model, keras.layers.Softmax()])
    images = np.random.default_rng(1).integers(0, 256, size=(6, 28, 28), dtype=np.uint8)

    def exporter(dtype=tf.uint8, scale=1.0, name="pixels_flat"):
        def answer(model, export_dir):
            @tf.function(input_signature=[tf.TensorSpec([None, 784], dtype, name=name)])
            def serve(pixels):
                probabilities = model(tf.cast(tf.reshape(pixels, (-1, 28, 28)), tf.float32) * scale)
                return {"digit": tf.argmax(probabilities, axis=1), "probability": tf.reduce_max(probabilities, axis=1)}

            archive = keras.export.ExportArchive()
            archive.track(model)
            archive.add_endpoint("serving_default", serve)
            archive.write_out(str(export_dir), verbose=False)

        return answer

    assert "correct" in checks.check_custom_signature(exporter(), model, images, tmp_path)
    with pytest.raises(ExerciseIncorrect, match="divided by 255"):
        checks.check_custom_signature(exporter(scale=1 / 255), model, images, tmp_path)
    with pytest.raises(ExerciseIncorrect, match="should be uint8"):
        checks.check_custom_signature(exporter(dtype=tf.float32), model, images, tmp_path)
    with pytest.raises(ExerciseIncorrect, match="nothing was exported"):
        checks.check_custom_signature(lambda model, path: None, model, images, tmp_path)
