"""Start, watch and always stop a cluster of training processes on this machine (notebook 13, tests).

::

    with start_worker_cluster(2, ["--epochs", "3"], log_dir=folder) as cluster:
        cluster.wait(timeout_s=300)           # raises WorkerFailed (with the log tails) if one fails
        print(cluster.events(0))              # worker 0's JSON lines

Each worker is ``python -m helpers.processes.distributed_worker`` with its own ``TF_CONFIG`` (every worker's
``127.0.0.1:PORT``, free ports chosen by the OS, and its index), its own log file, and
``--exit-with-parent``. Workers are stopped by :meth:`WorkerCluster.stop`, by leaving the ``with``
block (also when it raises), when Python exits, and by themselves when the process that started
them ends. :meth:`WorkerCluster.kill` kills one worker at once (SIGKILL), as a crash would, and
:func:`check_survivor_failed` checks that a survivor then failed by itself rather than hanging.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from helpers.lessons.scaling import tf_config
from helpers.processes.server import LOOPBACK, check_loopback, free_port

WORKER_MODULE = "helpers.processes.distributed_worker"
DEFAULT_TIMEOUT_S = 300.0


class WorkerFailed(RuntimeError):
    """A worker exited with an error or the cluster ran out of time; the message ends with the log tails."""


class WorkerCluster:
    """``num_workers`` processes of ``module`` forming one ``MultiWorkerMirroredStrategy`` cluster."""

    def __init__(
        self,
        num_workers: int,
        worker_args: Sequence[str],
        *,
        log_dir: Path | str,
        host: str = LOOPBACK,
        module: str = WORKER_MODULE,
        env: Mapping[str, str] | None = None,
    ) -> None:
        if num_workers < 1:
            raise ValueError(f"a cluster needs at least one worker, got {num_workers}")
        check_loopback(host)
        self.num_workers = num_workers
        self.addresses = [f"{host}:{free_port(host)}" for _ in range(num_workers)]
        self.command = [sys.executable, "-m", module, *map(str, worker_args), "--exit-with-parent"]
        self.log_dir = Path(log_dir)
        self.env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"), **(env or {})}
        self.processes: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []

    def log_path(self, index: int) -> Path:
        """Where worker ``index`` writes its output."""
        return self.log_dir / f"worker-{index}.log"

    def start(self) -> WorkerCluster:
        """Launch every worker (returns at once: they connect to each other while starting)."""
        if self.processes:
            raise RuntimeError("this cluster was already started; create a new WorkerCluster")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        atexit.register(self.stop)
        for index in range(self.num_workers):
            log = open(self.log_path(index), "wb")  # noqa: SIM115 (closed in stop())
            self._logs.append(log)
            env = {**self.env, "TF_CONFIG": tf_config(self.addresses, index)}
            self.processes.append(subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT, env=env))
        return self

    def log_text(self, index: int) -> str:
        """Everything worker ``index`` has written so far."""
        path = self.log_path(index)
        return path.read_text(errors="replace") if path.is_file() else ""

    def events(self, index: int) -> list[dict[str, Any]]:
        """The JSON event lines (``{"event": ...}``) worker ``index`` has printed so far."""
        found = []
        for line in self.log_text(index).splitlines():
            if line.startswith('{"event"'):
                with contextlib.suppress(json.JSONDecodeError):  # a line still being written
                    found.append(json.loads(line))
        return found

    def completed_epochs(self, index: int = 0) -> list[int]:
        """The epochs worker ``index`` has reported done (and saved, when it checkpoints)."""
        return [event["epoch"] for event in self.events(index) if event["event"] == "epoch"]

    def exit_codes(self) -> list[int | None]:
        """Each worker's exit code, None while it runs."""
        return [process.poll() for process in self.processes]

    def tails(self, lines: int = 15) -> str:
        """The last ``lines`` lines of every worker's log, for error messages."""
        parts = []
        for index in range(self.num_workers):
            tail = "\n".join(self.log_text(index).splitlines()[-lines:])
            parts.append(f"--- worker {index} ({self.log_path(index)}), exit code {self.exit_codes()[index]}:\n{tail}")
        return "\n".join(parts)

    def wait(self, timeout_s: float = DEFAULT_TIMEOUT_S, poll_s: float = 0.2) -> list[int]:
        """Wait until every worker has exited; their exit codes. Raises :class:`WorkerFailed` (and stops the
        cluster) as soon as one fails, or when ``timeout_s`` passes."""
        self._require_started()
        deadline = time.monotonic() + timeout_s
        while True:
            codes = self.exit_codes()
            failed = [index for index, code in enumerate(codes) if code not in (None, 0)]
            if failed:
                self.stop()
                raise WorkerFailed(f"worker {failed[0]} exited with code {codes[failed[0]]}\n{self.tails()}")
            if all(code == 0 for code in codes):
                return [0] * self.num_workers
            if time.monotonic() > deadline:
                self.stop()
                raise WorkerFailed(f"the workers did not finish within {timeout_s:.0f} s\n{self.tails()}")
            time.sleep(poll_s)

    def wait_for_epoch(self, epoch: int, index: int = 0, timeout_s: float = DEFAULT_TIMEOUT_S) -> float:
        """Wait until worker ``index`` reports ``epoch`` done; seconds waited. Raises if a worker exits first."""
        self._require_started()
        started = time.monotonic()
        while epoch not in self.completed_epochs(index):
            if any(code is not None for code in self.exit_codes()):
                raise WorkerFailed(f"a worker exited before worker {index} finished epoch {epoch}\n{self.tails()}")
            if time.monotonic() - started > timeout_s:
                raise WorkerFailed(
                    f"worker {index} did not finish epoch {epoch} within {timeout_s:.0f} s\n{self.tails()}"
                )
            time.sleep(0.05)
        return time.monotonic() - started

    def wait_for_exit(self, index: int, timeout_s: float) -> int | None:
        """Wait up to ``timeout_s`` for worker ``index`` to exit by itself; its exit code, None if it still runs."""
        self._require_started()
        try:
            return self.processes[index].wait(timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def kill(self, index: int) -> None:
        """Kill worker ``index`` at once (SIGKILL: no clean-up, like a crashed machine)."""
        self._require_started()
        self.processes[index].kill()
        self.processes[index].wait()

    def stop(self, timeout_s: float = 10.0) -> list[int | None]:
        """Stop every worker still running (SIGTERM, then SIGKILL); their exit codes. Safe to call twice."""
        atexit.unregister(self.stop)
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self._logs:
            log.close()
        self._logs = []
        return [process.returncode for process in self.processes]

    def _require_started(self) -> None:
        if not self.processes:
            raise RuntimeError("start() the cluster first")

    def __enter__(self) -> WorkerCluster:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        running = sum(code is None for code in self.exit_codes())
        return f"<WorkerCluster {self.num_workers} workers at {', '.join(self.addresses)}, {running} running>"


def start_worker_cluster(
    num_workers: int,
    worker_args: Sequence[str] = (),
    *,
    log_dir: Path | str,
    host: str = LOOPBACK,
    module: str = WORKER_MODULE,
    env: Mapping[str, str] | None = None,
) -> WorkerCluster:
    """Start ``num_workers`` workers of ``module`` (``python -m``) with ``worker_args``, on free ports of ``host``."""
    cluster = WorkerCluster(num_workers, worker_args, log_dir=log_dir, host=host, module=module, env=env)
    try:
        return cluster.start()
    except BaseException:
        cluster.stop()
        raise


def check_survivor_failed(code: int | None, timeout_s: float, index: int = 0) -> int:
    """Check what a surviving worker did once its peer was killed: ``code`` is :meth:`WorkerCluster.wait_for_exit`'s
    answer after waiting ``timeout_s``. A synchronous worker cannot go on without its peer, so it must fail by
    itself: exit with an error code (returned). Raises :class:`WorkerFailed` if it was still running (None: it
    hung, waiting for a peer that will never answer) or exited with 0 (as if it had finished without its peer)."""
    if code is None:
        raise WorkerFailed(
            f"the surviving worker {index} did not exit within its time limit of {timeout_s:g} s after its peer "
            "was killed: it hung instead of failing its all-reduce"
        )
    if code == 0:
        raise WorkerFailed(
            f"the surviving worker {index} exited with code 0 after its peer was killed: a synchronous worker "
            "cannot finish training without its peer, it should have failed"
        )
    return code


def run_worker(worker_args: Sequence[str], *, log_path: Path | str, timeout_s: float = DEFAULT_TIMEOUT_S) -> str:
    """Run one ``python -m helpers.processes.distributed_worker`` without ``TF_CONFIG`` (e.g. ``--local-devices 2``)
    to the end; its log. Raises :class:`WorkerFailed` with the log's tail if it fails or runs out of time."""
    env = {key: value for key, value in os.environ.items() if key != "TF_CONFIG"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", WORKER_MODULE, *map(str, worker_args), "--exit-with-parent"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            code = process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    text = log_path.read_text(errors="replace")
    if code != 0:
        reason = f"exited with code {code}" if code is not None else f"did not finish within {timeout_s:.0f} s"
        tail = "\n".join(text.splitlines()[-20:])
        raise WorkerFailed(f"the worker {reason}\ncommand: {' '.join(command)}\nlast log lines:\n{tail}")
    return text


def events_in(log: str) -> list[dict[str, Any]]:
    """The JSON event lines of a worker's log."""
    return [json.loads(line) for line in log.splitlines() if line.startswith('{"event"')]
