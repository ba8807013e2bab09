"""Run a web server in a background process: start it on a free port, wait until ready, stop it.

Used by notebooks 06 and 10, the tests and ``benchmarks/serving.py``::

    with start_model_server({"mnist": "artifacts/deployment/models/mnist"}) as server:
        httpx.post(f"{server.url}/v1/models/mnist:predict", json={"instances": ...})

Only loopback addresses are allowed. The server's output goes to a log file (``server.log_text()``).
A started server is always stopped: by ``stop()``, by leaving the ``with`` block, when Python exits,
and, for the model server, by the server itself when the process that started it ends (a crashed
notebook kernel leaves nothing running).
"""

from __future__ import annotations

import atexit
import ipaddress
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

LOOPBACK = "127.0.0.1"
DEFAULT_START_TIMEOUT_S = 120.0


class ServerStartError(RuntimeError):
    """The server exited or did not become ready in time; the message ends with its last log lines."""


def check_loopback(host: str) -> None:
    """Refuse any address but the loopback one: these servers are for this machine only."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"only loopback addresses are allowed here (e.g. {LOOPBACK}), got {host!r}")


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that is free on ``host`` right now (the OS picks it)."""
    check_loopback(host)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class ServerProcess:
    """A server command running in a child process, with its address and log file.

    ``command`` must make the server listen on ``host:port``; :meth:`start` launches it and
    :meth:`wait_until_ready` polls ``ready_path`` until it answers 200.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        port: int,
        host: str = LOOPBACK,
        ready_path: str = "/readyz",
        log_path: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | str | None = None,
    ) -> None:
        check_loopback(host)
        self.command = [str(part) for part in command]
        self.host, self.port, self.ready_path = host, port, ready_path
        if log_path is None:
            descriptor, log_path = tempfile.mkstemp(prefix="server-", suffix=".log")
            os.close(descriptor)
        self.log_path = Path(log_path)
        self.env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"), **(env or {})}
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self.process is not None and self.process.poll() is None

    def start(self) -> ServerProcess:
        """Launch the command (output to the log file); returns ``self``."""
        if self.process is not None:
            raise RuntimeError("this server was already started; create a new ServerProcess")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            self.command, stdout=self._log, stderr=subprocess.STDOUT, env=self.env, cwd=self.cwd
        )
        atexit.register(self.stop)
        return self

    def log_text(self) -> str:
        """Everything the server has written so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.is_file() else ""

    def _failure(self, reason: str, tail_lines: int = 30) -> ServerStartError:
        tail = "\n".join(self.log_text().splitlines()[-tail_lines:])
        return ServerStartError(f"{reason}\ncommand: {' '.join(self.command)}\nlast log lines:\n{tail}")

    def wait_until_ready(self, timeout_s: float = DEFAULT_START_TIMEOUT_S, poll_s: float = 0.1) -> ServerProcess:
        """Poll ``ready_path`` until it answers 200; stop the server and raise if it exits or times out."""
        if self.process is None:
            raise RuntimeError("start() the server before waiting for it")
        deadline = time.monotonic() + timeout_s
        while True:
            code = self.process.poll()
            if code is not None:
                self.stop()
                raise self._failure(f"the server exited with code {code} before it was ready")
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass  # not listening yet, or 503 while loading
            if time.monotonic() > deadline:
                self.stop()
                raise self._failure(f"the server was not ready within {timeout_s:.0f} s")
            time.sleep(poll_s)

    def stop(self, timeout_s: float = 10.0) -> int | None:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout_s``); its exit code. Safe to call twice."""
        atexit.unregister(self.stop)
        code = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout_s)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            code = self.process.returncode
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped" if self.process else "not started"
        return f"<ServerProcess {self.url} {state}>"


def start_server(
    command: Sequence[str],
    *,
    port: int,
    host: str = LOOPBACK,
    ready_path: str = "/readyz",
    timeout_s: float = DEFAULT_START_TIMEOUT_S,
    log_path: Path | str | None = None,
    env: Mapping[str, str] | None = None,
) -> ServerProcess:
    """Start ``command`` (which listens on ``host:port``) and return it once ``ready_path`` answers 200."""
    server = ServerProcess(command, port=port, host=host, ready_path=ready_path, log_path=log_path, env=env)
    server.start()
    try:
        return server.wait_until_ready(timeout_s)
    except BaseException:
        server.stop()
        raise


def _serving_command(served: Sequence[str], *, port: int, host: str, extra_args: Sequence[str]) -> list[str]:
    """``python -m helpers.serving`` with the ``served`` arguments, bound to ``host:port``."""
    command = [sys.executable, "-m", "helpers.serving", *served, "--host", host, "--port", str(port)]
    return [*command, "--exit-with-parent", *extra_args]


def _model_arguments(models: Mapping[str, Path | str]) -> list[str]:
    if not models:
        raise ValueError("give at least one model to serve, e.g. {'mnist': 'artifacts/deployment/models/mnist'}")
    return [part for name, base in models.items() for part in ("--model", f"{name}={Path(base).resolve()}")]


def model_server_command(
    models: Mapping[str, Path | str], *, port: int, host: str = LOOPBACK, extra_args: Sequence[str] = ()
) -> list[str]:
    """The command line that serves ``models`` (``{name: base folder}``) with :mod:`helpers.serving`."""
    return _serving_command(_model_arguments(models), port=port, host=host, extra_args=extra_args)


def _start_serving(
    served: Sequence[str],
    port: int | None,
    host: str,
    extra_args: Sequence[str],
    timeout_s: float,
    log_path: Path | str | None,
) -> ServerProcess:
    port = port or free_port(host)
    command = _serving_command(served, port=port, host=host, extra_args=extra_args)
    return start_server(command, port=port, host=host, timeout_s=timeout_s, log_path=log_path)


def start_model_server(
    models: Mapping[str, Path | str],
    *,
    port: int | None = None,
    host: str = LOOPBACK,
    extra_args: Sequence[str] = (),
    timeout_s: float = DEFAULT_START_TIMEOUT_S,
    log_path: Path | str | None = None,
) -> ServerProcess:
    """Start the course's model server on ``host`` (a free port unless given); return it once ready."""
    return _start_serving(_model_arguments(models), port, host, extra_args, timeout_s, log_path)


def start_llm_server(
    name: str,
    model_file: Path | str,
    *,
    port: int | None = None,
    host: str = LOOPBACK,
    extra_args: Sequence[str] = (),
    timeout_s: float = DEFAULT_START_TIMEOUT_S,
    log_path: Path | str | None = None,
) -> ServerProcess:
    """Start the course's LLM server (OpenAI's API, :mod:`helpers.serving.openai_app`) for the GGUF
    ``model_file`` under ``name``, on ``host`` (a free port unless given); return it once ready
    (loading and compiling take some seconds)."""
    served = ["--llm", f"{name}={Path(model_file).resolve()}"]
    return _start_serving(served, port, host, extra_args, timeout_s, log_path)
