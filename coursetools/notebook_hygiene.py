"""Keep committed notebooks clean: no outputs, normalised metadata, valid nbformat.

``python -m coursetools.notebook_hygiene notebooks`` lists problems (exit 1 if any);
``--fix`` rewrites the notebooks in the normalised form (``make clean-notebooks``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
NOTEBOOK_METADATA = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
ALLOWED_CELL_METADATA = ("tags",)


def stable_cell_id(notebook_name: str, index: int, source: str) -> str:
    """A cell id that stays the same as long as the cell's text and place do."""
    text = f"{notebook_name}:{index}:{source}".encode()
    return hashlib.sha1(text).hexdigest()[:12]


def normalise(notebook: dict[str, Any], notebook_name: str) -> dict[str, Any]:
    """The notebook without outputs, execution counts or editor metadata, with stable cell ids."""
    cells = []
    for index, cell in enumerate(notebook.get("cells", [])):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        clean: dict[str, Any] = {
            "cell_type": cell["cell_type"],
            "id": stable_cell_id(notebook_name, index, source),
            "metadata": {k: v for k, v in cell.get("metadata", {}).items() if k in ALLOWED_CELL_METADATA},
            "source": source,
        }
        if cell["cell_type"] == "code":
            clean["execution_count"] = None
            clean["outputs"] = []
        cells.append(clean)
    return {"cells": cells, "metadata": NOTEBOOK_METADATA, "nbformat": 4, "nbformat_minor": 5}


def serialise(notebook: dict[str, Any]) -> str:
    """The text form the course commits: nbformat's own style (indent 1, sorted keys)."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def problems(path: Path) -> list[str]:
    """What is wrong with the notebook at ``path`` (empty list if it is clean)."""
    import nbformat

    text = path.read_text(encoding="utf-8")
    try:
        notebook = json.loads(text)
        nbformat.validate(nbformat.reads(text, as_version=4))
    except (json.JSONDecodeError, nbformat.ValidationError) as error:
        return [f"{path}: not a valid notebook: {error}"]
    found = []
    if any(cell.get("outputs") for cell in notebook.get("cells", [])):
        found.append(f"{path}: has stored outputs")
    if text != serialise(normalise(notebook, path.name)):
        found.append(f"{path}: not normalised (metadata, execution counts, ids or formatting)")
    return found


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m coursetools.notebook_hygiene")
    parser.add_argument("paths", nargs="+", type=Path, help="notebooks or folders of notebooks")
    parser.add_argument("--fix", action="store_true", help="rewrite notebooks in normalised form")
    arguments = parser.parse_args(argv)
    notebooks = sorted(
        notebook
        for path in arguments.paths
        for notebook in ([path] if path.is_file() else path.rglob("*.ipynb"))
        if ".ipynb_checkpoints" not in notebook.parts
    )
    if arguments.fix:
        for notebook in notebooks:
            content = json.loads(notebook.read_text(encoding="utf-8"))
            notebook.write_text(serialise(normalise(content, notebook.name)), encoding="utf-8")
    found = [problem for notebook in notebooks for problem in problems(notebook)]
    print("\n".join(found) if found else f"{len(notebooks)} notebooks clean")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
