"""Exercise checks of notebook 06 (deployment)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from helpers.exercises import ExerciseIncorrect, expect, expect_close, passed, require_answer
from helpers.serving.protocol import Limits, RequestError, TensorSpec, parse_predict, request_arrays


def check_row_request(answer: Any, images: np.ndarray) -> str:
    """Exercise 1: the JSON body (a dict) asking for the predictions of ``images`` in the row format."""
    exercise = "Exercise 1 (a row-format request)"
    require_answer(answer, exercise)
    expect(
        isinstance(answer, dict), f"{exercise}: the body should be a dict (sent as JSON), got {type(answer).__name__}."
    )
    expect(
        "inputs" not in answer,
        f"{exercise}: 'inputs' is the columnar format; the row format puts one entry per example under 'instances'.",
    )
    expect(
        set(answer) == {"instances"}, f"{exercise}: the body should have one key, 'instances'; it has {sorted(answer)}."
    )
    instances = answer["instances"]
    expect(
        not isinstance(instances, np.ndarray),
        f"{exercise}: a NumPy array cannot be written as JSON; convert it with .tolist().",
    )
    try:
        json.dumps(answer)
    except TypeError as error:
        raise ExerciseIncorrect(f"{exercise}: the body cannot be written as JSON ({error}); use .tolist().") from None
    expect(
        isinstance(instances, list) and len(instances) == len(images),
        f"{exercise}: 'instances' should be a list with one entry per image ({len(images)}), "
        f"got {len(instances) if isinstance(instances, list) else type(instances).__name__}.",
    )
    sent = np.asarray(instances)
    expect(
        sent.shape == images.shape,
        f"{exercise}: each instance should be one {images.shape[1]}×{images.shape[2]} image (the signature expects "
        f"[batch, {images.shape[1]}, {images.shape[2]}]); the instances have shape {sent.shape}.",
    )
    expect(bool(np.array_equal(sent, images)), f"{exercise}: the instances are not the requested images, in order.")
    return passed(exercise)


def check_predicted_digits(answer: Any, predictions: Any) -> str:
    """Exercise 2: the digit each example of a ``predictions`` answer is classified as."""
    exercise = "Exercise 2 (digits from an answer)"
    require_answer(answer, exercise)
    probabilities = np.asarray(predictions)
    digits = np.asarray(answer)
    expect(
        digits.shape != probabilities.shape,
        f"{exercise}: these are still the probabilities; take the most probable class of each example (argmax).",
    )
    expect(
        digits.shape != (probabilities.shape[1],),
        f"{exercise}: you have one value per class: take the argmax along the classes (axis=1), not the batch.",
    )
    expect(
        digits.shape == (len(probabilities),),
        f"{exercise}: expected one digit per example, shape ({len(probabilities)},), got {digits.shape}.",
    )
    expect(
        bool(np.array_equal(digits, probabilities.argmax(axis=1))),
        f"{exercise}: some digits are wrong; each should be the index of the largest probability.",
    )
    return passed(exercise)


def check_versioned_url(answer: Any, base_url: str, model: str, version: int) -> str:
    """Exercise 3: the URL that asks version ``version`` of ``model`` for predictions."""
    exercise = "Exercise 3 (a versioned predict URL)"
    require_answer(answer, exercise)
    expect(isinstance(answer, str), f"{exercise}: the URL should be a string, got {type(answer).__name__}.")
    expected = f"{base_url}/v1/models/{model}/versions/{version}:predict"
    expect(answer.startswith(base_url), f"{exercise}: the URL should start with the server's address {base_url}.")
    expect("/v1/" in answer, f"{exercise}: TensorFlow Serving's REST paths start with /v1/models/.")
    expect("/version/" not in answer, f"{exercise}: the path segment is 'versions' (plural): .../versions/{version}...")
    expect(
        not answer.endswith("/predict"),
        f"{exercise}: the method is appended with a colon, ':predict', not as a path segment '/predict'.",
    )
    expect(answer.endswith(":predict"), f"{exercise}: without ':predict' this is the status URL; add ':predict'.")
    expect(answer == expected, f"{exercise}: not quite: check the model name and version number in {answer!r}.")
    return passed(exercise)


def check_size_ratio(answer: Any, float_bytes: int, int8_bytes: int) -> str:
    """Exercise 4: how many times smaller the int8 LiteRT file is than the float32 one."""
    exercise = "Exercise 4 (size reduction)"
    require_answer(answer, exercise)
    expect(np.ndim(answer) == 0, f"{exercise}: the answer should be one number, got {answer!r}.")
    ratio = float_bytes / int8_bytes
    expect(
        abs(float(answer) - 1 / ratio) > 1e-3 * ratio,
        f"{exercise}: this is int8 size / float size (below 1); divide the float size by the int8 size.",
    )
    expect_close(float(answer), ratio, f"{exercise}: the ratio", rtol=1e-3)
    return passed(exercise)


def check_refused_for_shape(answer: Any, input_name: str, shape: tuple[int | None, ...]) -> str:
    """Exercise 5: a predict body the server refuses *because of a shape*, everything else valid."""
    exercise = "Exercise 5 (a request refused for its shape)"
    require_answer(answer, exercise)
    expect(
        isinstance(answer, dict), f"{exercise}: the body should be a dict (sent as JSON), got {type(answer).__name__}."
    )
    try:
        json.dumps(answer, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ExerciseIncorrect(
            f"{exercise}: this body is not valid JSON at all ({error}); keep it valid JSON."
        ) from None
    specs = {input_name: TensorSpec(input_name, "float32", shape)}
    try:
        request_arrays(parse_predict(answer), specs, Limits())
    except RequestError as error:
        expect(
            "shape" in error.message,
            f"{exercise}: the server refuses it, but not for a shape: {error.message!r}. Change only the shape.",
        )
        return passed(exercise)
    raise ExerciseIncorrect(f"{exercise}: the server would accept this request; give one example a wrong shape.")
