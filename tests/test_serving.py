"""The model server: protocol checks in-process, then a real server on a loopback port.

The served models are tiny (built and exported in a few seconds): ``tiny`` (one input
``features`` of 4 numbers, 3 softmax outputs; versions 1 and 2 with different weights) and
``pair`` (inputs ``a`` and ``b``, outputs ``total = a + b`` and ``product = a * b``).
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from helpers.processes.server import ServerProcess, start_model_server
from helpers.serving import (
    HEALTH_PATH,
    METRICS_PATH,
    READY_PATH,
    Limits,
    ModelRegistry,
    RequestError,
    cli,
    create_app,
    protocol,
    registry,
)
from helpers.serving.protocol import TensorSpec

MAX_BATCH = 8
MAX_BODY = 8192
FEATURES = TensorSpec("features", "float32", (None, 4))


# ---------------------------------------------------------------- protocol, no server


def arrays_for(payload: dict[str, Any], specs: dict[str, TensorSpec] | None = None) -> dict[str, np.ndarray]:
    return protocol.request_arrays(
        protocol.parse_predict(payload), specs or {"features": FEATURES}, Limits(max_batch_size=MAX_BATCH)
    )


def refusal(payload: dict[str, Any], specs: dict[str, TensorSpec] | None = None) -> RequestError:
    with pytest.raises(RequestError) as caught:
        arrays_for(payload, specs)
    return caught.value


def test_row_and_columnar_requests_give_the_same_arrays() -> None:
    rows = [[1, 2, 3, 4], [5, 6, 7, 8.5]]
    row_arrays = arrays_for({"instances": rows})
    named_rows = arrays_for({"instances": [{"features": row} for row in rows]})
    columnar = arrays_for({"inputs": rows})
    named_columnar = arrays_for({"inputs": {"features": rows}})
    for arrays in (row_arrays, named_rows, columnar, named_columnar):
        assert arrays["features"].dtype == np.float32
        np.testing.assert_array_equal(arrays["features"], np.array(rows, dtype=np.float32))


def test_shape_dtype_and_value_checks_say_what_was_expected() -> None:
    assert "did you forget the batch dimension" in refusal({"instances": [1, 2, 3, 4]}).message
    error = refusal({"instances": [[1, 2, 3]]})
    assert error.status == 400 and "shape [1, 3]" in error.message and "float32[batch, 4]" in error.message
    assert "strings" in refusal({"instances": [["a", "b", "c", "d"]]}).message
    assert "booleans" in refusal({"instances": [[True, False, True, True]]}).message
    assert "ragged" in refusal({"instances": [[1, 2, 3, 4], [1, 2]]}).message
    assert "index [0, 2]" in refusal({"instances": [[1, 2, math.nan, 4]]}).message
    assert "infinity" in refusal({"inputs": [[1, 2, 3, math.inf]]}).message
    assert "too large for float32" in refusal({"inputs": [[1, 2, 3, 1e300]]}).message


def test_integer_inputs_refuse_fractions_and_out_of_range_values() -> None:
    counts = {"counts": TensorSpec("counts", "int32", (None, 2))}
    np.testing.assert_array_equal(arrays_for({"instances": [[1, 2]]}, counts)["counts"], [[1, 2]])
    assert "numbers, but the model expects integers" in refusal({"instances": [[1.5, 2]]}, counts).message
    assert "outside the range of int32" in refusal({"instances": [[2**40, 2]]}, counts).message


def test_batch_limits_and_request_fields() -> None:
    assert refusal({"instances": []}).message.startswith("the batch is empty")
    assert refusal({"inputs": []}).message.startswith("the batch is empty")
    too_many = refusal({"inputs": [[0, 0, 0, 0]] * (MAX_BATCH + 1)})
    assert too_many.status == 413 and f"limit of {MAX_BATCH}" in too_many.message
    with pytest.raises(RequestError, match="not both"):
        protocol.parse_predict({"instances": [], "inputs": []})
    with pytest.raises(RequestError, match="neither"):
        protocol.parse_predict({})
    with pytest.raises(RequestError, match=r"unknown field\(s\) \['instance'\]"):
        protocol.parse_predict({"instance": []})
    with pytest.raises(RequestError, match="signature_name"):
        protocol.parse_predict({"instances": [], "signature_name": 3})


def test_several_inputs_must_be_named() -> None:
    specs = {name: TensorSpec(name, "float32", (None, 2)) for name in ("a", "b")}
    arrays = arrays_for({"instances": [{"a": [1, 2], "b": [3, 4]}]}, specs)
    assert set(arrays) == {"a", "b"}
    assert "must be an object by name" in refusal({"instances": [[1, 2]]}, specs).message
    assert "names inputs ['a']" in refusal({"inputs": {"a": [[1, 2]]}}, specs).message
    assert "different batch sizes" in refusal({"inputs": {"a": [[1, 2]], "b": [[1, 2], [3, 4]]}}, specs).message


def test_json_decoding_errors() -> None:
    assert protocol.decode_json(b'{"instances": [1]}') == {"instances": [1]}
    for body, message in [(b"", "empty"), (b'{"instances": [1,', "not valid JSON"), (b"[1, 2]", "not a list")]:
        with pytest.raises(RequestError, match=message):
            protocol.decode_json(body)


def test_responses_follow_tensorflow_serving() -> None:
    one = {"scores": np.array([[0.25, 0.75]], dtype=np.float32)}
    assert protocol.response_body(one, row_format=True) == {"predictions": [[0.25, 0.75]]}
    assert protocol.response_body(one, row_format=False) == {"outputs": [[0.25, 0.75]]}
    two = {"x": np.array([[1.0], [2.0]]), "y": np.array([3, 4])}
    assert protocol.response_body(two, row_format=True) == {"predictions": [{"x": [1.0], "y": 3}, {"x": [2.0], "y": 4}]}
    assert protocol.response_body(two, row_format=False) == {"outputs": {"x": [[1.0], [2.0]], "y": [3, 4]}}


def test_discovery_errors_say_how_to_lay_out_models(tmp_path: Path) -> None:
    with pytest.raises(registry.ModelLoadError, match="does not exist"):
        registry.discover_versions(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(registry.ModelLoadError, match="no versions"):
        registry.discover_versions(tmp_path / "empty")
    (tmp_path / "model" / "1").mkdir(parents=True)
    (tmp_path / "model" / "1" / "saved_model.pb").write_bytes(b"")
    (tmp_path / "model" / "notes").mkdir()
    assert registry.discover_versions(tmp_path / "model") == {1: tmp_path / "model" / "1"}
    with pytest.raises(registry.ModelLoadError, match="is a SavedModel itself"):
        registry.discover_versions(tmp_path / "model" / "1")
    with pytest.raises(registry.ModelLoadError, match="without '/' or ':'"):
        ModelRegistry({"a:b": tmp_path})


def test_an_empty_server_is_alive_but_not_ready() -> None:
    async def probe() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(ModelRegistry()))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [await client.get(path) for path in (HEALTH_PATH, READY_PATH, "/v1/models/mnist")]

    alive, ready, status = asyncio.run(probe())
    assert alive.json() == {"status": "alive"}
    assert ready.status_code == 503 and "models not loaded" in ready.json()["error"]
    assert status.status_code == 404 and "no model named 'mnist'" in status.json()["error"]


def test_a_failing_model_gives_a_json_500() -> None:
    def broken(*_: Any) -> list[Any]:
        raise RuntimeError("out of memory")

    signature = registry.Signature("serving_default", {"features": FEATURES}, {"p": FEATURES}, broken)
    served = ModelRegistry()
    served._versions["broken"] = {1: registry.ModelVersion("broken", 1, Path("."), {"serving_default": signature}, 0)}

    async def ask() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(served), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post("/v1/models/broken:predict", json={"instances": EXAMPLES})

    answer = asyncio.run(ask())
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal error (RuntimeError); the server log has the details"}


def test_command_line_defaults_to_loopback_and_reports_a_missing_model(tmp_path: Path, server_command_line) -> None:
    arguments = cli.build_parser().parse_args(["--model", "mnist=models/mnist"])
    assert (arguments.host, arguments.port) == ("127.0.0.1", 8501)
    assert arguments.model == [("mnist", Path("models/mnist"))]
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["--model", "no-equals-sign"])
    assert cli.main(["--model", f"mnist={tmp_path / 'missing'}"]) == 1


def test_the_server_stops_when_its_parent_goes(monkeypatch: pytest.MonkeyPatch) -> None:
    parents = iter([100, 100, 1])
    monkeypatch.setattr(cli.os, "getppid", lambda: next(parents))

    class FakeServer:
        should_exit = False

    server = FakeServer()
    cli.watch_parent(server, interval_s=0.01).join(timeout=5)
    assert server.should_exit


# ---------------------------------------------------------------- a real server


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Export the tiny models; return their base folders and the Keras versions of ``tiny``."""
    import keras

    base = tmp_path_factory.mktemp("served") / "models"
    tiny = {}
    for version in (1, 2):
        initializer = keras.initializers.GlorotUniform(seed=version)  # two versions, different weights
        dense = keras.layers.Dense(3, activation="softmax", kernel_initializer=initializer)
        model = keras.Sequential([keras.Input((4,), name="features"), dense])
        model.export(str(base / "tiny" / str(version)), verbose=False)
        tiny[version] = model
    a, b = keras.Input((2,), name="a"), keras.Input((2,), name="b")
    pair = keras.Model(
        {"a": a, "b": b}, {"total": keras.layers.Add()([a, b]), "product": keras.layers.Multiply()([a, b])}
    )
    pair.export(str(base / "pair" / "1"), verbose=False)
    return {"bases": {"tiny": base / "tiny", "pair": base / "pair"}, "tiny": tiny}


