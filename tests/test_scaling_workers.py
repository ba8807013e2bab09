"""helpers.processes: worker_cluster and distributed_worker, real worker processes on 127.0.0.1, always stopped.

Every test names its own temporary folder in the workers' command lines, and checks at the end that no
process with that folder in its command line is left (``/proc``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.processes import distributed_worker
from helpers.processes.worker_cluster import (
    WorkerCluster,
    WorkerFailed,
    check_survivor_failed,
    events_in,
    run_worker,
    start_worker_cluster,
)

SMALL = ["--samples", "1024", "--test-samples", "500", "--global-batch", "128", "--epochs", "2"]


def processes_mentioning(text: str) -> list[int]:
    """The ids of live processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in command and int(entry.name) != os.getpid():
                found.append(int(entry.name))
    return found


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    """A temporary folder; afterwards, no worker mentioning it may still run."""
    yield tmp_path
    assert processes_mentioning(str(tmp_path)) == [], "a worker process was left running"


def test_worker_arguments_are_checked() -> None:
    with pytest.raises(SystemExit):
        distributed_worker.parse_args(["--epochs", "0"])
    assert distributed_worker.parse_args(["--local-devices", "2"]).local_devices == 2


def test_a_cluster_needs_workers_and_loopback(folder: Path) -> None:
    with pytest.raises(ValueError, match="at least one worker"):
        WorkerCluster(0, [], log_dir=folder)
    with pytest.raises(ValueError, match="loopback"):
        WorkerCluster(2, [], log_dir=folder, host="0.0.0.0")
    cluster = WorkerCluster(2, [], log_dir=folder)
    with pytest.raises(RuntimeError, match="start"):
        cluster.wait()
    assert len(set(cluster.addresses)) == 2 and all(a.startswith("127.0.0.1:") for a in cluster.addresses)


def test_a_failing_worker_is_reported_with_its_log_and_the_others_are_stopped(folder: Path) -> None:
    cluster = start_worker_cluster(2, ["--samples", "999999999", "--result", folder / "r.json"], log_dir=folder)
    with pytest.raises(WorkerFailed) as failure, cluster:
        cluster.wait(timeout_s=300)
    message = str(failure.value)
    assert "exited with code 2" in message and "more than the 60000 MNIST training images" in message
    assert all(code is not None for code in cluster.exit_codes())


def test_run_worker_reports_a_bad_command_line(folder: Path) -> None:
    with pytest.raises(WorkerFailed, match="must be at least 1"):
        run_worker(["--epochs", "0", "--result", folder / "r.json"], log_path=folder / "bad.log")


def test_a_survivor_that_hangs_or_exits_with_0_fails_the_check_and_one_that_fails_passes() -> None:
    with pytest.raises(WorkerFailed, match="did not exit within its time limit of 120 s"):
        check_survivor_failed(None, 120)  # still running when its time was up
    with pytest.raises(WorkerFailed, match="exited with code 0"):
        check_survivor_failed(0, 120)
    assert check_survivor_failed(1, 120) == 1  # failed with an error, as a synchronous worker must
    assert check_survivor_failed(-6, 120) == -6  # ended by a signal (SIGABRT): failed too


def test_the_survivor_check_on_real_processes_a_hanging_one_and_a_failing_one(folder: Path) -> None:
    """wait_for_exit's answer for a process that hangs (None) and one that exits with an error, through the check."""
    cluster = WorkerCluster(2, [], log_dir=folder)
    scripts = [f"import time; time.sleep(60)  # {folder}", f"raise SystemExit(3)  # {folder}"]
    cluster.processes = [subprocess.Popen([sys.executable, "-c", script]) for script in scripts]
    with cluster:
        hanging, failing = cluster.wait_for_exit(0, timeout_s=0.5), cluster.wait_for_exit(1, timeout_s=60)
    assert hanging is None and failing == 3
    with pytest.raises(WorkerFailed, match=r"did not exit within its time limit of 0\.5 s"):
        check_survivor_failed(hanging, 0.5)
    assert check_survivor_failed(failing, 60) == 3


