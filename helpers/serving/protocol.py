"""TensorFlow Serving's REST predict protocol, without TensorFlow: JSON in, checked arrays out.

A predict request is a JSON object with exactly one of

* ``"instances"``: the *row* format, a list with one entry per example (for a model with several
  inputs each entry is an object ``{input_name: value}``); the answer is ``{"predictions": [...]}``,
  one entry per example;
* ``"inputs"``: the *columnar* format, one tensor (or an object ``{input_name: tensor}``) whose
  first dimension is the batch; the answer is ``{"outputs": ...}`` in the same layout;

and optionally ``"signature_name"`` (default ``"serving_default"``). Everything a client can get
wrong raises :class:`RequestError` with an HTTP status and a sentence saying what was wrong and
what was expected; the server turns it into ``{"error": "..."}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_SIGNATURE = "serving_default"
REQUEST_FIELDS = ("signature_name", "instances", "inputs")
EXAMPLE_BODY = '{"instances": [...]} or {"inputs": ...}'


class RequestError(Exception):
    """A request the server refuses: ``status`` (4xx) and a message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class TensorSpec:
    """Name, NumPy dtype name and shape (``None`` for any size) of a signature's input or output."""

    name: str
    dtype: str
    shape: tuple[int | None, ...]

    def describe(self) -> str:
        """``float32[batch, 28, 28]``: the dtype and shape a client must send."""
        dims = [
            "batch" if index == 0 and size is None else "any" if size is None else str(size)
            for index, size in enumerate(self.shape)
        ]
        return f"{self.dtype}[{', '.join(dims)}]"


@dataclass(frozen=True)
class Limits:
    """What the server accepts: the largest request body (bytes) and batch (examples)."""

    max_body_bytes: int = 8 * 1024 * 1024
    max_batch_size: int = 1024

    def __post_init__(self) -> None:
        if self.max_body_bytes < 1 or self.max_batch_size < 1:
            raise ValueError(f"limits must be positive, got {self}")


@dataclass(frozen=True)
class PredictRequest:
    """A parsed predict request: which signature, and the raw ``instances``/``inputs`` value."""

    signature_name: str
    row_format: bool
    data: Any


