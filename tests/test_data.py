"""The data layer: lookup order, checksums, offline errors and the real download path."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from helpers import data
from helpers.server_process import free_port


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder and counts requests; no log lines."""

    requests_served: list[str]

    def log_message(self, format: str, *args: object) -> None:
        self.requests_served.append(self.path)


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    """A real HTTP server on 127.0.0.1 serving ``tmp_path / "served"``: (base URL, folder, log)."""
    folder = tmp_path / "served"
    folder.mkdir()
    log: list[str] = []
    handler = functools.partial(type("Handler", (QuietHandler,), {"requests_served": log}), directory=folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder, log
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """A loopback URL where nothing listens: what 'offline' looks like, without touching the network."""
    return f"http://127.0.0.1:{free_port()}"


def tampered_copy(source: Path, destination: Path) -> Path:
    """``source`` with one byte changed in the middle."""
    content = bytearray(source.read_bytes())
    content[len(content) // 2] ^= 0xFF
    destination.write_bytes(bytes(content))
    return destination


def test_registry_entries_have_https_urls_and_checksums() -> None:
    for entry in data.REGISTRY.values():
        assert entry.url.startswith("https://"), entry
        assert entry.url.endswith("/" + entry.filename)
        assert entry.checksums, entry
        for checksum in entry.checksums:
            assert checksum.algorithm in {"sha256", "md5"}
            assert len(checksum.hexdigest) == {"sha256": 64, "md5": 32}[checksum.algorithm]


def test_both_mnist_variants_are_accepted(mnist_source: Path) -> None:
    mnist = data.registry_entry("mnist")
    labels = {checksum.label for checksum in mnist.checksums}
    assert any("Keras original" in label for label in labels)
    assert any("course copy" in label for label in labels)
    # The copy this machine has is recognised as one of the two accepted versions.
    assert data.identify(mnist_source, mnist).label in labels


def test_any_accepted_checksum_identifies_the_file(tmp_path: Path) -> None:
    first, second = tmp_path / "first.bin", tmp_path / "second.bin"
    first.write_bytes(b"original release")
    second.write_bytes(b"re-encoded copy")
    entry = data.RegistryEntry(
        name="demo",
        filename="demo.bin",
        url="https://example.org/demo.bin",
        checksums=(
            data.Checksum("sha256", data.file_digest(first, "sha256"), "original"),
            data.Checksum("md5", data.file_digest(second, "md5"), "copy"),
        ),
        description="demo",
        required=False,
    )
    assert data.identify(first, entry).label == "original"
    assert data.identify(second, entry).label == "copy"


def test_data_dir_variable_comes_first(isolated_data: Path, mnist_source: Path, monkeypatch, tmp_path) -> None:
    folder = tmp_path / "usb-stick"
    folder.mkdir()
    shutil.copyfile(mnist_source, folder / "mnist.npz")
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(folder))
    assert data.fetch("mnist") == folder / "mnist.npz"
    (x_train, _), (x_test, y_test) = data.load_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and set(np.unique(y_test)) == set(range(10))


def test_corrupted_file_is_rejected_with_both_hashes_and_left_in_place(
    isolated_data: Path, mnist_source: Path, monkeypatch, tmp_path
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    bad = tampered_copy(mnist_source, folder / "mnist.npz")
    before = bad.read_bytes()
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(folder))
    with pytest.raises(data.ChecksumMismatchError) as caught:
        data.fetch("mnist")
    message = str(caught.value)
    assert str(bad) in message
    for checksum in data.registry_entry("mnist").checksums:
        assert checksum.hexdigest in message
    assert data.file_digest(bad, "sha256") in message
    assert "left in place" in message
    assert bad.read_bytes() == before


def test_corrupted_cached_file_is_not_replaced_by_a_download(
    isolated_data: Path, mnist_source: Path, file_server, monkeypatch
) -> None:
    base_url, served, log = file_server
    shutil.copyfile(mnist_source, served / "mnist.npz")
    monkeypatch.setenv(data.MIRROR_VARIABLE, base_url)
    isolated_data.mkdir(parents=True)
    bad = tampered_copy(mnist_source, isolated_data / "mnist.npz")
    with pytest.raises(data.ChecksumMismatchError):
        data.fetch("mnist")
    assert bad.exists() and log == []


def test_offline_and_missing_names_every_place_and_the_prefetch_command(
    isolated_data: Path, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(tmp_path / "empty"))
    monkeypatch.setenv(data.MIRROR_VARIABLE, closed_port_url())
    with pytest.raises(data.DataNotAvailableError) as caught:
        data.fetch("mnist")
    message = str(caught.value)
    assert "mnist.npz" in message
    assert str(tmp_path / "empty" / "mnist.npz") in message
    assert str(isolated_data / "mnist.npz") in message
    assert "download from http://127.0.0.1" in message
    assert "make data" in message and "python -m helpers.data prefetch" in message
    assert list(isolated_data.iterdir()) == []  # nothing half-downloaded left behind


def test_no_download_when_not_allowed(isolated_data: Path) -> None:
    with pytest.raises(data.DataNotAvailableError, match="not attempted"):
        data.fetch("mnist", allow_download=False)
    assert data.locate("mnist") is None


def test_download_from_local_server_is_verified_and_cached(
    isolated_data: Path, mnist_source: Path, file_server, monkeypatch
) -> None:
    base_url, served, log = file_server
    shutil.copyfile(mnist_source, served / "mnist.npz")
    monkeypatch.setenv(data.MIRROR_VARIABLE, base_url)
    path = data.fetch("mnist")
    assert path == isolated_data / "mnist.npz"
    assert path.read_bytes() == mnist_source.read_bytes()
    assert log == ["/mnist.npz"]
    assert data.fetch("mnist") == path and log == ["/mnist.npz"]  # second time: from the cache


def test_tampered_download_is_rejected_and_not_cached(
    isolated_data: Path, mnist_source: Path, file_server, monkeypatch
) -> None:
    base_url, served, _ = file_server
    tampered_copy(mnist_source, served / "mnist.npz")
    monkeypatch.setenv(data.MIRROR_VARIABLE, base_url)
    with pytest.raises(data.ChecksumMismatchError, match="rejected and not cached") as caught:
        data.fetch("mnist")
    assert data.file_digest(served / "mnist.npz", "sha256") in str(caught.value)
    assert list(isolated_data.iterdir()) == []  # no file, no leftover .part


def test_prefetch_command_fills_the_cache_and_reports_failures(
    isolated_data: Path, mnist_source: Path, file_server, monkeypatch, capsys
) -> None:
    base_url, served, _ = file_server
    shutil.copyfile(mnist_source, served / "mnist.npz")
    monkeypatch.setenv(data.MIRROR_VARIABLE, base_url)
    assert data.main(["prefetch", "mnist"]) == 0
    assert (isolated_data / "mnist.npz").is_file()
    # The mirror has no ResNet50 weights: prefetching everything fails, saying which file and why.
    assert data.main(["prefetch"]) == 1
    captured = capsys.readouterr()
    assert "ok      mnist" in captured.out
    assert "FAILED  resnet50_imagenet_notop" in captured.err and "404" in captured.err
    assert data.main(["prefetch", "no-such-file"]) == 1
    assert "known: mnist" in capsys.readouterr().err


def test_status_lists_availability(isolated_data: Path, mnist_source: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(mnist_source.parent))
    rows = {row["name"]: row for row in data.availability()}
    assert rows["mnist"]["available"] is True
    assert rows["resnet50_imagenet_notop"]["available"] is False
    assert data.main(["status"]) == 0
    assert "MISSING resnet50_imagenet_notop" in capsys.readouterr().out
