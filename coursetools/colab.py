"""Google Colab: an "Open in Colab" badge on every notebook and a first cell that installs ``helpers`` there.

* The badge is the first line of the notebook's first (title) cell and links to
  ``https://colab.research.google.com/github/<owner>/<repo>/blob/main/notebooks/<file>``.
  The repository is read from ``pyproject.toml``'s ``[project.urls]`` (``Repository = "https://github.com/..."``).
* The first code cell (tagged ``colab``) runs ``pip install "dl-course-helpers @ git+https://github.com/..."``
  only when the notebook runs on Colab (``google.colab`` is loaded there); elsewhere it does nothing.

``python -m coursetools.colab [NOTEBOOK_OR_FOLDER ...]`` lists notebooks whose badge or setup cell is
missing or stale (exit 1 if any); ``--fix`` inserts or updates them (idempotent).
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

from coursetools.edition import cell_source, cell_tags, find_notebooks, read_notebook
from coursetools.notebook_hygiene import normalise, serialise

# Used until pyproject.toml names the repository in [project.urls]; see repository().
DEFAULT_REPOSITORY = "dl-course/tf-keras-course"
BRANCH = "main"
PACKAGE = "dl-course-helpers"
COLAB_TAG = "colab"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_LINE = re.compile(r"^\[!\[Open In Colab\]\([^)]*\)\]\(https://colab\.research\.google\.com/[^)]*\)[ \t]*\n*")
GITHUB_URL = re.compile(r"https?://github\.com/([^/\s]+/[^/\s#?]+?)(?:\.git)?/?$")
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

SETUP_CELL = """\
# On Google Colab only: install the course's `helpers` package (and its pinned requirements).
# Anywhere else (make lab, CI) this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import subprocess

    requirement = "{requirement}"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", requirement], check=True)
    print("Installed helpers. If Colab asks to restart the session, restart it and run the notebook again.")"""


def repository(pyproject: Path = PYPROJECT) -> str:
    """``owner/name`` of the course's GitHub repository, from ``[project.urls]`` (else the default)."""
    if pyproject.is_file():
        urls = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("urls", {})
        for key in ("Repository", "Source", "Homepage"):
            match = GITHUB_URL.match(urls.get(key, ""))
            if match:
                return match.group(1)
    return DEFAULT_REPOSITORY


def badge_url(notebook: Path, repo: str) -> str:
    """The Colab URL of a course notebook on GitHub (notebooks live in ``notebooks/``)."""
    return f"https://colab.research.google.com/github/{repo}/blob/{BRANCH}/notebooks/{notebook.name}"


def badge_markdown(notebook: Path, repo: str) -> str:
    """The badge line: Colab's image linking to the notebook's Colab URL."""
    return f"[![Open In Colab]({BADGE_IMAGE})]({badge_url(notebook, repo)})"


def setup_cell_source(repo: str) -> str:
    """The first code cell: installs ``helpers`` from GitHub on Colab, does nothing elsewhere."""
    return SETUP_CELL.format(requirement=f"{PACKAGE} @ git+https://github.com/{repo}@{BRANCH}")


def first_code_cell(cells: list[dict[str, Any]]) -> int | None:
    """Index of the first code cell, if any."""
    return next((index for index, cell in enumerate(cells) if cell["cell_type"] == "code"), None)


def problems(path: Path, repo: str) -> list[str]:
    """What is missing or stale in the notebook's badge and Colab setup cell (empty if nothing)."""
    cells = read_notebook(path)["cells"]
    found = []
    badge = badge_markdown(path, repo)
    if not cells or cells[0]["cell_type"] != "markdown" or not cell_source(cells[0]).startswith(badge + "\n"):
        found.append(f"{path}: the first cell does not start with the Colab badge line {badge}")
    index = first_code_cell(cells)
    setup = setup_cell_source(repo)
    if index is None or cell_source(cells[index]) != setup or COLAB_TAG not in cell_tags(cells[index]):
        found.append(f"{path}: the first code cell is not the Colab setup cell (tagged {COLAB_TAG!r})")
    return found


def with_colab(notebook: dict[str, Any], path: Path, repo: str) -> dict[str, Any]:
    """The notebook with the current badge and setup cell, older versions of both removed."""
    cells = [cell for cell in notebook["cells"] if not (cell["cell_type"] == "code" and COLAB_TAG in cell_tags(cell))]
    badge = badge_markdown(path, repo)
    if cells and cells[0]["cell_type"] == "markdown":
        text = BADGE_LINE.sub("", cell_source(cells[0]), count=1)
        cells[0] = {**cells[0], "source": f"{badge}\n\n{text}" if text else badge + "\n"}
    else:
        cells.insert(0, {"cell_type": "markdown", "metadata": {}, "source": badge + "\n"})
    index = first_code_cell(cells)
    setup = {"cell_type": "code", "metadata": {"tags": [COLAB_TAG]}, "source": setup_cell_source(repo)}
    cells.insert(len(cells) if index is None else index, setup)
    return normalise({**notebook, "cells": cells}, path.name)


def fix(path: Path, repo: str) -> bool:
    """Insert or update the badge and setup cell of the notebook at ``path``; True if it changed."""
    text = path.read_text(encoding="utf-8")
    fixed = serialise(with_colab(read_notebook(path), path, repo))
    if fixed != text:
        path.write_text(fixed, encoding="utf-8")
    return fixed != text


def main(argv: list[str] | None = None) -> int:
    """Command line; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m coursetools.colab", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[Path("notebooks")], help="default: notebooks/")
    parser.add_argument("--fix", action="store_true", help="insert or update the badge and setup cell")
    arguments = parser.parse_args(argv)
    repo = repository()
    notebooks = find_notebooks(arguments.paths)
    if arguments.fix:
        for path in notebooks:
            if fix(path, repo):
                print(f"updated {path}")
    found = [problem for path in notebooks for problem in problems(path, repo)]
    print("\n".join(found) if found else f"{len(notebooks)} notebooks open in Colab from {repo}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
