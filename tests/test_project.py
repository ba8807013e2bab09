"""The project's own rules: pinned dependencies agree, imports are side-effect free, lint is clean."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from coursetools import notebook_hygiene, timing_report

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def pins(requirements: list[str]) -> dict[str, str]:
    """``{"name": "version"}`` of ``name==version`` lines; extras like ``[and-cuda]`` dropped."""
    found = {}
    for requirement in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]+\])?==([^\s;]+)", requirement.strip())
        assert match, f"not pinned with ==: {requirement!r}"
        found[match.group(1).lower()] = match.group(3)
    return found


def test_environment_yml_installs_the_same_pins_as_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    expected = pins(project["dependencies"] + project["optional-dependencies"]["dev"])
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in environment["dependencies"] if isinstance(item, dict))
    listed = pins([line for line in pip_section if not line.startswith("-")])
    assert listed == expected
    assert "--editable ." in pip_section
    assert pins(project["optional-dependencies"]["gpu"]) == {"tensorflow": expected["tensorflow"]}


def test_importing_helpers_has_no_side_effects(tmp_path: Path) -> None:
    modules = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in (ROOT / "helpers").rglob("*.py")
        if path.stem != "__main__"
    )
    code = (
        # TensorFlow and Keras draw from Python's `random` when they are imported, and the lesson modules
        # import them: import them first, so that the test sees what helpers' own code does.
        "import random, numpy, tensorflow, keras\n"
        "state, numpy_state = random.getstate(), numpy.random.get_state()[1].copy()\n"
        f"for name in {modules!r}: __import__(name)\n"
        "assert random.getstate() == state, 'importing helpers seeded random'\n"
        "assert (numpy.random.get_state()[1] == numpy_state).all(), 'importing helpers seeded numpy'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env={**os.environ}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "", f"importing helpers printed: {result.stdout!r}"
    assert list(tmp_path.iterdir()) == [], "importing helpers wrote files"


def test_ruff_is_clean_including_notebooks() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_notebooks_are_committed_clean() -> None:
    assert NOTEBOOKS, "no notebooks found"
    found = [problem for notebook in NOTEBOOKS for problem in notebook_hygiene.problems(notebook)]
    assert not found, "\n".join(found) + "\nFix with: make clean-notebooks"


def test_hygiene_normalises_a_dirty_notebook(tmp_path: Path) -> None:
    clean = json.loads(NOTEBOOKS[0].read_text())
    dirty = json.loads(NOTEBOOKS[0].read_text())
    code_cell = next(cell for cell in dirty["cells"] if cell["cell_type"] == "code")
    code_cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "hi\n"}]
    code_cell["execution_count"] = 3
    code_cell["metadata"]["collapsed"] = True
    dirty["metadata"]["widgets"] = {}
    path = tmp_path / NOTEBOOKS[0].name
    path.write_text(json.dumps(dirty))
    assert any("stored outputs" in problem for problem in notebook_hygiene.problems(path))
    assert notebook_hygiene.main(["--fix", str(path)]) == 0
    assert json.loads(path.read_text()) == clean


MAX_CODE_CELL_LINES = 60  # the course's rule: short cells, each step taught before it is used


def long_code_cells(notebook: Path, limit: int = MAX_CODE_CELL_LINES) -> list[str]:
    """One line per code cell of ``notebook`` longer than ``limit`` lines: its notebook, index and line count."""
    found = []
    for index, cell in enumerate(json.loads(notebook.read_text(encoding="utf-8"))["cells"]):
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        lines = len(source.splitlines())
        if cell["cell_type"] == "code" and lines > limit:
            found.append(f"{notebook.name}: cell {index} has {lines} lines (at most {limit})")
    return found


def test_no_code_cell_over_60_lines() -> None:
    found = [problem for notebook in NOTEBOOKS for problem in long_code_cells(notebook)]
    advice = "\nSplit each at a natural boundary, with a short markdown cell before each piece"
    assert not found, "\n".join(found) + advice


def test_long_code_cells_flags_61_lines_and_accepts_60(tmp_path: Path) -> None:
    def notebook_with(lines: int) -> Path:
        cells = [
            {"cell_type": "markdown", "metadata": {}, "source": "\n".join(["text"] * 100)},
            {"cell_type": "code", "metadata": {}, "source": ["x = 1\n"] * (lines - 1) + ["x = 1"], "outputs": []},
        ]
        path = tmp_path / f"{lines}_lines.ipynb"
        path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
        return path

    assert long_code_cells(notebook_with(60)) == []
    assert long_code_cells(notebook_with(61)) == ["61_lines.ipynb: cell 1 has 61 lines (at most 60)"]


def test_every_notebook_reads_the_mode_in_a_parameters_cell_and_ends_with_exercises() -> None:
    for notebook in NOTEBOOKS:
        cells = json.loads(notebook.read_text())["cells"]
        parameters = [cell for cell in cells if "parameters" in cell["metadata"].get("tags", [])]
        assert len(parameters) == 1, f"{notebook.name}: needs exactly one cell tagged 'parameters'"
        assert "course_mode()" in parameters[0]["source"], f"{notebook.name}: parameters cell must read the mode"
        markdown = "\n".join(cell["source"] for cell in cells if cell["cell_type"] == "markdown")
        for heading in ("Objectives", "Summary", "Exercises"):
            assert heading in markdown, f"{notebook.name}: no '{heading}' section"


def test_readme_states_the_two_commands_and_lists_every_notebook() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    for notebook in NOTEBOOKS:
        assert f"notebooks/{notebook.name}" in readme, f"README does not list {notebook.name}"
    assert timing_report.BEGIN_MARKER in readme and timing_report.END_MARKER in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_timing_table_goes_into_the_readme(tmp_path: Path) -> None:
    timings = {
        "mode": "fast",
        "machine": "x86_64 CPU, 2 cores",
        "notebooks": [{"notebook": "notebooks/00_setup.ipynb", "seconds": 12.3, "result": "passed"}],
        "total_seconds": 12.3,
    }
    timings_file = tmp_path / "notebooks.json"
    timings_file.write_text(json.dumps(timings))
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{timing_report.BEGIN_MARKER}\nold table\n{timing_report.END_MARKER}\nrest\n")
    timing_report.update_readme(readme, timings_file)
    text = readme.read_text()
    assert "old table" not in text and "| `notebooks/00_setup.ipynb` | 12 | passed |" in text
    assert text.startswith("intro\n") and text.endswith("rest\n") and "in fast mode" in text
