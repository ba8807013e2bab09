"""Starting, waiting for and stopping background servers (without TensorFlow: Python's http.server)."""

from __future__ import annotations

import socket
import sys
import urllib.request
from pathlib import Path

import pytest

from helpers.processes import server as server_process
from helpers.processes.server import ServerProcess, ServerStartError, free_port, start_server


def http_server_command(port: int, folder: Path) -> list[str]:
    return [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder)]


def test_free_port_is_a_bindable_loopback_port() -> None:
    port = free_port()
    assert 1024 <= port <= 65535
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com"])
def test_only_loopback_addresses_are_allowed(host: str) -> None:
    with pytest.raises(ValueError, match="only loopback"):
        free_port(host)
    with pytest.raises(ValueError, match="only loopback"):
        ServerProcess(["true"], port=8000, host=host)


def test_start_wait_and_stop(tmp_path: Path) -> None:
    (tmp_path / "ready").write_text("ok")
    port = free_port()
    server = start_server(http_server_command(port, tmp_path), port=port, ready_path="/ready", timeout_s=30)
    try:
        assert server.running and server.url == f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(server.url + "/ready", timeout=5) as response:
            assert response.read() == b"ok"
        assert "running" in repr(server)
    finally:
        code = server.stop()
    assert not server.running and code is not None
    assert server.stop() == code  # stopping twice is harmless
    assert "GET /ready" in server.log_text()


def test_the_context_manager_stops_the_server_on_errors(tmp_path: Path) -> None:
    port = free_port()
    with (
        pytest.raises(KeyError),
        start_server(http_server_command(port, tmp_path), port=port, ready_path="/") as server,
    ):
        assert server.running
        raise KeyError("a failing cell")
    assert not server.running


def test_a_server_that_exits_reports_its_log(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "print('cannot load the model'); raise SystemExit(3)"]
    with pytest.raises(ServerStartError, match=r"(?s)exited with code 3.*cannot load the model"):
        start_server(command, port=free_port(), log_path=tmp_path / "server.log", timeout_s=30)


def test_a_server_that_never_gets_ready_is_stopped_at_the_deadline(tmp_path: Path) -> None:
    port = free_port()
    server = ServerProcess(http_server_command(port, tmp_path), port=port, ready_path="/missing-ready-path")
    server.start()
    with pytest.raises(ServerStartError, match="not ready within 1 s"):
        server.wait_until_ready(timeout_s=1)
    assert not server.running


def test_model_server_command() -> None:
    command = server_process.model_server_command({"mnist": "models/mnist"}, port=9000)
    assert command[:3] == [sys.executable, "-m", "helpers.serving"]
    assert command[command.index("--model") + 1] == f"mnist={Path('models/mnist').resolve()}"
    assert command[command.index("--host") + 1 :][:3] == ["127.0.0.1", "--port", "9000"]
    assert "--exit-with-parent" in command
    with pytest.raises(ValueError, match="at least one model"):
        server_process.model_server_command({}, port=9000)