def decode_json(body: bytes, example: str = EXAMPLE_BODY) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 saying why it is not one and showing ``example``.

    Besides text that is not JSON (or not UTF-8) and values that are not objects, three things JSON
    allows are refused here, before any field is read: a whole number longer than Python converts
    (4,300 digits), nesting about a thousand deep, and a string holding a lone surrogate (``"\\ud800"``:
    valid JSON, but no text, so no tokenizer or encoder can read it).
    """
    if not body.strip():
        raise RequestError(400, f"the request body is empty; send a JSON object such as {example}")
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RequestError(
            400, f"the request body is not valid JSON ({error}); send a JSON object such as {example}"
        ) from None
    except ValueError as error:  # Python's limit on the digits of an integer it converts from text
        message = f"the request body holds a number too long to read ({error}); send shorter numbers"
        raise RequestError(400, message) from None
    except RecursionError:  # the parser gives up on arrays or objects nested about a thousand deep
        raise RequestError(
            400, f"the request body is nested too deeply to read; send a JSON object such as {example}"
        ) from None
    if not isinstance(payload, dict):
        raise RequestError(
            400, f"the request body must be a JSON object such as {example}, not a {type(payload).__name__}"
        )
    _refuse_lone_surrogates(payload)
    return payload


def _refuse_lone_surrogates(payload: dict[str, Any]) -> None:
    """A 400 if any string of ``payload`` (a key or a value, at any depth) is not valid Unicode text."""
    pending: list[Any] = [payload]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending += [*value.keys(), *value.values()]
        elif isinstance(value, list):
            pending += value
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as error:
                raise RequestError(
                    400,
                    f"the request body holds a string with a lone surrogate ({value[error.start]!a} at character "
                    f"{error.start}), which is not text; send valid Unicode (UTF-8) text",
                ) from None


def parse_predict(payload: Mapping[str, Any]) -> PredictRequest:
    """Check the top-level fields: exactly one of ``instances``/``inputs``, a string signature name."""
    unknown = sorted(set(payload) - set(REQUEST_FIELDS))
    if unknown:
        raise RequestError(400, f"unknown field(s) {unknown}; a predict request has only {list(REQUEST_FIELDS)}")
    has_instances, has_inputs = "instances" in payload, "inputs" in payload
    if has_instances and has_inputs:
        raise RequestError(
            400, "send either 'instances' (row format) or 'inputs' (columnar format), not both in one request"
        )
    if not has_instances and not has_inputs:
        raise RequestError(400, f"the request has neither 'instances' nor 'inputs'; expected {EXAMPLE_BODY}")
    signature_name = payload.get("signature_name", DEFAULT_SIGNATURE)
    if not isinstance(signature_name, str) or not signature_name:
        raise RequestError(400, f"'signature_name' must be a non-empty string, got {signature_name!r}")
    return PredictRequest(
        signature_name=signature_name,
        row_format=has_instances,
        data=payload["instances"] if has_instances else payload["inputs"],
    )


def _kind_name(kind: str) -> str:
    return {"b": "booleans", "U": "strings", "S": "strings", "i": "integers", "u": "integers", "f": "numbers"}.get(
        kind, "a mixture of values"
    )


def to_array(value: Any, spec: TensorSpec, where: str) -> np.ndarray:
    """``value`` (nested lists) as an array of ``spec``'s dtype and shape, or a 400 saying what is wrong.

    ``where`` names the value in messages (``"input 'pixels'"``). Checks: a rectangular nested
    list (not ragged), values of the right kind (numbers for a float input, whole numbers for an
    integer input), the shape (batch first), and finite values (no NaN or infinity).
    """
    expected = f"expected {spec.describe()}"
    try:
        raw = np.asarray(value)
    except RecursionError:
        raise RequestError(400, f"{where} is nested too deeply; {expected}") from None
    except ValueError as error:
        if "maximum number of dimension" in str(error):
            raise RequestError(400, f"{where} is nested too deeply (more than 64 levels); {expected}") from None
        raise RequestError(
            400, f"{where} is a ragged nested list (its rows have different lengths); {expected}"
        ) from None
    target = np.dtype(spec.dtype)
    allowed = {"f": "iuf", "i": "iu", "u": "iu", "b": "b", "U": "US", "S": "US"}.get(target.kind, target.kind)
    if raw.dtype.kind not in allowed or raw.dtype == object:
        found = "ragged or mixed nested lists" if raw.dtype == object else _kind_name(raw.dtype.kind)
        raise RequestError(400, f"{where} has {found}, but the model expects {_kind_name(target.kind)}; {expected}")
    if raw.ndim != len(spec.shape) or any(
        want is not None and have != want for have, want in zip(raw.shape, spec.shape, strict=False)
    ):
        hint = ""
        if raw.ndim == len(spec.shape) - 1:
            hint = " (did you forget the batch dimension? wrap one example in a list)"
        raise RequestError(400, f"{where} has shape {list(raw.shape)}, {expected}{hint}")
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # out-of-range floats become inf, refused below
            array = raw.astype(target, copy=False)
    except (ValueError, OverflowError) as error:
        raise RequestError(400, f"{where} cannot be converted to {spec.dtype}: {error}; {expected}") from None
    if target.kind == "f":
        finite = np.isfinite(array)
        if not finite.all():
            position = [int(index) for index in np.argwhere(~finite)[0]]
            raise RequestError(
                400,
                f"{where} contains NaN or infinity (or a number too large for {spec.dtype}) at index {position}; "
                "send finite numbers",
            )
    elif target.kind in "iu" and raw.dtype.kind in "iu":
        info = np.iinfo(target)
        if raw.size and (raw.min() < info.min or raw.max() > info.max):
            raise RequestError(400, f"{where} has integers outside the range of {spec.dtype}; {expected}")
    return array


def _named(values: Any, specs: Mapping[str, TensorSpec], where: str) -> dict[str, Any]:
    """``values`` as ``{input_name: value}``, checking the names (one input may be sent unnamed)."""
    if isinstance(values, dict):
        missing, unknown = sorted(set(specs) - set(values)), sorted(set(values) - set(specs))
        if missing or unknown:
            raise RequestError(
                400, f"{where} names inputs {sorted(values)}, but the signature's inputs are {sorted(specs)}"
            )
        return dict(values)
    if len(specs) > 1:
        raise RequestError(400, f"the signature has several inputs {sorted(specs)}: {where} must be an object by name")
    return {next(iter(specs)): values}


def _check_batch(batch_size: int, limits: Limits) -> None:
    if batch_size == 0:
        raise RequestError(400, "the batch is empty; send at least one example")
    if batch_size > limits.max_batch_size:
        raise RequestError(
            413, f"the batch has {batch_size} examples, more than this server's limit of {limits.max_batch_size}"
        )


def request_arrays(request: PredictRequest, specs: Mapping[str, TensorSpec], limits: Limits) -> dict[str, np.ndarray]:
    """The request's tensors, one checked array per signature input, batch first."""
    data = request.data
    if request.row_format:
        if not isinstance(data, list):
            raise RequestError(400, f"'instances' must be a list with one entry per example, got {type(data).__name__}")
        _check_batch(len(data), limits)
        if isinstance(data[0], dict):
            if not all(isinstance(instance, dict) for instance in data):
                raise RequestError(400, "'instances' mixes objects and plain values; use one form for every example")
            named = [_named(instance, specs, f"instance {index}") for index, instance in enumerate(data)]
            columns = {name: [instance[name] for instance in named] for name in specs}
        else:
            columns = _named(data, specs, "each entry of 'instances'")
        where = "'instances'" if len(specs) == 1 else "'instances' input {!r}"
    else:
        columns = _named(data, specs, "'inputs'")
        for value in columns.values():
            if isinstance(value, list):  # before converting: refuse an oversized batch cheaply
                _check_batch(len(value), limits)
        where = "'inputs'" if len(specs) == 1 else "'inputs' input {!r}"
    arrays = {name: to_array(columns[name], spec, where.format(name)) for name, spec in specs.items()}
    batch_sizes = {name: array.shape[0] for name, array in arrays.items()}
    if len(set(batch_sizes.values())) > 1:
        raise RequestError(400, f"the inputs have different batch sizes {batch_sizes}; they must be equal")
    if not request.row_format:
        _check_batch(next(iter(batch_sizes.values())), limits)
    return arrays


def response_body(outputs: Mapping[str, np.ndarray], row_format: bool) -> dict[str, Any]:
    """TF Serving's answer: ``{"predictions": [...]}`` (row) or ``{"outputs": ...}`` (columnar).

    With a single output the tensor is sent as is; with several, by name (per example for rows).
    """
    if row_format:
        if len(outputs) == 1:
            return {"predictions": next(iter(outputs.values())).tolist()}
        lists = {name: value.tolist() for name, value in outputs.items()}
        batch_size = len(next(iter(lists.values())))
        return {"predictions": [{name: lists[name][index] for name in lists} for index in range(batch_size)]}
    if len(outputs) == 1:
        return {"outputs": next(iter(outputs.values())).tolist()}
    return {"outputs": {name: value.tolist() for name, value in outputs.items()}}