@pytest.fixture(scope="module")
def server(models: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("server-log") / "server.log"
    limits = ["--max-batch-size", str(MAX_BATCH), "--max-body-bytes", str(MAX_BODY)]
    running = start_model_server(models["bases"], extra_args=limits, log_path=log, timeout_s=90)
    try:
        yield running
    finally:
        running.stop()
    assert not running.running


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as session:
        yield session


EXAMPLES = [[0.5, -1.0, 2.0, 0.0], [1.0, 1.0, 1.0, 1.0], [-3.0, 0.25, 0.0, 7.0]]


def keras_probabilities(models: dict[str, Any], version: int) -> np.ndarray:
    return np.asarray(models["tiny"][version](np.array(EXAMPLES, dtype=np.float32)))


def test_health_readiness_and_status(client: httpx.Client) -> None:
    assert client.get(HEALTH_PATH).json() == {"status": "alive"}
    assert client.get(READY_PATH).json() == {"status": "ready", "models": {"pair": [1], "tiny": [1, 2]}}
    status = client.get("/v1/models/tiny").json()["model_version_status"]
    assert [entry["version"] for entry in status] == ["2", "1"]
    assert all(entry["state"] == "AVAILABLE" for entry in status)
    assert client.get("/v1/models/tiny/versions/1").json()["model_version_status"][0]["version"] == "1"
    signature = client.get("/v1/models/tiny/metadata").json()["metadata"]["signature_def"]["signature_def"]
    features = signature["serving_default"]["inputs"]["features"]
    assert features == {"dtype": "DT_FLOAT", "tensor_shape": {"dim": [{"size": "-1"}, {"size": "4"}]}}


def test_predictions_in_both_formats_match_keras(client: httpx.Client, models: dict[str, Any]) -> None:
    latest, first = keras_probabilities(models, 2), keras_probabilities(models, 1)
    assert not np.allclose(latest, first), "the two versions should differ"
    rows = client.post("/v1/models/tiny:predict", json={"instances": EXAMPLES})
    assert rows.status_code == 200 and rows.headers["content-type"] == "application/json"
    np.testing.assert_allclose(rows.json()["predictions"], latest, atol=1e-6)
    columns = client.post("/v1/models/tiny/versions/1:predict", json={"inputs": {"features": EXAMPLES}})
    np.testing.assert_allclose(columns.json()["outputs"], first, atol=1e-6)
    for signature_name in ("serving_default", "serve"):
        named = client.post(
            "/v1/models/tiny/versions/2:predict",
            json={"signature_name": signature_name, "instances": [{"features": row} for row in EXAMPLES]},
        )
        np.testing.assert_allclose(named.json()["predictions"], latest, atol=1e-6)


def test_a_model_with_two_inputs_and_outputs(client: httpx.Client) -> None:
    rows = client.post("/v1/models/pair:predict", json={"instances": [{"a": [1, 2], "b": [3, 4]}]}).json()
    assert rows == {"predictions": [{"product": [3.0, 8.0], "total": [4.0, 6.0]}]}
    columns = client.post("/v1/models/pair:predict", json={"inputs": {"a": [[1, 2], [0, 1]], "b": [[3, 4], [5, 6]]}})
    assert columns.json() == {"outputs": {"product": [[3.0, 8.0], [0.0, 6.0]], "total": [[4.0, 6.0], [5.0, 7.0]]}}


TINY = "/v1/models/tiny:predict"
BAD_REQUESTS = [
    # (what is wrong, method, path, body, expected status, words the error must contain)
    ("malformed JSON", "POST", TINY, b'{"instances": [[1, 2,', 400, "not valid JSON"),
    ("not an object", "POST", TINY, b"[[1, 2, 3, 4]]", 400, "must be a JSON object"),
    ("both formats", "POST", TINY, {"instances": EXAMPLES, "inputs": EXAMPLES}, 400, "not both"),
    ("neither format", "POST", TINY, {"signature_name": "serving_default"}, 400, "neither 'instances' nor 'inputs'"),
    ("misspelt field", "POST", TINY, {"instance": EXAMPLES}, 400, "unknown field"),
    ("wrong shape", "POST", TINY, {"instances": [[1, 2, 3]]}, 400, "expected float32[batch, 4]"),
    ("no batch dimension", "POST", TINY, {"inputs": [1, 2, 3, 4]}, 400, "forget the batch dimension"),
    ("ragged rows", "POST", TINY, {"instances": [[1, 2, 3, 4], [1]]}, 400, "ragged"),
    ("nested 1500 deep", "POST", TINY, b'{"instances": ' + b"[" * 1500 + b"]" * 1500 + b"}", 400, "nested too deeply"),
    ("nested 100 deep", "POST", TINY, {"instances": json.loads("[" * 100 + "]" * 100)}, 400, "nested too deeply"),
    ("strings", "POST", TINY, {"instances": [["1", "2", "3", "4"]]}, 400, "strings"),
    ("5,000 digits", "POST", TINY, b'{"instances": [[1' + b"0" * 5000 + b", 2, 3, 4]]}", 400, "number too long"),
    ("4,000 digits", "POST", TINY, b'{"instances": [[1' + b"0" * 4000 + b", 2, 3, 4]]}", 400, "float32"),
    ("lone surrogate", "POST", TINY, b'{"signature_name": "\\ud800", "instances": [[1, 2, 3, 4]]}', 400, "surrogate"),
    ("surrogate key", "POST", TINY, b'{"instances": [{"\\udfff": 1}]}', 400, "lone surrogate"),
    ("NaN", "POST", TINY, b'{"instances": [[1, NaN, 3, 4]]}', 400, "NaN or infinity"),
    ("infinity", "POST", TINY, b'{"inputs": [[1, 2, Infinity, 4]]}', 400, "NaN or infinity"),
    ("empty batch", "POST", TINY, {"instances": []}, 400, "batch is empty"),
    ("batch too large", "POST", TINY, {"instances": [[0, 0, 0, 0]] * (MAX_BATCH + 1)}, 413, f"limit of {MAX_BATCH}"),
    ("body too large", "POST", TINY, {"instances": [[0.123456789] * 4] * 400}, 413, f"limit of {MAX_BODY} bytes"),
    (
        "unknown model",
        "POST",
        "/v1/models/nope:predict",
        {"instances": EXAMPLES},
        404,
        "served models: ['pair', 'tiny']",
    ),
    ("unknown version", "POST", "/v1/models/tiny/versions/7:predict", {"instances": EXAMPLES}, 404, "[1, 2]"),
    ("version not a number", "POST", "/v1/models/tiny/versions/latest:predict", {"instances": []}, 400, "whole number"),
    ("unknown signature", "POST", TINY, {"signature_name": "nope", "instances": EXAMPLES}, 404, "'serving_default'"),
    ("inputs not named", "POST", "/v1/models/pair:predict", {"instances": [[1, 2]]}, 400, "object by name"),
    ("an input missing", "POST", "/v1/models/pair:predict", {"inputs": {"a": [[1, 2]]}}, 400, "inputs are ['a', 'b']"),
    ("unknown verb", "POST", "/v1/models/tiny:classify", {"instances": EXAMPLES}, 404, "only ':predict'"),
    ("predict with GET", "GET", TINY, None, 405, "needs POST"),
    ("unknown route", "GET", "/v2/models", None, 404, "routes:"),
    ("wrong method", "DELETE", "/v1/models/tiny", None, 405, "not allowed"),
    ("unknown model status", "GET", "/v1/models/nope", None, 404, "no model named 'nope'"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "words"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
def test_bad_requests_get_a_json_error_and_the_server_keeps_serving(
    client: httpx.Client, models: dict[str, Any], method: str, path: str, body: Any, status: int, words: str
) -> None:
    content = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    response = client.request(method, path, content=content)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert list(response.json()) == ["error"]
    assert words in response.json()["error"]
    after = client.post(TINY, json={"instances": EXAMPLES})
    assert after.status_code == 200
    np.testing.assert_allclose(after.json()["predictions"], keras_probabilities(models, 2), atol=1e-6)


def test_metrics_count_requests_by_route_and_status(client: httpx.Client) -> None:
    for _ in range(3):
        client.post(TINY, json={"instances": EXAMPLES})
    client.post(TINY, content=b"{")
    families = {family.name: family for family in text_string_to_metric_families(client.get(METRICS_PATH).text)}
    counts = {
        (sample.labels["route"], sample.labels["code"]): sample.value
        for sample in families["model_server_requests"].samples
        if sample.name.endswith("_total")
    }
    assert counts[("/v1/models/{name}:predict", "200")] >= 3
    assert counts[("/v1/models/{name}:predict", "400")] >= 1
    latency = {
        sample.name: sample.value
        for sample in families["model_server_request_seconds"].samples
        if sample.labels["route"] == "/v1/models/{name}:predict"
    }
    assert latency["model_server_request_seconds_count"] >= 4
    examples = families["model_server_predicted_examples"].samples
    assert any(sample.labels == {"model": "tiny", "version": "2"} and sample.value >= 9 for sample in examples)


def test_every_request_is_logged_as_one_json_line(client: httpx.Client, server: ServerProcess) -> None:
    client.post("/v1/models/tiny/versions/1:predict", json={"instances": EXAMPLES[:2]})
    client.post(TINY, content=b"{")
    lines = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "helpers.serving.access"]
    assert any(
        line["path"] == "/v1/models/tiny/versions/1:predict"
        and line["status"] == 200
        and (line["model"], line["version"], line["batch"]) == ("tiny", 1, 2)
        and line["ms"] > 0
        for line in access
    )
    assert any(line["status"] == 400 and "not valid JSON" in line["error"] for line in access)
    assert any(line["message"] == "loaded" and line["model"] == "pair" for line in lines)


def test_the_exported_model_converts_to_litert_and_agrees(models: dict[str, Any]) -> None:
    from helpers.litert import LiteRTModel, convert_saved_model

    folder = models["bases"]["tiny"] / "2"
    examples = np.array(EXAMPLES, dtype=np.float32)
    expected = keras_probabilities(models, 2)
    # int8 calibration must cover the range of real inputs (EXAMPLES go from -3 to 7)
    calibration = np.random.default_rng(0).uniform(-4, 8, size=(100, 4)).astype(np.float32)
    sizes = {}
    for quantization, tolerance in (("float32", 1e-6), ("int8", 0.05)):
        flatbuffer = convert_saved_model(folder, quantization, representative_inputs=calibration)
        sizes[quantization] = len(flatbuffer)
        lite = LiteRTModel(flatbuffer)
        np.testing.assert_allclose(lite(examples), expected, atol=tolerance)
        np.testing.assert_allclose(lite(examples[:1]), expected[:1], atol=tolerance)  # resized to batch 1
    assert sizes["int8"] != sizes["float32"]
    with pytest.raises(ValueError, match="representative_inputs"):
        convert_saved_model(folder, "int8")
    with pytest.raises(ValueError, match="quantization must be one of"):
        convert_saved_model(folder, "int4")  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match="not a SavedModel folder"):
        convert_saved_model(models["bases"]["tiny"], "float32")