def test_two_workers_train_like_one_and_a_killed_cluster_resumes(folder: Path) -> None:
    """Two workers, then one killed after epoch 1 of 3 and the cluster restarted: it resumes after epoch 1."""
    result = folder / "result.json"
    with start_worker_cluster(2, [*SMALL, "--result", result], log_dir=folder / "plain") as cluster:
        cluster.wait(timeout_s=400)
        starts = [event for index in (0, 1) for event in cluster.events(index) if event["event"] == "start"]
    two = json.loads(result.read_text())
    assert [start["replicas"] for start in starts] == [2, 2] and {s["task"] for s in starts} == {0, 1}
    assert two["strategy"] == "MultiWorkerMirroredStrategy" and two["test_accuracy"] > 0.5
    if shutil.which("ss"):  # the bytes each worker sent per step: the ring all-reduce of 203,530 float32 gradients
        assert 0.95 <= two["bytes_sent_per_step"] / (2 * (2 - 1) / 2 * 4 * 203_530) <= 1.25, two
    single = events_in(run_worker([*SMALL], log_path=folder / "single.log"))[-1]
    assert abs(single["test_accuracy"] - two["test_accuracy"]) <= 0.005, (single, two)  # the bound

    args = [*SMALL, "--epochs", "3", "--checkpoint-dir", folder / "checkpoints", "--result", result]
    with start_worker_cluster(2, args, log_dir=folder / "first") as cluster:
        cluster.wait_for_epoch(1, index=0, timeout_s=400)
        cluster.kill(1)
        code = cluster.wait_for_exit(0, timeout_s=120)
        saved = cluster.completed_epochs(0)
    check_survivor_failed(code, 120)  # the surviving worker cannot finish the epoch without its peer
    assert saved and max(saved) < 3, saved
    with start_worker_cluster(2, args, log_dir=folder / "restart") as cluster:
        cluster.wait(timeout_s=400)
        resumed_epochs = cluster.completed_epochs(0)
    restarted = json.loads(result.read_text())
    assert restarted["resumed_from_epoch"] == max(saved)
    assert resumed_epochs == list(range(max(saved) + 1, 4))


def test_keras_fit_fails_under_the_multi_worker_strategy_on_tf_2_21(folder: Path) -> None:
    """Why the workers use a custom loop: Keras 3's fit cannot build its model under MultiWorkerMirroredStrategy
    (keras-team/keras#20585). If this test fails, fit works now: the notebook can use it."""
    with (
        start_worker_cluster(2, [*SMALL, "--loop", "fit"], log_dir=folder) as cluster,
        pytest.raises(WorkerFailed) as failure,
    ):
        cluster.wait(timeout_s=400)
    assert "PerReplica" in str(failure.value) and "to a Tensor" in str(failure.value)


def test_mirrored_strategy_over_two_logical_cpus_trains_with_fit(folder: Path) -> None:
    log = run_worker([*SMALL, "--local-devices", "2", "--loop", "fit"], log_path=folder / "mirrored.log")
    done = events_in(log)[-1]
    assert done["strategy"] == "MirroredStrategy" and done["replicas"] == 2
    assert done["losses"]["2"] < done["losses"]["1"] and done["test_accuracy"] > 0.5


def test_bytes_sent_between_snapshots_never_go_negative_when_a_socket_closes_or_opens() -> None:
    before = {"a -> b": 1_000, "c -> d": 50_000}
    after = {"a -> b": 4_000, "e -> f": 2_500}  # c -> d closed, e -> f opened in between
    assert distributed_worker.bytes_sent_between(before, after) == 3_000 + 2_500
    reopened = {"a -> b": 700}  # the same ports, a new socket: all its bytes are new
    assert distributed_worker.bytes_sent_between(before, reopened) == 700
    assert distributed_worker.bytes_sent_between(before, before) == 0


def test_socket_bytes_sent_counts_this_process_sockets_by_address() -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        accepted, _ = server.accept()
        with client, accepted:
            before = distributed_worker.socket_bytes_sent() or {}
            client.sendall(b"x" * 5_000)
            accepted.recv(5_000)
            after = distributed_worker.socket_bytes_sent()
            if after is None:
                pytest.skip("no ss (iproute2) on this machine")
            assert distributed_worker.bytes_sent_between(before, after) >= 5_000
            assert any(key.startswith("127.0.0.1:") and " -> 127.0.0.1:" in key for key in after)
