"""Colab: every notebook has an "Open in Colab" badge matching its path and a Colab-only setup cell.

The first test checks the committed notebooks (``python -m coursetools.colab --fix notebooks`` adds
both); the others check the tool on temporary copies.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from coursetools import colab, edition, notebook_hygiene

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
REPO = "acme/dl-course"


def copy(notebook: Path, folder: Path) -> Path:
    """A copy of ``notebook`` in ``folder``/notebooks."""
    target = folder / "notebooks" / notebook.name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(notebook.read_text())
    return target


def test_every_course_notebook_opens_in_colab_from_its_own_path() -> None:
    repo = colab.repository()
    found = [problem for notebook in NOTEBOOKS for problem in colab.problems(notebook, repo)]
    assert not found, "\n".join(found) + "\nFix with: python -m coursetools.colab --fix notebooks"
    for notebook in NOTEBOOKS:
        first = edition.cell_source(edition.read_notebook(notebook)["cells"][0])
        assert f"](https://colab.research.google.com/github/{repo}/blob/main/notebooks/{notebook.name})" in first


@pytest.mark.parametrize("course_notebook", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_fix_adds_badge_and_setup_cell_once_and_changes_nothing_else(course_notebook: Path, tmp_path: Path) -> None:
    path = copy(course_notebook, tmp_path)
    before = [cell for cell in edition.read_notebook(path)["cells"] if colab.COLAB_TAG not in edition.cell_tags(cell)]
    colab.fix(path, REPO)
    assert colab.problems(path, REPO) == [] and notebook_hygiene.problems(path) == []
    text = path.read_text()
    assert colab.fix(path, REPO) is False and path.read_text() == text, "--fix is not idempotent"
    cells = edition.read_notebook(path)["cells"]
    setup = [index for index, cell in enumerate(cells) if colab.COLAB_TAG in edition.cell_tags(cell)]
    assert len(setup) == 1 and setup[0] == colab.first_code_cell(cells)
    rest = [cell for index, cell in enumerate(cells) if index != setup[0]]
    assert [edition.cell_source(cell) for cell in rest[1:]] == [edition.cell_source(cell) for cell in before[1:]]
    badge = colab.badge_markdown(path, REPO)
    assert (
        edition.cell_source(rest[0]).replace(badge, "").strip()
        == colab.BADGE_LINE.sub("", edition.cell_source(before[0])).strip()
    )


def test_a_stale_badge_and_setup_cell_are_replaced_not_duplicated(tmp_path: Path) -> None:
    path = copy(NOTEBOOKS[0], tmp_path)
    colab.fix(path, "old/place")
    assert colab.problems(path, REPO) != []
    assert colab.fix(path, REPO) is True and colab.problems(path, REPO) == []
    text = path.read_text()
    assert text.count("colab-badge.svg") == 1 and "old/place" not in text
    assert sum(colab.COLAB_TAG in edition.cell_tags(cell) for cell in json.loads(text)["cells"]) == 1


def test_a_notebook_starting_with_code_gets_a_badge_cell_first(tmp_path: Path) -> None:
    notebook = {"cells": [{"cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": []}]}
    path = tmp_path / "notebooks" / "07_x.ipynb"
    path.parent.mkdir()
    path.write_text(json.dumps(notebook))
    assert len(colab.problems(path, REPO)) == 2
    colab.fix(path, REPO)
    cells = edition.read_notebook(path)["cells"]
    assert [cell["cell_type"] for cell in cells] == ["markdown", "code", "code"]
    assert edition.cell_source(cells[0]).strip() == colab.badge_markdown(path, REPO)
    assert edition.cell_source(cells[2]) == "x = 1"


def test_badge_url_is_colabs_github_url_of_the_notebook() -> None:
    url = colab.badge_url(Path("notebooks/03_cnn.ipynb"), REPO)
    assert url == "https://colab.research.google.com/github/acme/dl-course/blob/main/notebooks/03_cnn.ipynb"
    assert colab.badge_markdown(Path("03_cnn.ipynb"), REPO) == f"[![Open In Colab]({colab.BADGE_IMAGE})]({url})"


def test_repository_comes_from_project_urls(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n[project.urls]\nRepository = "https://github.com/acme/course.git"\n')
    assert colab.repository(pyproject) == "acme/course"
    pyproject.write_text('[project]\nname = "x"\n')
    assert colab.repository(pyproject) == colab.DEFAULT_REPOSITORY


def run_setup_cell(monkeypatch: pytest.MonkeyPatch, on_colab: bool) -> list[Any]:
    """Run the setup cell's code with ``subprocess.run`` recorded instead of run; returns the calls."""
    calls: list[Any] = []
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(colab.setup_cell_source(REPO), {})
    return calls


def test_setup_cell_does_nothing_outside_colab(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_setup_cell(monkeypatch, on_colab=False) == []
    assert capsys.readouterr().out == ""


def test_setup_cell_installs_helpers_from_github_on_colab(monkeypatch: pytest.MonkeyPatch) -> None:
    [(args, kwargs)] = run_setup_cell(monkeypatch, on_colab=True)
    assert args[0][:4] == [sys.executable, "-m", "pip", "install"]
    assert args[0][-1] == f"dl-course-helpers @ git+https://github.com/{REPO}@main" and kwargs == {"check": True}
