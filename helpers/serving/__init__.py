"""The course's model server: TensorFlow Serving's REST API for exported Keras models.

* :mod:`helpers.serving.protocol`: the JSON request and answer formats, and every check on them;
* :mod:`helpers.serving.registry`: exported models on disk (``NAME/VERSION/``), loaded and called
  through their serving signatures;
* :mod:`helpers.serving.app`: the FastAPI application (routes, errors, metrics, request logs);
* :mod:`helpers.serving.cli`: ``python -m helpers.serving --model NAME=PATH [--port N]``.

:mod:`helpers.processes.server` starts it in a background process and stops it.
"""

from helpers.serving.app import DEFAULT_HOST, DEFAULT_PORT, HEALTH_PATH, METRICS_PATH, READY_PATH, create_app
from helpers.serving.protocol import Limits, RequestError
from helpers.serving.registry import ModelLoadError, ModelRegistry

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "HEALTH_PATH",
    "METRICS_PATH",
    "READY_PATH",
    "Limits",
    "ModelLoadError",
    "ModelRegistry",
    "RequestError",
    "create_app",
]
