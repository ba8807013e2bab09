"""One source for lesson code: the notebooks' cells tagged ``export`` and the modules generated from them."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from coursetools import export

ROOT = Path(__file__).resolve().parents[1]


def write_notebook(path: Path, *cells: tuple[str, list[str]]) -> Path:
    """A notebook of code cells ``(source, tags)``."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source, metadata={"tags": tags}) for source, tags in cells]
    path.write_text(nbformat.writes(notebook))
    return path


def output_text(output: dict) -> str:
    """The text of one cell output: printed text, or the plain-text and HTML forms of displayed data."""
    shown = output.get("data", {})
    return output.get("text", "") + shown.get("text/plain", "") + shown.get("text/html", "")


def test_generated_lesson_modules_are_up_to_date() -> None:
    problems = export.stale()
    assert not problems, "\n".join(problems) + "\nFix with: make export"
    generated = sorted(path.stem for path in export.LESSONS.glob("*.py") if path.name != "__init__.py")
    assert {"mlp_gradient_tape", "mnist", "transfer_learning"} <= set(generated)


def test_lesson_modules_import_only_what_their_cells_define() -> None:
    from helpers.lessons import mnist

    cells = "\n".join(source for _, source in export.exported_cells(ROOT / "notebooks" / "03_mnist.ipynb"))
    for name in ("build_mlp", "build_cnn", "mnist_recipe", "fit_mnist_model", "load_or_train_mnist"):
        assert f"def {name}(" in cells and callable(getattr(mnist, name))
    assert "generated from its cells tagged `export`" in (export.LESSONS / "mnist.py").read_text()


def test_export_gathers_imports_at_the_top_and_keeps_cells_in_order(tmp_path: Path) -> None:
    notebook = write_notebook(
        tmp_path / "07_demo.ipynb",
        ("import numpy as np\n\n\ndef double(x: np.ndarray) -> np.ndarray:\n    return 2 * x", ["export"]),
        ("print(double(np.ones(2)))", []),  # not exported: it runs something
        ("import math\nimport numpy as np\n\nSCALE = math.pi", ["export"]),
    )
    assert export.module_name(notebook) == "demo"
    code = export.render(notebook)
    assert code is not None
    lines = code.splitlines()
    assert (
        lines.index("import math")
        < lines.index("import numpy as np")
        < lines.index("def double(x: np.ndarray) -> np.ndarray:")
    )
    assert code.count("import numpy as np") == 1 and "print(" not in code
    assert code.index("def double") < code.index("SCALE = math.pi")
    namespace: dict[str, object] = {}
    exec(compile(code, "demo.py", "exec"), namespace)  # the generated module runs on its own
    assert namespace["SCALE"] == pytest.approx(3.14159, abs=1e-5)


def test_an_exported_cell_that_runs_something_is_refused_with_the_cell_named(tmp_path: Path) -> None:
    notebook = write_notebook(
        tmp_path / "08_bad.ipynb", ("import keras\n\nmodel = keras.Sequential()\nmodel.fit()", ["export"])
    )
    with pytest.raises(export.ExportError, match=r"08_bad.ipynb, cell 0: an exported cell may only define") as error:
        export.render(notebook)
    assert "model.fit()" in str(error.value)
    broken = write_notebook(tmp_path / "09_broken.ipynb", ("def f(:\n    pass", ["export"]))
    with pytest.raises(export.ExportError, match="not valid Python"):
        export.render(broken)
    assert export.render(write_notebook(tmp_path / "10_none.ipynb", ("x = 1", []))) is None


def test_stale_names_a_changed_notebook(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    notebooks, lessons = tmp_path / "notebooks", tmp_path / "lessons"
    notebooks.mkdir()
    lessons.mkdir()
    monkeypatch.setattr(export, "ROOT", tmp_path)
    monkeypatch.setattr(export, "LESSONS", lessons)
    notebook = write_notebook(notebooks / "01_one.ipynb", ("def f() -> int:\n    return 1", ["export"]))
    assert export.stale(notebooks) == ["lessons/one.py is missing: 01_one.ipynb has cells tagged 'export'"]
    assert export.export(notebooks) == [lessons / "one.py"] and export.stale(notebooks) == []
    content = json.loads(notebook.read_text())
    content["cells"][0]["source"] = "def f() -> int:\n    return 2"
    notebook.write_text(json.dumps(content))
    assert export.stale(notebooks) == ["lessons/one.py is stale: 01_one.ipynb changed since the last export"]
    (lessons / "orphan.py").write_text("x = 1\n")
    assert "lessons/orphan.py has no notebook" in export.stale(notebooks)[-1]
    export.export(notebooks)
    assert not (lessons / "orphan.py").exists() and "return 2" in (lessons / "one.py").read_text()


def test_a_learners_edit_of_a_lesson_cell_takes_effect(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Add a layer to notebook 03's CNN, as a learner would, and run the notebook in fast mode up to its checks.

    The notebook must use the edited builder (its summary and the saved model show the new layer),
    its checks must still run and pass, and the generated module must stay as it was until
    ``make export``.
    """
    from nbclient import NotebookClient

    from helpers.lessons import mnist

    notebook = nbformat.read(ROOT / "notebooks" / "03_mnist.ipynb", as_version=4)
    cnn_cell = next(cell for cell in notebook.cells if cell.source.startswith("def build_cnn("))
    last_layer = '            layers.Dense(10, activation="softmax", name="probabilities"),'
    assert last_layer in cnn_cell.source
    cnn_cell.source = cnn_cell.source.replace(
        last_layer, '            layers.Dense(32, activation="relu", name="learner_extra"),\n' + last_layer
    )
    last_check = max(number for number, cell in enumerate(notebook.cells) if 'print(f"All checks passed' in cell.source)
    notebook.cells = notebook.cells[: last_check + 1]  # the exercises after the checks train models of their own
    artifacts = tmp_path / "artifacts"
    monkeypatch.setenv("COURSE_MODE", "fast")
    monkeypatch.setenv("COURSE_ARTIFACTS_DIR", str(artifacts))  # the kernel inherits the environment
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp_path}}).execute()
    outputs = {
        cell.source.split("\n", 1)[0]: "".join(map(output_text, cell.get("outputs", [])))
        for cell in notebook.cells
        if cell.cell_type == "code"
    }
    summary = next(text for first_line, text in outputs.items() if first_line.startswith('print(mnist_recipe("cnn"'))
    assert "learner_extra" in summary, "the CNN summary should show the layer the learner added"
    checks = next((text for text in outputs.values() if "All checks passed" in text), "")
    assert "All checks passed" in checks, "the edited notebook should still reach its checks and pass them"
    import keras

    saved = keras.models.load_model(artifacts / "models" / "mnist_cnn.keras")
    assert "learner_extra" in [layer.name for layer in saved.layers], "the saved CNN is the edited one"
    assert "learner_extra" not in [layer.name for layer in mnist.build_cnn().layers], "export only on make export"
