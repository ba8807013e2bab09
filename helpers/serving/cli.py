"""Command line of the model server: ``python -m helpers.serving --model NAME=PATH ...`` or ``--llm NAME=FILE``.

Examples (notebook 06 exports ``models/mnist/1``; notebook 10 runs SmolLM2 from its GGUF file)::

    python -m helpers.serving --model mnist=artifacts/deployment/models/mnist --port 8501
    curl -d '{"instances": [[[0, 0, ...]]]}' http://127.0.0.1:8501/v1/models/mnist:predict

    python -m helpers.serving --llm SmolLM2-135M-Instruct=PATH/SmolLM2-135M-Instruct.Q4_1.gguf --port 8000
    curl -d '{"model": "SmolLM2-135M-Instruct", "prompt": "Once upon a time"}' http://127.0.0.1:8000/v1/completions

``--model`` serves exported Keras models with TensorFlow Serving's REST API (:mod:`helpers.serving.app`);
``--llm`` serves one language model with OpenAI's API (:mod:`helpers.serving.openai_app`), and each
``--lora NAME=FILE`` the same model with a LoRA adapter merged in, under its own name.

It binds 127.0.0.1 (this machine only) unless ``--host`` says otherwise: in a container, where
the outside world reaches the server through the container's network, use ``--host 0.0.0.0``.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from helpers.serving.app import DEFAULT_HOST, DEFAULT_PORT, create_app
from helpers.serving.openai_app import LlmLimits
from helpers.serving.protocol import Limits
from helpers.serving.registry import ModelLoadError, ModelRegistry

SERVER_LOGGER = "helpers.serving"


class JsonLines(logging.Formatter):
    """One JSON object per log line: time, level, logger, message and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line)


def configure_logging(level: int = logging.INFO, stream: object = None) -> None:
    """Send the server's logs (access log included) to ``stream`` (stderr) as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(JsonLines())
    logger = logging.getLogger(SERVER_LOGGER)
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def model_argument(text: str) -> tuple[str, Path]:
    """``NAME=PATH`` as ``(name, path)``; argparse shows the error if it is malformed."""
    name, separator, path = text.partition("=")
    if not separator or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH (e.g. mnist=models/mnist), got {text!r}")
    return name, Path(path)


def positive_seconds(text: str) -> float:
    """A positive number of seconds, for the LLM's time limit."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return seconds


def positive(text: str) -> int:
    """A positive whole number, for the limits."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """The command line's options (also used by the tests to check the Kubernetes manifest's command)."""
    defaults, llm_defaults = Limits(), LlmLimits()
    parser = argparse.ArgumentParser(prog="python -m helpers.serving", description=__doc__.splitlines()[0])
    served = parser.add_mutually_exclusive_group(required=True)
    served.add_argument(
        "--model",
        action="append",
        type=model_argument,
        metavar="NAME=PATH",
        help="a model to serve: NAME and its base folder holding numbered versions (PATH/1/saved_model.pb); repeatable",
    )
    served.add_argument(
        "--llm",
        type=model_argument,
        metavar="NAME=FILE",
        help="a language model to serve with OpenAI's API: its NAME in requests and its GGUF FILE",
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST}: this machine only)"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument(
        "--max-body-bytes",
        type=positive,
        help=f"largest request body accepted (default {defaults.max_body_bytes}; --llm: {llm_defaults.max_body_bytes})",
    )
    parser.add_argument(
        "--max-batch-size", type=positive, default=defaults.max_batch_size, help="most examples in one request"
    )
    llm = parser.add_argument_group("with --llm")
    llm.add_argument(
        "--max-tokens", type=positive, default=llm_defaults.max_tokens, help="most new tokens in one answer"
    )
    llm.add_argument(
        "--max-waiting", type=positive, default=llm_defaults.max_waiting, help="most requests waiting for the model"
    )
    llm.add_argument(
        "--time-limit-s",
        type=positive_seconds,
        default=llm_defaults.time_limit_s,
        help="seconds a request may take, waiting included (then it stops, or gets a 503 if still waiting)",
    )
    llm.add_argument(
        "--lora",
        action="append",
        type=model_argument,
        default=[],
        metavar="NAME=FILE",
        help="also serve the --llm model with this LoRA adapter merged in (helpers.serving.adapters), as NAME",
    )
    llm.add_argument(
        "--slots",
        type=positive,
        default=8,
        help="most answers generated at once, decoded together (continuous batching; default 8)",
    )
    llm.add_argument("--no-xla", action="store_true", help="decode without XLA (slower; for comparison)")
    parser.add_argument(
        "--inference-in-event-loop",
        action="store_true",
        help="call the model in the event loop instead of a worker thread (compare with benchmarks/serving.py)",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when the process that started this one ends (used by helpers.processes.server)",
    )
    return parser


def watch_parent(server: object, interval_s: float = 0.5) -> threading.Thread:
    """Ask ``server`` (a ``uvicorn.Server``) to exit once this process's parent has gone."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval_s)
        logging.getLogger(SERVER_LOGGER).warning("parent process %d ended; shutting down", parent)
        server.should_exit = True  # type: ignore[attr-defined]

    thread = threading.Thread(target=watch, name="watch-parent", daemon=True)
    thread.start()
    return thread


