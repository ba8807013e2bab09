"""Command line of the model server: ``python -m helpers.serving --model NAME=PATH ...``.

Example (the notebook exports ``models/mnist/1``)::

    python -m helpers.serving --model mnist=artifacts/deployment/models/mnist --port 8501
    curl -d '{"instances": [[[0, 0, ...]]]}' http://127.0.0.1:8501/v1/models/mnist:predict

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


def positive(text: str) -> int:
    """A positive whole number, for the limits."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """The command line's options (also used by the tests to check the Kubernetes manifest's command)."""
    defaults = Limits()
    parser = argparse.ArgumentParser(prog="python -m helpers.serving", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        action="append",
        type=model_argument,
        required=True,
        metavar="NAME=PATH",
        help="a model to serve: NAME and its base folder holding numbered versions (PATH/1/saved_model.pb); repeatable",
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST}: this machine only)"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument(
        "--max-body-bytes", type=positive, default=defaults.max_body_bytes, help="largest request body accepted"
    )
    parser.add_argument(
        "--max-batch-size", type=positive, default=defaults.max_batch_size, help="most examples in one request"
    )
    parser.add_argument(
        "--inference-in-event-loop",
        action="store_true",
        help="call the model in the event loop instead of a worker thread (compare with benchmarks/serving.py)",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when the process that started this one ends (used by helpers.server_process)",
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


def main(argv: list[str] | None = None) -> int:
    """Load the models, then serve until interrupted (Ctrl-C or SIGTERM)."""
    import uvicorn

    arguments = build_parser().parse_args(argv)
    configure_logging(getattr(logging, arguments.log_level.upper()))
    logger = logging.getLogger(SERVER_LOGGER)
    names = [name for name, _ in arguments.model]
    if len(set(names)) != len(names):
        logger.error("each --model NAME must be different, got %s", names)
        return 2
    try:
        registry = ModelRegistry(dict(arguments.model)).load()
    except ModelLoadError as error:
        logger.error("cannot serve: %s", error)
        return 1
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
    try:
        loopback = ipaddress.ip_address(arguments.host).is_loopback
    except ValueError:
        loopback = arguments.host == "localhost"
    if not loopback:
        logger.warning("binding %s: reachable from other machines, meant for containers", arguments.host)
    limits = Limits(max_body_bytes=arguments.max_body_bytes, max_batch_size=arguments.max_batch_size)
    app = create_app(registry, limits, inference_in_thread=not arguments.inference_in_event_loop)
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
    logger.info("serving", extra={"fields": {"url": f"http://{arguments.host}:{arguments.port}", "models": names}})
    server.run()
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
