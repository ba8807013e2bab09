"""One source for lesson code: cells tagged ``export`` become a generated module under ``helpers/lessons/``.

The lesson's code is written in the notebook, in cells a learner edits and reruns. When another
notebook, a benchmark or a test needs it, the cell is tagged ``export`` (cell metadata ``tags``)
and ``make export`` (``python -m coursetools.export``) copies every such cell, in order, into
``helpers/lessons/<name>.py``, where ``<name>`` is the notebook's file name without its number
(``03_mnist.ipynb`` gives ``helpers.lessons.mnist``). Like d2l's ``#@save`` or nbdev's ``#| export``.

Rules an exported cell follows, checked here:

* only imports, functions, classes, constants and docstrings at the top level: importing the
  generated module must not train, print or write anything;
* it is self-contained: names it uses come from its own imports or from other exported cells
  (ruff, run on the generated module by the tests, reports anything undefined).

The imports of all cells are gathered at the top of the module and sorted (ruff's isort rule);
the rest of each cell is copied as written. ``python -m coursetools.export --check`` (used by the
tests) exits 1 and names the stale module when a notebook changed without ``make export``.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
LESSONS = ROOT / "helpers" / "lessons"
EXPORT_TAG = "export"
ALLOWED_STATEMENTS = (
    ast.Import,
    ast.ImportFrom,
    ast.FunctionDef,
    ast.ClassDef,
    ast.Assign,
    ast.AnnAssign,
)


class ExportError(ValueError):
    """An exported cell breaks a rule; the message names the notebook and the cell."""


def module_name(notebook: Path) -> str:
    """``03_mnist.ipynb`` -> ``mnist``: the notebook's name without its leading number."""
    name = re.sub(r"^\d+[a-z]?_", "", notebook.stem)
    if not name.isidentifier():
        raise ExportError(f"{notebook.name}: {name!r} is not a valid module name")
    return name


def module_path(notebook: Path) -> Path:
    """Where the lesson code of ``notebook`` is generated."""
    return LESSONS / f"{module_name(notebook)}.py"


def exported_cells(notebook: Path) -> list[tuple[int, str]]:
    """(cell index, source) of every code cell of ``notebook`` tagged ``export``."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    found = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "code" and EXPORT_TAG in cell.get("metadata", {}).get("tags", []):
            source = cell["source"]
            found.append((index, source if isinstance(source, str) else "".join(source)))
    return found


def is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def split_cell(notebook: Path, index: int, source: str) -> tuple[list[str], str]:
    """A cell's import statements and the rest of its code, checked against the rules above."""
    where = f"{notebook.relative_to(ROOT) if notebook.is_relative_to(ROOT) else notebook}, cell {index}"
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise ExportError(f"{where}: not valid Python ({error.msg}, line {error.lineno})") from None
    lines = source.splitlines()
    imports, import_lines = [], set()
    for node in tree.body:
        if not isinstance(node, ALLOWED_STATEMENTS) and not is_docstring(node):
            code = ast.get_source_segment(source, node) or type(node).__name__
            raise ExportError(
                f"{where}: an exported cell may only define things (imports, functions, classes, constants); "
                f"move this statement to a cell that is not tagged '{EXPORT_TAG}':\n    {code.splitlines()[0]}"
            )
        if isinstance(node, ast.Import | ast.ImportFrom):
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                raise ExportError(f"{where}: no __future__ imports in lesson cells (the module adds none)")
            span = range(node.lineno - 1, node.end_lineno or node.lineno)
            imports.append("\n".join(lines[line] for line in span))
            import_lines.update(span)
    body = "\n".join(line for number, line in enumerate(lines) if number not in import_lines).strip("\n")
    return imports, body


def sort_imports(code: str, path: Path) -> str:
    """``code`` with its imports sorted the way ruff's isort rule wants (the project's ruff settings)."""
    command = [sys.executable, "-m", "ruff", "check", "--quiet", "--no-cache", "--select", "I", "--fix-only"]
    result = subprocess.run(
        [*command, "--exit-zero", "--stdin-filename", str(path), "-"],
        input=code,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if result.returncode != 0:
        raise ExportError(f"ruff could not sort the imports of {path.name}: {result.stderr.strip()}")
    return result.stdout


def render(notebook: Path) -> str | None:
    """The generated module of ``notebook``, or None if it has no exported cell."""
    cells = exported_cells(notebook)
    if not cells:
        return None
    imports: list[str] = []
    bodies: list[str] = []
    for index, source in cells:
        cell_imports, body = split_cell(notebook, index, source)
        imports.extend(statement for statement in cell_imports if statement not in imports)
        if body:
            bodies.append(body)
    relative = notebook.relative_to(ROOT).as_posix() if notebook.is_relative_to(ROOT) else notebook.name
    header = (
        f'"""Lesson code of {relative}, generated from its cells tagged `{EXPORT_TAG}`.\n\n'
        f"Do not edit this file: edit those cells in the notebook, then run `make export`\n"
        f"(python -m coursetools.export). A test fails when this file is older than the notebook.\n"
        '"""\n'
    )
    code = header + "\n" + "\n".join(imports) + "\n\n\n" + "\n\n\n".join(bodies) + "\n"
    return sort_imports(code, module_path(notebook))


def notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    return sorted(folder.glob("*.ipynb"))


def stale(folder: Path = NOTEBOOKS) -> list[str]:
    """What ``make export`` would change: one sentence per stale, missing or orphaned module."""
    problems = []
    expected = {}
    for notebook in notebooks(folder):
        code = render(notebook)
        if code is not None:
            expected[module_path(notebook)] = (notebook, code)
    for path, (notebook, code) in expected.items():
        if not path.is_file():
            problems.append(f"{path.relative_to(ROOT)} is missing: {notebook.name} has cells tagged '{EXPORT_TAG}'")
        elif path.read_text(encoding="utf-8") != code:
            problems.append(f"{path.relative_to(ROOT)} is stale: {notebook.name} changed since the last export")
    for path in sorted(LESSONS.glob("*.py")):
        if path.name != "__init__.py" and path not in expected:
            problems.append(f"{path.relative_to(ROOT)} has no notebook with cells tagged '{EXPORT_TAG}' behind it")
    return problems


def export(folder: Path = NOTEBOOKS) -> list[Path]:
    """Write every notebook's generated module and delete orphaned ones; returns the files changed."""
    changed = []
    wanted = set()
    LESSONS.mkdir(parents=True, exist_ok=True)
    for notebook in notebooks(folder):
        code = render(notebook)
        if code is None:
            continue
        path = module_path(notebook)
        wanted.add(path)
        if not path.is_file() or path.read_text(encoding="utf-8") != code:
            path.write_text(code, encoding="utf-8")
            changed.append(path)
    for path in LESSONS.glob("*.py"):
        if path.name != "__init__.py" and path not in wanted:
            path.unlink()
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    """``python -m coursetools.export`` writes the modules; ``--check`` only reports stale ones (exit 1)."""
    parser = argparse.ArgumentParser(prog="python -m coursetools.export", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale modules and exit 1; write nothing")
    arguments = parser.parse_args(argv)
    try:
        if arguments.check:
            problems = stale()
            print("\n".join(problems) + "\nFix with: make export" if problems else "lesson modules are up to date")
            return 1 if problems else 0
        for path in export():
            print(f"wrote {path.relative_to(ROOT)}" if path.exists() else f"deleted {path.relative_to(ROOT)}")
    except ExportError as error:
        print(f"export failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
