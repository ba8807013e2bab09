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


def check_refused_for_shape(answer: Any, input_name: str, shape: tuple[int | None, ...]) -> str:
    """Exercise 2: a predict body the server refuses *because of a shape*, everything else valid."""
    exercise = "Exercise 2 (a request refused for its shape)"
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


def check_custom_signature(answer: Any, model: Any, images: np.ndarray, work: Any) -> str:
    """Build exercise 3: ``answer(model, export_dir)`` exports a SavedModel whose ``serving_default`` takes
    ``pixels_flat`` (uint8, (batch, 784)) and returns ``digit`` (int64) and ``probability`` (float32),
    each (batch,); checked through the course's model server, in a process of its own."""
    import shutil
    from pathlib import Path

    import httpx

    from helpers.processes.server import ServerStartError, start_model_server

    exercise = "Build exercise 3 (an export with a custom serving signature)"
    require_answer(answer, exercise)
    base = Path(work) / "build_exercise_3" / "digits"
    shutil.rmtree(base, ignore_errors=True)
    answer(model, base / "1")
    expect(
        (base / "1" / "saved_model.pb").is_file(),
        f"{exercise}: nothing was exported to {base / '1'}: write the SavedModel there (its saved_model.pb).",
    )
    try:
        server = start_model_server({"digits": base}, timeout_s=120)
    except ServerStartError as error:
        raise ExerciseIncorrect(f"{exercise}: the course server cannot serve your export:\n{error}") from None
    flat = images.reshape(len(images), -1).astype(np.uint8)
    with server, httpx.Client(base_url=server.url, timeout=60) as client:
        signature = client.get("/v1/models/digits/metadata").json()["metadata"]["signature_def"]["signature_def"]
        expect(
            "serving_default" in signature,
            f"{exercise}: the export has no 'serving_default' signature (it has {sorted(signature)}).",
        )
        inputs, outputs = signature["serving_default"]["inputs"], signature["serving_default"]["outputs"]
        expect(
            list(inputs) == ["pixels_flat"],
            f"{exercise}: the signature should take one input named 'pixels_flat'; yours takes {list(inputs)} "
            "(name the tf.TensorSpec).",
        )
        spec = inputs["pixels_flat"]
        dims = [int(d["size"]) for d in spec["tensor_shape"]["dim"]]
        expect(
            spec["dtype"] == "DT_UINT8" and dims == [-1, 784],
            f"{exercise}: the input should be uint8 of shape (None, 784); yours is {spec['dtype']} {dims}.",
        )
        expect(
            sorted(outputs) == ["digit", "probability"],
            f"{exercise}: return a dict with the outputs 'digit' and 'probability'; yours are {sorted(outputs)}.",
        )
        answer_rows = client.post("/v1/models/digits:predict", json={"instances": flat.tolist()})
        expect(answer_rows.status_code == 200, f"{exercise}: the server refused uint8 images: {answer_rows.text}")
        rows = answer_rows.json()["predictions"]
        refused = client.post("/v1/models/digits:predict", json={"instances": [[0.5] * 784]})
    expect(
        refused.status_code == 400,
        f"{exercise}: the server accepted 0.5 as a pixel: the input must be uint8 (whole numbers 0 to 255).",
    )
    probabilities = np.asarray(model(images.reshape(-1, 28, 28).astype("float32"), training=False))
    digits = np.array([row["digit"] for row in rows])
    confidence = np.array([row["probability"] for row in rows], dtype=float)
    scaled_twice = np.asarray(model(images.reshape(-1, 28, 28).astype("float32") / 255.0, training=False))
    right = np.allclose(confidence, probabilities.max(axis=1), rtol=1e-4, atol=1e-6)
    if not right and np.allclose(confidence, scaled_twice.max(axis=1), rtol=1e-4, atol=1e-6):
        raise ExerciseIncorrect(
            f"{exercise}: the answers are those of images divided by 255: the model already scales its input "
            "(its first layer); cast the uint8 pixels to float32 and pass them as they are."
        )
    expect(
        np.array_equal(digits, probabilities.argmax(axis=1)),
        f"{exercise}: 'digit' should be the most probable class of each image: {digits.tolist()} against the "
        f"model's {probabilities.argmax(axis=1).tolist()} (reshape to (batch, 28, 28) row by row?).",
    )
    expect_close(confidence, probabilities.max(axis=1), f"{exercise}: 'probability' (the top class's)", rtol=1e-4)
    return passed(exercise)
