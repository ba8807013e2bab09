"""The model server's web application: TensorFlow Serving's REST API on FastAPI.

Routes (``NAME`` a served model, ``N`` a version number):

* ``GET  /v1/models/NAME`` and ``/v1/models/NAME/versions/N``: version status, as TF Serving;
* ``GET  /v1/models/NAME[/versions/N]/metadata``: the signatures' inputs and outputs;
* ``POST /v1/models/NAME[/versions/N]:predict``: predictions (see :mod:`helpers.serving.protocol`);
* ``GET  /healthz`` (liveness: the process answers), ``/readyz`` (readiness: models loaded);
* ``GET  /metrics``: request counts and latency histograms in Prometheus' text format.

Every refused request gets a 4xx JSON body ``{"error": "..."}`` that says what was wrong and what
was expected, and the server goes on serving. Each request is logged as one JSON line on the
``helpers.serving.access`` logger (the command line sends it to stderr).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from helpers.serving.protocol import (
    Limits,
    RequestError,
    TensorSpec,
    decode_json,
    parse_predict,
    request_arrays,
    response_body,
)
from helpers.serving.registry import ModelRegistry, ModelVersion

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501  # TensorFlow Serving's REST port
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
ACCESS_LOGGER = "helpers.serving.access"
LATENCY_BUCKETS_S = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

_DT_NAMES = {
    "float16": "DT_HALF",
    "float32": "DT_FLOAT",
    "float64": "DT_DOUBLE",
    "int8": "DT_INT8",
    "int16": "DT_INT16",
    "int32": "DT_INT32",
    "int64": "DT_INT64",
    "uint8": "DT_UINT8",
    "uint16": "DT_UINT16",
    "bool": "DT_BOOL",
    "bytes": "DT_STRING",
    "str": "DT_STRING",
}


class Metrics:
    """The server's Prometheus metrics, in a registry of their own (several apps may coexist)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter(
            "model_server_requests_total", "HTTP requests answered", ["method", "route", "code"], registry=self.registry
        )
        self.latency = Histogram(
            "model_server_request_seconds",
            "Time to answer a request, from its first byte to the response",
            ["route"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.inference = Histogram(
            "model_server_inference_seconds",
            "Time spent in the model's signature alone",
            ["model"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.examples = Counter(
            "model_server_predicted_examples_total",
            "Examples predicted (a batch of 8 counts 8)",
            ["model", "version"],
            registry=self.registry,
        )

    def exposition(self) -> tuple[bytes, str]:
        """The metrics in Prometheus' text format, and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class ObserveRequests:
    """ASGI middleware: times every request, counts it in the metrics, logs it as one JSON line."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.logger = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            seconds = time.perf_counter() - start
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(route).observe(seconds)
            if self.logger.isEnabledFor(logging.INFO):
                fields = {
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "ms": round(seconds * 1000, 3),
                    **scope.get("state", {}).get("log", {}),
                }
                self.logger.info("request", extra={"fields": fields})


def json_response(body: Any, status: int = 200) -> Response:
    """A compact JSON response (NaN refused: JSON has no NaN)."""
    return Response(
        json.dumps(body, allow_nan=False, separators=(",", ":")), status_code=status, media_type="application/json"
    )


def error_response(status: int, message: str) -> Response:
    """The server's one error shape: ``{"error": "..."}``."""
    return json_response({"error": message}, status)


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused with a 413 as soon as it is larger than ``max_bytes``."""
    too_large = f"the request body is larger than this server's limit of {max_bytes} bytes; send smaller batches"
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise RequestError(413, too_large)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise RequestError(413, too_large)
        chunks.append(chunk)
    return b"".join(chunks)


def routing_error_message(request: Request, error: HTTPException, routes: str) -> str:
    """What to tell a client whose request matched no route (404: the routes there are) or method (405)."""
    if error.status_code == 404:
        probes = f"GET {HEALTH_PATH}, {READY_PATH}, {METRICS_PATH}"
        return f"no route {request.method} {request.url.path}; routes: {routes}, {probes}"
    if error.status_code == 405:
        return f"method {request.method} is not allowed on {request.url.path}"
    return str(error.detail)


def version_status(model: ModelVersion) -> dict[str, Any]:
    """One entry of TF Serving's ``model_version_status``."""
    return {"version": str(model.version), "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}


def _tensor_info(spec: TensorSpec) -> dict[str, Any]:
    return {
        "dtype": _DT_NAMES.get(spec.dtype, f"DT_{spec.dtype.upper()}"),
        "tensor_shape": {"dim": [{"size": str(-1 if size is None else size)} for size in spec.shape]},
    }


def metadata(model: ModelVersion) -> dict[str, Any]:
    """TF Serving's ``/metadata`` answer: each signature's inputs and outputs."""
    signatures = {
        name: {
            "inputs": {key: _tensor_info(spec) for key, spec in signature.inputs.items()},
            "outputs": {key: _tensor_info(spec) for key, spec in signature.outputs.items()},
            "method_name": "tensorflow/serving/predict",
        }
        for name, signature in model.signatures.items()
    }
    return {
        "model_spec": {"name": model.name, "signature_name": "", "version": str(model.version)},
        "metadata": {"signature_def": {"signature_def": signatures}},
    }


def _check_name(name: str) -> str:
    """Refuse ``GET /v1/models/mnist:predict`` (a predict sent with the wrong method) clearly."""
    if ":" in name:
        model, verb = name.split(":", 1)
        raise RequestError(405, f"':{verb}' needs POST with a JSON body; GET /v1/models/{model} gives the status")
    return name


def create_app(registry: ModelRegistry, limits: Limits | None = None, *, inference_in_thread: bool = True) -> FastAPI:
    """The server's FastAPI application for a loaded ``registry``.

    ``limits`` bounds request bodies and batches (413 beyond them). With ``inference_in_thread``
    (the default) each model call runs in a worker thread: TensorFlow releases Python's GIL while
    it computes, so the event loop meanwhile parses the next requests and answers health checks.
    ``False`` calls the model in the event loop (one fewer thread hop; compare both under load).
    """
    limits = limits or Limits()
    metrics = Metrics()
    state = {"shutting_down": False}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        yield
        state["shutting_down"] = True

    app = FastAPI(title="Course model server", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.registry = registry
    app.state.limits = limits
    app.state.metrics = metrics

    def log_error(request: Request, message: str) -> None:
        request.state.log = {**getattr(request.state, "log", {}), "error": message}

    @app.exception_handler(RequestError)
    async def refused(request: Request, error: RequestError) -> Response:
        log_error(request, error.message)
        return error_response(error.status, error.message)

    @app.exception_handler(Exception)
    async def crashed(request: Request, error: Exception) -> Response:
        message = f"internal error ({type(error).__name__}); the server log has the details"
        log_error(request, f"{type(error).__name__}: {error}")
        return error_response(500, message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        routes = "GET /v1/models/NAME[/versions/N][/metadata], POST /v1/models/NAME[/versions/N]:predict"
        message = routing_error_message(request, error, routes)
        log_error(request, message)
        return error_response(error.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> Response:
        return error_response(400, f"invalid request: {error.errors()}")

    @app.get(HEALTH_PATH)
    async def health() -> Response:
        return json_response({"status": "alive"})

    @app.get(READY_PATH)
    async def ready() -> Response:
        if state["shutting_down"]:
            return error_response(503, "shutting down")
        if not registry.ready:
            return error_response(503, f"models not loaded: configured {sorted(registry.bases) or 'none'}")
        served = {name: sorted(registry.versions(name)) for name in registry.names()}
        return json_response({"status": "ready", "models": served})

    @app.get(METRICS_PATH)
    async def prometheus_metrics() -> Response:
        content, media_type = metrics.exposition()
        return Response(content, media_type=media_type)

    @app.get("/v1/models/{name}")
    async def model_status(name: str) -> Response:
        versions = registry.versions(_check_name(name))
        return json_response({"model_version_status": [version_status(v) for v in reversed(versions.values())]})

    @app.get("/v1/models/{name}/versions/{version}")
    async def model_version_status(name: str, version: str) -> Response:
        return json_response({"model_version_status": [version_status(registry.get(_check_name(name), version))]})

    @app.get("/v1/models/{name}/metadata")
    async def model_metadata(name: str) -> Response:
        return json_response(metadata(registry.get(name)))

    @app.get("/v1/models/{name}/versions/{version}/metadata")
    async def model_version_metadata(name: str, version: str) -> Response:
        return json_response(metadata(registry.get(name, version)))

    async def predict(request: Request, name: str, version: str | None) -> Response:
        body = await read_body(request, limits.max_body_bytes)
        model = registry.get(name, version)
        log = {"model": model.name, "version": model.version}
        request.state.log = log
        parsed = parse_predict(decode_json(body))
        signature = model.signature(parsed.signature_name)
        arrays = request_arrays(parsed, signature.inputs, limits)
        batch = len(next(iter(arrays.values())))
        log["batch"] = batch
        start = time.perf_counter()
        if inference_in_thread:
            outputs = await anyio.to_thread.run_sync(signature, arrays)
        else:
            outputs = signature(arrays)
        metrics.inference.labels(model.name).observe(time.perf_counter() - start)
        metrics.examples.labels(model.name, str(model.version)).inc(batch)
        try:
            return json_response(response_body(outputs, parsed.row_format))
        except ValueError:
            return error_response(500, f"model '{model.name}' produced NaN or infinity for this input")

    @app.post("/v1/models/{name}:predict")
    async def predict_latest(request: Request, name: str) -> Response:
        return await predict(request, name, None)

    @app.post("/v1/models/{name}/versions/{version}:predict")
    async def predict_version(request: Request, name: str, version: str) -> Response:
        return await predict(request, name, version)

    @app.post("/v1/models/{rest:path}")
    async def unknown_verb(rest: str) -> Response:
        raise RequestError(
            404,
            f"cannot POST /v1/models/{rest}: use /v1/models/NAME:predict or /v1/models/NAME/versions/N:predict "
            "(only ':predict' is served, not ':classify' or ':regress')",
        )

    app.add_middleware(ObserveRequests, metrics=metrics)
    return app
