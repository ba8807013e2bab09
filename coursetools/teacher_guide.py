"""The teacher guide's measured parts: minutes per notebook and the agendas, generated, never typed.

Every test run writes its notebook timings to ``build/timings/*.json`` (:mod:`coursetools.timing_report`:
mode, machine and seconds per notebook). ``python -m coursetools.teacher_guide`` (``make teacher-guide``)

1. records the passed notebooks of those files in ``docs/timings.json``, the committed archive keyed
   by mode and device (``fast-cpu``, ``full-cpu``, ``fast-gpu``, ``full-gpu``), so runs made on
   different machines add up instead of overwriting each other;
2. rewrites the generated sections of ``docs/teacher_guide.md`` (between ``teacher-guide:...``
   markers): the minutes table, with "not measured yet" and the command to measure it wherever a
   figure is missing, and the one-day and two-day agendas computed from the measured minutes.

The device is ``--device`` if given, else the timings file's ``device`` field, else ``gpu`` if its
machine mentions a GPU, else whether TensorFlow can use an NVIDIA GPU on this machine
(:func:`detect_device`): run it on the machine that ran the tests, or say ``--device``.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import math
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coursetools.edition import cell_source, find_notebooks, is_solution, read_notebook

GUIDE = Path("docs/teacher_guide.md")
ARCHIVE = Path("docs/timings.json")
TIMINGS_DIR = Path("build/timings")
NOTEBOOKS = Path("notebooks")
COLUMNS = (("fast", "cpu"), ("full", "cpu"), ("fast", "gpu"), ("full", "gpu"))
NOT_MEASURED = "not measured yet"
FAST_BUDGET_MIN = 1.5  # the course's design budget for a notebook in fast mode on a 2-core CPU
HOW_TO_MEASURE = {
    ("fast", "cpu"): "`make test`, then `make teacher-guide`",
    ("full", "cpu"): "`COURSE_MODE=full make test`, then `make teacher-guide`",
    ("fast", "gpu"): "on an NVIDIA machine, `make gpu` once, `COURSE_MODE=fast .venv/bin/python -m pytest notebooks`, "
    "then `make teacher-guide DEVICE=gpu`",
    ("full", "gpu"): "on an NVIDIA machine, `make gpu`, then `make teacher-guide DEVICE=gpu`",
}


def markers(section: str) -> tuple[str, str]:
    """The begin and end markers of a generated section of the guide."""
    return f"<!-- teacher-guide:{section}:begin -->", f"<!-- teacher-guide:{section}:end -->"


def detect_device() -> str:
    """``gpu`` where TensorFlow uses an NVIDIA GPU here: ``nvidia-smi`` lists one and the CUDA libraries
    of ``make gpu`` (``tensorflow[and-cuda]``) are installed; else ``cpu``."""
    if shutil.which("nvidia-smi") is None:
        return "cpu"
    listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
    cuda = any(
        (distribution.metadata["Name"] or "").lower().startswith("nvidia-cuda-runtime")
        for distribution in importlib.metadata.distributions()
    )
    return "gpu" if listed.returncode == 0 and "GPU" in listed.stdout and cuda else "cpu"


def device_of(timings: dict[str, Any], override: str | None = None) -> str:
    """``cpu`` or ``gpu``: ``override``, else the file's ``device``, else whether its machine names a GPU,
    else :func:`detect_device` (the timings were measured on this machine)."""
    if override:
        return override
    if timings.get("device"):
        return str(timings["device"]).lower()
    return "gpu" if "gpu" in str(timings.get("machine", "")).lower() else detect_device()


def load_archive(path: Path = ARCHIVE) -> dict[str, dict[str, dict[str, Any]]]:
    """The archive of measured seconds: ``{"fast-cpu": {"notebooks/00_setup.ipynb": {...}}}``."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def record(timings_files: Iterable[Path], archive_path: Path = ARCHIVE, device: str | None = None) -> list[str]:
    """Add the passed notebooks of each timings file to the archive (newer figures replace older ones)."""
    archive = load_archive(archive_path)
    lines = []
    for path in timings_files:
        timings = json.loads(path.read_text(encoding="utf-8"))
        key = f"{timings['mode']}-{device_of(timings, device)}"
        measured = datetime.date.fromtimestamp(path.stat().st_mtime).isoformat()
        rows = [row for row in timings.get("notebooks", []) if row.get("result") == "passed"]
        for row in rows:
            archive.setdefault(key, {})[row["notebook"]] = {
                "seconds": row["seconds"],
                "machine": timings.get("machine", "unknown machine"),
                "measured": measured,
            }
        skipped = len(timings.get("notebooks", [])) - len(rows)
        lines.append(
            f"recorded {len(rows)} notebooks as {key} from {path}" + (f" ({skipped} failed, skipped)" * bool(skipped))
        )
    archive_path.parent.mkdir(parents=True, exist_ok=True)
    archive_path.write_text(json.dumps(archive, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return lines


@dataclass(frozen=True)
class NotebookInfo:
    """What the guide says about a notebook: its path in the course, title, exercises and words of prose."""

    path: str
    title: str
    exercises: int
    words: int  # words in its markdown cells: how much there is to explain


def notebook_info(path: Path) -> NotebookInfo:
    """Title (the first ``# `` heading of the first markdown cell), exercise count and prose words of a notebook."""
    cells = read_notebook(path)["cells"]
    first_markdown = next((cell_source(cell) for cell in cells if cell["cell_type"] == "markdown"), "")
    title = next((line[2:].strip() for line in first_markdown.splitlines() if line.startswith("# ")), path.stem)
    words = sum(len(cell_source(cell).split()) for cell in cells if cell["cell_type"] == "markdown")
    return NotebookInfo(f"{NOTEBOOKS.as_posix()}/{path.name}", title, sum(map(is_solution, cells)), words)


def minutes_text(seconds: float) -> str:
    """Minutes with one decimal below ten, whole minutes above."""
    minutes = seconds / 60
    return f"{minutes:.1f}" if minutes < 10 else f"{minutes:.0f}"


def times_section(archive: dict[str, Any], notebooks: Sequence[NotebookInfo]) -> str:
    """The minutes table (one row per notebook, one column per mode and device) and its provenance."""
    header = " | ".join(f"{mode} · {device.upper()}" for mode, device in COLUMNS)
    lines = [f"| notebook | exercises | {header} |", "| --- | ---: |" + " ---: |" * len(COLUMNS)]
    for info in notebooks:
        cells = []
        for mode, device in COLUMNS:
            entry = archive.get(f"{mode}-{device}", {}).get(info.path)
            cells.append(minutes_text(entry["seconds"]) if entry else NOT_MEASURED)
        lines.append(f"| [{info.title}](../{info.path}) | {info.exercises} | {' | '.join(cells)} |")
    lines += ["", "Minutes of execution (Run All), as measured by the test run on:", ""]
    for mode, device in COLUMNS:
        entries = [archive.get(f"{mode}-{device}", {}).get(info.path) for info in notebooks]
        machines = sorted({f"{entry['machine']} ({entry['measured']})" for entry in entries if entry})
        missing = sum(entry is None for entry in entries)
        where = "; ".join(machines) if machines else NOT_MEASURED
        todo = f" To measure {'the missing ones' if machines else 'them'}: {HOW_TO_MEASURE[mode, device]}."
        lines.append(f"- **{mode} · {device.upper()}**: {where}.{todo if missing else ''}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Plan:
    """How a workshop format spends its time: days, the pace of the walkthrough, minutes per exercise.

    The walkthrough of a notebook takes time in proportion to its content: its words of prose at
    ``words_per_minute`` (explaining, showing the cells, answering questions), at least ``min_talk``.
    """

    days: int
    words_per_minute: int
    exercise_min: int
    min_talk: int = 10

    def talk_minutes(self, info: NotebookInfo) -> float:
        return max(self.min_talk, info.words / self.words_per_minute)


ONE_DAY = Plan(days=1, words_per_minute=150, exercise_min=6)
TWO_DAY = Plan(days=2, words_per_minute=100, exercise_min=12)
DAY_START, DAY_END = 9 * 60, 17 * 60
BREAKS = ((10 * 60 + 30, 15, "Break"), (12 * 60 + 30, 60, "Lunch"), (15 * 60, 15, "Break"))
OPENING = ("Welcome; everyone installed from the workshop pack (`sh install.sh`)", 15)
OPEN_LAB = "Open lab: the variations the notebooks suggest, your own data, questions"
OPEN_LAB_MIN = 30  # shorter gaps stay as slack
CLOSING = ("Recap, questions, `make progress` to see the exercises passed", 15)


def run_minutes(archive: dict[str, Any], info: NotebookInfo, mode: str) -> tuple[float, bool]:
    """Measured CPU minutes of a notebook in ``mode``, and whether it was measured (else the fast budget)."""
    entry = archive.get(f"{mode}-cpu", {}).get(info.path)
    return (entry["seconds"] / 60, True) if entry else (FAST_BUDGET_MIN, False)


def clock(minutes: int) -> str:
    """``HH:MM`` of minutes after midnight."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def agenda(archive: dict[str, Any], notebooks: Sequence[NotebookInfo], plan: Plan) -> str:
    """A timetable: opening, one slot per notebook (talk + measured run time + exercises), breaks, closing.

    The one-day format runs fast mode; the two-day format runs full mode where every notebook's
    full-mode CPU time is measured (else fast mode, and it says so). Slots round up to 5 minutes;
    time left at the end of a day (30 minutes or more) becomes an open lab.
    """
    full_measured = bool(notebooks) and all(run_minutes(archive, info, "full")[1] for info in notebooks)
    mode = "full" if plan.days > 1 and full_measured else "fast"
    sessions = [OPENING]
    for info in notebooks:
        run, measured = run_minutes(archive, info, mode)
        slot = 5 * math.ceil((plan.talk_minutes(info) + run + plan.exercise_min * info.exercises) / 5)
        run_text = f"{run:.1f} min measured" if measured else f"not measured yet, {FAST_BUDGET_MIN} min budget assumed"
        sessions.append(
            (f"{info.title}: walkthrough, Run All ({mode} mode, {run_text}), {info.exercises} exercises", slot)
        )
    total = sum(minutes for _, minutes in sessions) + CLOSING[1]
    split = total / plan.days  # later days start once the earlier ones hold their share
    lines = ["| day | time | session | minutes |", "| ---: | --- | --- | ---: |"]
    day, now, done, taken = 1, DAY_START, 0, set()

    def take_breaks() -> None:
        nonlocal now
        for start, length, name in BREAKS:
            if start <= now and start not in taken:
                lines.append(f"| {day} | {clock(now)} | {name} | {length} |")
                now += length
                taken.add(start)

    def open_lab(until: int) -> None:
        """Fill the time up to ``until`` with open-lab slots, around the breaks that fall in it."""
        nonlocal now
        while True:
            take_breaks()
            upcoming = [start for start, _, _ in BREAKS if start not in taken and now < start < until]
            end = min(upcoming, default=until)
            if end - now >= OPEN_LAB_MIN:
                lines.append(f"| {day} | {clock(now)} | {OPEN_LAB} | {end - now} |")
            elif not upcoming:
                return
            now = max(now, end)

    for text, minutes in [*sessions, CLOSING]:
        if day < plan.days and done >= split * day:
            open_lab(DAY_END)
            day, now, taken = day + 1, DAY_START, set()
        if (text, minutes) == CLOSING:
            open_lab(DAY_END - minutes)
        take_breaks()
        lines.append(f"| {day} | {clock(now)} | {text} | {minutes} |")
        now, done = now + minutes, done + minutes
    lines.append(f"| {day} | {clock(now)} | End | |")
    if now > DAY_END:
        lines.append(f"\nThis plan runs past {clock(DAY_END)}: set the last exercises as homework, or take two days.")
    if plan.days > 1 and mode == "fast":
        lines.append(f"\nFull-mode CPU times are {NOT_MEASURED} for all notebooks, so this plan uses fast mode.")
    return "\n".join(lines)


def course_notebooks(folder: Path = NOTEBOOKS) -> list[NotebookInfo]:
    """The guide's view of every notebook in the course folder, in course order."""
    return [notebook_info(path) for path in find_notebooks([folder])]


def sections(archive: dict[str, Any], notebooks: Sequence[NotebookInfo]) -> dict[str, str]:
    """Every generated section of the guide, by marker name."""
    return {
        "times": times_section(archive, notebooks),
        "one-day": agenda(archive, notebooks, ONE_DAY),
        "two-day": agenda(archive, notebooks, TWO_DAY),
    }


def render(text: str, generated: dict[str, str]) -> str:
    """``text`` with each generated section replaced between its markers."""
    for name, body in generated.items():
        begin, end = markers(name)
        if begin not in text or end not in text:
            raise ValueError(f"the guide has no {begin} ... {end} markers")
        start, stop = text.index(begin) + len(begin), text.index(end)
        text = text[:start] + "\n" + body + "\n" + text[stop:]
    return text


def main(argv: list[str] | None = None) -> int:
    """Command line; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m coursetools.teacher_guide", description=__doc__.splitlines()[0])
    parser.add_argument("timings", nargs="*", type=Path, help=f"timings files (default: {TIMINGS_DIR}/*.json)")
    parser.add_argument("--device", choices=("cpu", "gpu"), help="the device the timings were measured on")
    parser.add_argument("--no-record", action="store_true", help="only regenerate the guide from the archive")
    parser.add_argument("--guide", type=Path, default=GUIDE)
    parser.add_argument("--archive", type=Path, default=ARCHIVE)
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS)
    arguments = parser.parse_args(argv)
    if not arguments.no_record:
        files = arguments.timings or sorted(TIMINGS_DIR.glob("*.json"))
        if not files:
            print(f"error: no timings in {TIMINGS_DIR}/: run `make test` first (or pass --no-record)", file=sys.stderr)
            return 1
        print("\n".join(record(files, arguments.archive, arguments.device)))
    generated = sections(load_archive(arguments.archive), course_notebooks(arguments.notebooks))
    arguments.guide.write_text(render(arguments.guide.read_text(encoding="utf-8"), generated), encoding="utf-8")
    print(f"wrote {arguments.guide}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