def tensorflow_serving_app(arguments: argparse.Namespace, logger: logging.Logger) -> object | None:
    """The app serving ``--model`` exports, or ``None`` (after logging why) if they cannot be loaded."""
    names = [name for name, _ in arguments.model]
    if len(set(names)) != len(names):
        logger.error("each --model NAME must be different, got %s", names)
        return None
    try:
        registry = ModelRegistry(dict(arguments.model)).load()
    except ModelLoadError as error:
        logger.error("cannot serve: %s", error)
        return None
    for name in registry.names():
        for version in registry.versions(name).values():
            logger.info(
                "loaded",
                extra={
                    "fields": {
                        "model": name,
                        "version": version.version,
                        "path": str(version.path),
                        "signatures": sorted(version.signatures),
                        "seconds": round(version.load_seconds, 2),
                    }
                },
            )
    limits = Limits(
        max_body_bytes=arguments.max_body_bytes or Limits().max_body_bytes, max_batch_size=arguments.max_batch_size
    )
    return create_app(registry, limits, inference_in_thread=not arguments.inference_in_event_loop)


def llm_app(arguments: argparse.Namespace, logger: logging.Logger) -> object | None:
    """The app serving the ``--llm`` model with OpenAI's API, or ``None`` (after logging why) if it cannot load."""
    from helpers.serving.adapters import AdapterError, read_lora
    from helpers.serving.llm_engine import GgufChatModel
    from helpers.serving.openai_app import create_openai_app

    name, path = arguments.llm
    for served, adapter in arguments.lora:  # a bad adapter file is reported before minutes of loading
        try:
            read_lora(adapter)
        except AdapterError as error:
            logger.error("cannot serve %s: %s", served, error)
            return None
    models = []
    for served, adapter in [(name, None), *arguments.lora]:
        try:
            model = GgufChatModel(path, served, adapter=adapter, xla=not arguments.no_xla, slots=arguments.slots)
        except (FileNotFoundError, ValueError, KeyError) as error:
            logger.error("cannot serve %s: %s", served, error)
            return None
        fields = {"model": served, "path": str(path), "adapter": adapter and str(adapter)}
        logger.info("loaded", extra={"fields": {**fields, "seconds": round(model.load_seconds, 2)}})
        models.append(model)
    limits = LlmLimits(
        max_body_bytes=arguments.max_body_bytes or LlmLimits().max_body_bytes,
        max_tokens=arguments.max_tokens,
        max_waiting=arguments.max_waiting,
        time_limit_s=arguments.time_limit_s,
    )
    return create_openai_app(models, limits)


def main(argv: list[str] | None = None) -> int:
    """Load the models, then serve until interrupted (Ctrl-C or SIGTERM)."""
    import uvicorn

    arguments = build_parser().parse_args(argv)
    configure_logging(getattr(logging, arguments.log_level.upper()))
    logger = logging.getLogger(SERVER_LOGGER)
    app = llm_app(arguments, logger) if arguments.llm else tensorflow_serving_app(arguments, logger)
    if app is None:
        return 1
    try:
        loopback = ipaddress.ip_address(arguments.host).is_loopback
    except ValueError:
        loopback = arguments.host == "localhost"
    if not loopback:
        logger.warning("binding %s: reachable from other machines, meant for containers", arguments.host)
    config = uvicorn.Config(
        app,
        host=arguments.host,
        port=arguments.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    if arguments.exit_with_parent:
        watch_parent(server)
    names = (
        [arguments.llm[0], *(name for name, _ in arguments.lora)] if arguments.llm else [n for n, _ in arguments.model]
    )
    logger.info("serving", extra={"fields": {"url": f"http://{arguments.host}:{arguments.port}", "models": names}})
    server.run()
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
