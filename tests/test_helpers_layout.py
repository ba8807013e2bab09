"""The layout of ``helpers``: a few small modules at the top, packages by kind, imports that run one way."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import helpers

ROOT = Path(__file__).resolve().parents[1]
HELPERS = ROOT / "helpers"
PACKAGES = sorted(path.parent.name for path in HELPERS.glob("*/__init__.py"))
# Kinds of code that lessons and servers build on, so they must never import lessons or servers.
LOWER_PACKAGES = ("datasets", "figures")
HIGHER_PACKAGES = ("helpers.lessons", "helpers.serving")


def imported_modules(source: str, module: str) -> set[str]:
    """Every module that ``source`` (the text of ``module``) imports, at the top or inside functions."""
    package = module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..lessons import y
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def upward_imports(folder: Path) -> list[str]:
    """``module -> import`` for each import from a module under ``folder`` into lessons or serving."""
    wrong = []
    for path in sorted(folder.rglob("*.py")):
        module = ".".join(path.relative_to(folder.parent.parent).with_suffix("").parts)
        for name in sorted(imported_modules(path.read_text(), module)):
            if any(name == higher or name.startswith(higher + ".") for higher in HIGHER_PACKAGES):
                wrong.append(f"{module} -> {name}")
    return wrong


@pytest.mark.parametrize("package", LOWER_PACKAGES)
def test_data_and_figures_never_import_lessons_or_serving(package: str) -> None:
    assert upward_imports(HELPERS / package) == []


def test_the_import_walk_finds_an_upward_import_anywhere_in_a_module(tmp_path: Path) -> None:
    package = tmp_path / "helpers" / "figures"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""Figures."""\n')
    (package / "top.py").write_text("from helpers.lessons.gpt import TransformerBlock\n")
    (package / "inner.py").write_text("def draw():\n    from helpers.serving import app\n    return app\n")
    (package / "relative.py").write_text("from ..lessons import llm\n")
    (package / "fine.py").write_text("from helpers.datasets.registry import fetch\nimport numpy\n")
    assert upward_imports(package) == [
        "helpers.figures.inner -> helpers.serving",
        "helpers.figures.inner -> helpers.serving.app",
        "helpers.figures.relative -> helpers.lessons",
        "helpers.figures.relative -> helpers.lessons.llm",
        "helpers.figures.top -> helpers.lessons.gpt",
        "helpers.figures.top -> helpers.lessons.gpt.TransformerBlock",
    ]


def test_the_top_level_holds_a_few_small_modules_and_the_packages_by_kind() -> None:
    modules = sorted(path.stem for path in HELPERS.glob("*.py") if path.stem != "__init__")
    assert len(modules) <= 12, f"helpers/ has {len(modules)} modules at the top: {modules}"
    assert PACKAGES == ["checks", "datasets", "figures", "lessons", "processes", "serving"]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_says_what_belongs_in_it_and_the_top_docstring_maps_it(package: str) -> None:
    docstring = ast.get_docstring(ast.parse((HELPERS / package / "__init__.py").read_text()))
    assert docstring, f"helpers/{package}/__init__.py has no docstring"
    assert len(docstring.splitlines()[0]) <= 110, "the first line should say in one line what belongs here"
    assert re.search(rf"^ +{package}/ ", helpers.__doc__, re.M), f"helpers/__init__.py's map does not list {package}/"


def test_the_data_command_line_runs_as_python_m_helpers_datasets() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "helpers.datasets", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "prefetch" in result.stdout and "python -m helpers.datasets" in result.stdout
