"""Per-notebook timing table from the test run (a pytest plugin), and the README table from it.

``pytest -p coursetools.timing_report`` (set in ``pyproject.toml``) adds up the duration of every
nbval cell per notebook, prints the table at the end of the run and writes it to
``build/timings/notebooks.json`` and ``.md``. ``python -m coursetools.timing_report README.md``
copies the latest table into the README between its ``notebook-times`` markers.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from helpers.mode import DEFAULT_MODE, MODE_VARIABLE

TIMINGS_FILE = Path("build/timings/notebooks.json")
BEGIN_MARKER = "<!-- notebook-times:begin -->"
END_MARKER = "<!-- notebook-times:end -->"

_seconds: dict[str, float] = defaultdict(float)
_failed: set[str] = set()


def pytest_runtest_logreport(report: Any) -> None:
    """Add each notebook cell's setup/call/teardown time to its notebook's total."""
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _seconds[path] += report.duration
        if report.failed:
            _failed.add(path)


def markdown_table(timings: dict[str, Any]) -> str:
    """The timing table as Markdown, with the machine and mode it was measured on."""
    lines = [
        "| notebook | seconds | result |",
        "| --- | ---: | --- |",
        *(f"| `{row['notebook']}` | {row['seconds']:.0f} | {row['result']} |" for row in timings["notebooks"]),
        f"| **total** | **{timings['total_seconds']:.0f}** | |",
        "",
        f"Measured by `make test` in {timings['mode']} mode on {timings['machine']}.",
    ]
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the table and write it to ``build/timings/``."""
    if not _seconds:
        return
    timings = {
        "mode": os.environ.get(MODE_VARIABLE, DEFAULT_MODE),
        "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores, Python {platform.python_version()}",
        "notebooks": [
            {"notebook": path, "seconds": round(seconds, 1), "result": "failed" if path in _failed else "passed"}
            for path, seconds in sorted(_seconds.items())
        ],
        "total_seconds": round(sum(_seconds.values()), 1),
    }
    TIMINGS_FILE.parent.mkdir(parents=True, exist_ok=True)
    TIMINGS_FILE.write_text(json.dumps(timings, indent=1) + "\n")
    table = markdown_table(timings)
    TIMINGS_FILE.with_suffix(".md").write_text(table + "\n")
    terminalreporter.write_sep("=", "notebook timings")
    terminalreporter.write_line(table)


def update_readme(readme: Path, timings_file: Path = TIMINGS_FILE) -> None:
    """Replace the README's table between the markers with the one measured last."""
    table = markdown_table(json.loads(timings_file.read_text()))
    text = readme.read_text()
    start, end = text.index(BEGIN_MARKER) + len(BEGIN_MARKER), text.index(END_MARKER)
    readme.write_text(text[:start] + "\n" + table + "\n" + text[end:])


if __name__ == "__main__":
    update_readme(Path(sys.argv[1] if len(sys.argv) > 1 else "README.md"))
