"""Shared fixtures of the unit tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import data


@pytest.fixture(scope="session")
def mnist_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A verified MNIST file (CI: the shared copy; a learner: their cache or a download)."""
    copy = tmp_path_factory.mktemp("mnist-source") / "mnist.npz"
    shutil.copyfile(data.fetch("mnist"), copy)
    return copy


@pytest.fixture
def isolated_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No data folder, no mirror, an empty cache under ``tmp_path``: returns the cache folder."""
    cache = tmp_path / "cache"
    monkeypatch.delenv(data.DATA_DIR_VARIABLE, raising=False)
    monkeypatch.delenv(data.MIRROR_VARIABLE, raising=False)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(cache))
    return cache
