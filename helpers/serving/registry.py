"""Exported models on disk, TensorFlow Serving's way: ``BASE/NAME/VERSION/saved_model.pb``.

Each served model has a *base folder* whose numbered sub-folders are versions of it (what
``model.export("models/mnist/1")`` writes). The registry loads every version with
``tf.saved_model.load``, reads each serving signature's inputs and outputs, calls it once to warm
it up, and answers predictions through the signature (a traced graph function): never
``model.predict`` per request. Without a version, a request goes to the latest one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from helpers.serving.protocol import RequestError, TensorSpec

SAVED_MODEL_FILE = "saved_model.pb"


class ModelLoadError(RuntimeError):
    """A model base folder cannot be served; the message says what to fix."""


@dataclass(frozen=True)
class Signature:
    """One serving signature: its input and output specs and the function that computes it.

    ``function`` takes the inputs positionally, in the order of ``inputs``, and returns the
    outputs as a list in the order of ``outputs`` (see :func:`compile_signature`).
    """

    name: str
    inputs: dict[str, TensorSpec]
    outputs: dict[str, TensorSpec]
    function: Callable[..., Sequence[Any]] = field(repr=False, compare=False)

    def __call__(self, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the signature on checked arrays; NumPy arrays by output name."""
        import tensorflow as tf

        results = self.function(*(tf.constant(arrays[name]) for name in self.inputs))
        return {name: result.numpy() for name, result in zip(self.outputs, results, strict=True)}


@dataclass(frozen=True)
class ModelVersion:
    """One loaded version of a served model."""

    name: str
    version: int
    path: Path
    signatures: dict[str, Signature]
    load_seconds: float
    # The loaded SavedModel object: the signatures need it (and its variables) alive.
    loaded: Any = field(default=None, repr=False, compare=False)

    def signature(self, signature_name: str) -> Signature:
        """The signature called ``signature_name``, or a 404 listing the ones that exist."""
        try:
            return self.signatures[signature_name]
        except KeyError:
            raise RequestError(
                404,
                f"model '{self.name}' version {self.version} has no signature '{signature_name}'; "
                f"its signatures are {sorted(self.signatures)}",
            ) from None


def discover_versions(base: Path) -> dict[int, Path]:
    """``{version: folder}`` of the numbered SavedModel folders in ``base`` (TF Serving's layout)."""
    base = Path(base)
    if not base.is_dir():
        raise ModelLoadError(f"model folder {base} does not exist; export with model.export('{base}/1')")
    if (base / SAVED_MODEL_FILE).is_file():
        raise ModelLoadError(
            f"{base} is a SavedModel itself; pass the folder that holds its numbered versions "
            f"({base.parent}, laid out as NAME/VERSION/{SAVED_MODEL_FILE})"
        )
    versions = {
        int(child.name): child
        for child in base.iterdir()
        if child.is_dir() and child.name.isdigit() and (child / SAVED_MODEL_FILE).is_file()
    }
    if not versions:
        raise ModelLoadError(
            f"{base} holds no versions: expected numbered sub-folders such as {base / '1'} each with a "
            f"{SAVED_MODEL_FILE} (write one with model.export('{base / '1'}'))"
        )
    return dict(sorted(versions.items()))


def _spec(name: str, tensor_spec: Any) -> TensorSpec:
    shape = tuple(tensor_spec.shape.as_list()) if tensor_spec.shape.rank is not None else ()
    return TensorSpec(name=name, dtype=tensor_spec.dtype.as_numpy_dtype.__name__, shape=shape)


def compile_signature(function: Any, input_names: Sequence[str], output_names: Sequence[str]) -> Any:
    """A concrete graph function calling ``function`` with positional inputs, returning a list.

    A SavedModel's signature takes its inputs by keyword and returns a dict; each call then spends
    time matching names to tensors. Tracing it once inside a ``tf.function`` with an input
    signature gives one concrete function with a flat calling convention, noticeably cheaper per
    request (the same lesson as in the notebook's latency table).
    """
    import tensorflow as tf

    _, specs = function.structured_input_signature

    @tf.function(input_signature=[specs[name] for name in input_names])
    def call(*tensors: Any) -> list[Any]:
        outputs = function(**dict(zip(input_names, tensors, strict=True)))
        return [outputs[name] for name in output_names]

    return call.get_concrete_function()


def read_signature(name: str, function: Any) -> Signature:
    """A :class:`Signature` from a loaded SavedModel's signature function (inputs by keyword)."""
    args, kwargs = function.structured_input_signature
    if args:
        raise ModelLoadError(f"signature '{name}' takes positional inputs; serving signatures take them by name")
    inputs = {key: _spec(key, spec) for key, spec in sorted(kwargs.items())}
    outputs = {key: _spec(key, spec) for key, spec in sorted(function.structured_outputs.items())}
    for spec in inputs.values():
        if not spec.shape:
            raise ModelLoadError(f"signature '{name}' input '{spec.name}' has no batch dimension; cannot serve it")
    compiled = compile_signature(function, list(inputs), list(outputs))
    return Signature(name=name, inputs=inputs, outputs=outputs, function=compiled)


def warm_up(signature: Signature) -> None:
    """Call ``signature`` once on a batch of one zero example, so the first request is not slow."""
    arrays = {
        name: np.zeros([1 if size is None else size for size in (1, *spec.shape[1:])], dtype=spec.dtype)
        for name, spec in signature.inputs.items()
    }
    signature(arrays)


def load_version(name: str, version: int, path: Path) -> ModelVersion:
    """Load one SavedModel folder, read and warm up its signatures."""
    import tensorflow as tf

    start = time.perf_counter()
    try:
        loaded = tf.saved_model.load(str(path))
    except Exception as error:  # TensorFlow raises several types for a damaged SavedModel
        raise ModelLoadError(f"cannot load {path} as a SavedModel: {error}") from error
    signatures = {key: read_signature(key, function) for key, function in loaded.signatures.items()}
    if not signatures:
        raise ModelLoadError(f"{path} has no serving signatures; export it with model.export()")
    for signature in signatures.values():
        warm_up(signature)
    return ModelVersion(name, version, Path(path), signatures, time.perf_counter() - start, loaded)


class ModelRegistry:
    """Every version of every served model, loaded once; looked up per request.

    ``ModelRegistry({"mnist": Path("models/mnist")})`` loads ``models/mnist/1``, ``.../2``, ...
    A registry with no models is allowed (the server then reports that it is not ready).
    """

    def __init__(self, bases: Mapping[str, Path | str] | None = None) -> None:
        self.bases = {name: Path(base) for name, base in (bases or {}).items()}
        self._versions: dict[str, dict[int, ModelVersion]] = {}
        self._lock = threading.Lock()
        for name in self.bases:
            if not name or "/" in name or ":" in name:
                raise ModelLoadError(f"model name {name!r} must be non-empty, without '/' or ':'")

    def load(self) -> ModelRegistry:
        """Discover and load every version of every model; returns ``self``."""
        for name, base in self.bases.items():
            versions = {version: load_version(name, version, path) for version, path in discover_versions(base).items()}
            with self._lock:
                self._versions[name] = versions
        return self

    @property
    def ready(self) -> bool:
        """True once every configured model has at least one loaded version."""
        return bool(self.bases) and all(self._versions.get(name) for name in self.bases)

    def names(self) -> list[str]:
        """The served model names, sorted."""
        return sorted(self._versions)

    def versions(self, name: str) -> dict[int, ModelVersion]:
        """The loaded versions of ``name``, or a 404 listing the served models."""
        try:
            return self._versions[name]
        except KeyError:
            raise RequestError(
                404, f"no model named '{name}' is served here; served models: {self.names() or 'none'}"
            ) from None

    def get(self, name: str, version: int | str | None = None) -> ModelVersion:
        """Version ``version`` of model ``name`` (the latest if None), or a 4xx saying what exists."""
        versions = self.versions(name)
        if version is None:
            return versions[max(versions)]
        if isinstance(version, str):
            if not version.isdigit():
                raise RequestError(400, f"version must be a positive whole number, got '{version}'")
            version = int(version)
        try:
            return versions[version]
        except KeyError:
            raise RequestError(
                404, f"model '{name}' has no version {version}; available versions: {sorted(versions)}"
            ) from None
