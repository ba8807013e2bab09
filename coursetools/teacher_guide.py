"""The teacher guide's measured parts: minutes per notebook and the agendas, generated, never typed.

Every test run writes its notebook timings to ``build/timings/*.json`` (:mod:`coursetools.timing_report`:
mode, machine and seconds per notebook). ``python -m coursetools.teacher_guide`` (``make teacher-guide``)

1. records the passed notebooks of those files in ``docs/timings.json``, the committed archive keyed
   by mode and device (``fast-cpu``, ``full-cpu``, ``fast-gpu``, ``full-gpu``), so runs made on
   different machines add up instead of overwriting each other;
2. rewrites the generated sections of ``docs/teacher_guide.md`` (between ``teacher-guide:...``
   markers): the minutes table, with "not measured yet" and the command to measure it wherever a
   figure is missing, and the one-day, two-day and five-day agendas. Each notebook's session is its
   reading time (markdown words at WORDS_PER_MINUTE), its measured running time, EXERCISE_MIN per
   warm-up exercise and BUILD_EXERCISE_MIN per build exercise, rounded up to SLOT_MIN; the days run
   09:00-17:00, and a plan that does not fit says so.

``--no-record`` skips step 1: the guide is rebuilt from ``docs/timings.json`` and the notebooks alone.

The device is ``--device`` if given, else the timings file's ``device`` field, else ``gpu`` if its
machine mentions a GPU, else whether TensorFlow can use an NVIDIA GPU on this machine
(:func:`detect_device`): run it on the machine that ran the tests, or say ``--device``.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import itertools
import json
import math
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coursetools.edition import BUILD, cell_source, exercise_kinds, find_notebooks, is_solution, read_notebook

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
    builds: int = 0  # how many of the exercises are build exercises (the others are warm-ups)


def notebook_info(path: Path) -> NotebookInfo:
    """Title (the first ``# `` heading of the first markdown cell), exercise and build exercise counts and prose
    words of a notebook."""
    notebook = read_notebook(path)
    cells = notebook["cells"]
    first_markdown = next((cell_source(cell) for cell in cells if cell["cell_type"] == "markdown"), "")
    title = next((line[2:].strip() for line in first_markdown.splitlines() if line.startswith("# ")), path.stem)
    words = sum(len(cell_source(cell).split()) for cell in cells if cell["cell_type"] == "markdown")
    builds = sum(kind == BUILD for kind in exercise_kinds(notebook).values())
    return NotebookInfo(f"{NOTEBOOKS.as_posix()}/{path.name}", title, sum(map(is_solution, cells)), words, builds)


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


WORDS_PER_MINUTE = 200  # reading pace: a notebook's reading time is the words of its markdown cells at this pace
EXERCISE_MIN = 10  # minutes per warm-up exercise: read it, write the answer, run its check, a word on the answer
BUILD_EXERCISE_MIN = 35  # minutes per build exercise: the middle of the estimates in the guide's table
SLOT_MIN = 5  # every session rounds up to a multiple of this many minutes
DAY_START, DAY_END = 9 * 60, 17 * 60
BREAKS = ((10 * 60 + 30, 15, "Break"), (12 * 60 + 30, 60, "Lunch"), (15 * 60, 15, "Break"))
OPENING = ("Welcome; everyone installed from the workshop pack (`sh install.sh`)", 15)
CLOSING = ("Recap, questions, `make progress` to see the exercises passed", 15)
OPEN_LAB = "Open lab: the variations the notebooks suggest, your own data, questions"
CATCH_UP = "Catch-up: finish the exercises, questions"
OPEN_LAB_MIN = 30  # a free gap shorter than this is a catch-up, not an open lab


@dataclass(frozen=True)
class Session:
    """A notebook's session in an agenda: reading its prose, running it, doing its exercises."""

    info: NotebookInfo
    mode: str  # the course mode of ``running``
    running: float  # minutes of Run All on a CPU as measured, or FAST_BUDGET_MIN where not measured
    measured: bool
    per_exercise: int = EXERCISE_MIN

    @property
    def reading(self) -> float:
        """Minutes to read its markdown cells at WORDS_PER_MINUTE."""
        return self.info.words / WORDS_PER_MINUTE

    @property
    def exercise_minutes(self) -> int:
        """``per_exercise`` for each warm-up, BUILD_EXERCISE_MIN for each build exercise."""
        return self.per_exercise * (self.info.exercises - self.info.builds) + BUILD_EXERCISE_MIN * self.info.builds

    @property
    def exercise_text(self) -> str:
        """``2 × 10 + 1 × 35``: warm-ups and build exercises with their minutes each."""
        warm_ups = f"{self.info.exercises - self.info.builds} × {self.per_exercise}"
        return warm_ups + (f" + {self.info.builds} × {BUILD_EXERCISE_MIN}" if self.info.builds else "")

    @property
    def minutes(self) -> int:
        """Reading + running + exercises, rounded up to SLOT_MIN."""
        return SLOT_MIN * math.ceil((self.reading + self.running + self.exercise_minutes) / SLOT_MIN)


def session(archive: dict[str, Any], info: NotebookInfo, full: bool, per_exercise: int = EXERCISE_MIN) -> Session:
    """A notebook's session: full mode where ``full`` and its full-mode CPU time is measured, else fast mode
    (measured, or FAST_BUDGET_MIN assumed where not measured yet)."""
    for mode in ("full", "fast") if full else ("fast",):
        entry = archive.get(f"{mode}-cpu", {}).get(info.path)
        if entry:
            return Session(info, mode, entry["seconds"] / 60, True, per_exercise)
    return Session(info, "fast", FAST_BUDGET_MIN, False, per_exercise)


@dataclass(frozen=True)
class Plan:
    """A workshop format: how many 09:00-17:00 days, which run times, and whether it covers every notebook.

    A plan that covers every notebook splits them in course order into consecutive days; the one-day
    plan takes the notebooks from 00 on, in course order, while the day still ends by 17:00.
    """

    name: str
    days: int
    full_mode: bool  # full-mode run times where measured (else fast mode)
    covers_all: bool


ONE_DAY = Plan("one-day", days=1, full_mode=False, covers_all=False)
TWO_DAY = Plan("two-day", days=2, full_mode=True, covers_all=True)
FIVE_DAY = Plan("five-day", days=5, full_mode=True, covers_all=True)
PLANS = (ONE_DAY, TWO_DAY, FIVE_DAY)


@dataclass(frozen=True)
class Row:
    """A row of an agenda: a session, break, open lab, welcome or recap; ``minutes`` is None on the End row."""

    day: int
    start: int  # minutes after midnight
    text: str
    minutes: int | None
    session: Session | None = None


@dataclass(frozen=True)
class Day:
    rows: tuple[Row, ...]
    busy_until: int  # when its last notebook session ends (its welcome, if none)

    @property
    def end(self) -> int:
        return self.rows[-1].start

    @property
    def sessions(self) -> list[Session]:
        return [row.session for row in self.rows if row.session]


def plan_day(number: int, sessions: Sequence[Session], first: bool, last: bool) -> Day:
    """One day: the welcome (first day), the sessions back to back, each break at the first session boundary
    at or after its time, then free time up to 17:00 less the recap (last day), the recap, and End.

    Free time before a break or the recap is an open lab (a catch-up when under OPEN_LAB_MIN minutes), so
    every row starts where the one before ends.
    """
    rows: list[Row] = []
    now = DAY_START
    pending = list(BREAKS)

    def add(text: str, minutes: int, item: Session | None = None) -> None:
        nonlocal now
        rows.append(Row(number, now, text, minutes, item))
        now += minutes

    def free(until: int) -> None:
        if until > now:
            add(OPEN_LAB if until - now >= OPEN_LAB_MIN else CATCH_UP, until - now)

    if first:
        add(*OPENING)
    for item in sessions:
        while pending and pending[0][0] <= now:
            _, length, name = pending.pop(0)
            add(name, length)
        add(item.info.title, item.minutes, item)
    busy_until = now
    for start, length, name in pending:
        free(start)
        add(name, length)
    free(DAY_END - CLOSING[1] * last)
    if last:
        add(*CLOSING)
    rows.append(Row(number, now, "End", None))
    return Day(tuple(rows), busy_until)


def clock(minutes: int) -> str:
    """``HH:MM`` of minutes after midnight."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def overrun(day: Day) -> int:
    """Minutes a day ends after 17:00 (0 if it ends by then)."""
    return max(0, day.end - DAY_END)


def split_days(sessions: Sequence[Session], days: int) -> list[Day]:
    """Every session, in course order, over ``days`` consecutive days: of all the ways to cut the course
    into consecutive days, the one where the days before the last end by 17:00 if they can, then the last
    day runs over as little as it can, then the busiest day's sessions end earliest (then the most even)."""

    def score(plan: list[Day]) -> tuple[int, int, int, int]:
        busy = [day.busy_until - DAY_START for day in plan]
        return sum(map(overrun, plan[:-1])), overrun(plan[-1]), max(busy), sum(b * b for b in busy)

    best: list[Day] | None = None
    for cuts in itertools.combinations_with_replacement(range(len(sessions) + 1), days - 1):
        bounds = (0, *cuts, len(sessions))
        plan = [
            plan_day(day + 1, sessions[bounds[day] : bounds[day + 1]], day == 0, day == days - 1) for day in range(days)
        ]
        if best is None or score(plan) < score(best):
            best = plan
    assert best is not None
    return best


def fill_day(sessions: Sequence[Session]) -> Day:
    """One day: the sessions in course order from the first, while the day still ends by 17:00."""
    day = plan_day(1, [], True, True)
    for count in range(1, len(sessions) + 1):
        longer = plan_day(1, sessions[:count], True, True)
        if longer.end > DAY_END:
            break
        day = longer
    return day


def label(info: NotebookInfo) -> str:
    """A notebook's short name: ``05a`` for "05a · Evaluating ..."."""
    return info.title.split(" · ")[0] if " · " in info.title else Path(info.path).stem


def labels(sessions: Sequence[Session]) -> str:
    return ", ".join(label(item.info) for item in sessions) or "none"


def plan_agenda(
    archive: dict[str, Any], notebooks: Sequence[NotebookInfo], plan: Plan, per_exercise: int = EXERCISE_MIN
) -> list[Day]:
    """The days of a plan, each a timetable of rows."""
    sessions = [session(archive, info, plan.full_mode, per_exercise) for info in notebooks]
    return split_days(sessions, plan.days) if plan.covers_all else [fill_day(sessions)]


def minutes_per_exercise_that_fit(archive: dict[str, Any], notebooks: Sequence[NotebookInfo], plan: Plan) -> int:
    """The most minutes per exercise with which every day of ``plan`` ends by 17:00 (0: none)."""
    return next(
        (
            minutes
            for minutes in range(EXERCISE_MIN, 0, -1)
            if not any(map(overrun, plan_agenda(archive, notebooks, plan, minutes)))
        ),
        0,
    )


def row_text(row: Row) -> str:
    """A table row: day, start, session, its reading, running and exercise minutes, its length."""
    if row.session is None:
        cells = [row.text, "", "", "", "" if row.minutes is None else str(row.minutes)]
    else:
        item = row.session
        running = f"{item.running:.1f} ({item.mode}" + ("" if item.measured else f", {NOT_MEASURED}: budget") + ")"
        cells = [
            f"[{item.info.title}](../{item.info.path})",
            f"{item.reading:.1f}",
            running,
            item.exercise_text,
            str(item.minutes),
        ]
    return f"| {row.day} | {clock(row.start)} | " + " | ".join(cells) + " |"


def late_text(day: Day) -> str:
    """How late a day ends, and which of its last notebooks it would leave out to end by 17:00."""
    number, sessions = day.rows[0].day, day.sessions
    first, last = day.rows[0].text == OPENING[0], day.rows[-2].text == CLOSING[0]
    kept = next(
        count
        for count in range(len(sessions), -1, -1)
        if plan_day(number, sessions[:count], first, last).end <= DAY_END
    )
    return (
        f"day {number} ends at {clock(day.end)}, {overrun(day)} minutes late; to end by 17:00 it would leave out "
        f"{labels(sessions[kept:])} (homework, or another day)"
    )


def agenda(archive: dict[str, Any], notebooks: Sequence[NotebookInfo], plan: Plan) -> str:
    """A plan's generated section: its timetable, what each day covers, and whether it fits 09:00-17:00."""
    days = plan_agenda(archive, notebooks, plan)
    lines = [
        "| day | start | session | reading | running | exercises | minutes |",
        "| ---: | --- | --- | ---: | --- | ---: | ---: |",
        *(row_text(row) for day in days for row in day.rows),
        "",
    ]
    covered = [item for day in days for item in day.sessions]
    if not plan.covers_all:
        left = [session(archive, info, plan.full_mode) for info in notebooks[len(covered) :]]
        lines.append(
            f"Covers notebooks {labels(covered)} ({len(covered)} of {len(notebooks)}) and ends at "
            f"{clock(days[0].end)}; leaves {labels(left)} for another day: the next one, "
            f"{labels(left[:1])}, takes {left[0].minutes if left else 0} minutes, more than the day has left."
            if left
            else f"Covers every notebook ({len(covered)}) and ends at {clock(days[0].end)}."
        )
    else:
        for day in days:
            lines.append(
                f"- Day {day.rows[0].day}: notebooks {labels(day.sessions)}; sessions until "
                f"{clock(day.busy_until)}, ends at {clock(day.end)}."
            )
        late = [day for day in days if overrun(day)]
        if late:
            fitting = minutes_per_exercise_that_fit(archive, notebooks, plan)
            lines += [
                "",
                f"**This plan does not fit {plan.days} days of 09:00-17:00** with this model: "
                + "; ".join(map(late_text, late))
                + (f". With {fitting} minutes per warm-up instead of {EXERCISE_MIN} it would fit." if fitting else "."),
            ]
        fast = [item for item in covered if item.mode == "fast"]
        if plan.full_mode and fast:
            lines += ["", f"Full-mode CPU times are {NOT_MEASURED} for {labels(fast)}: their sessions use fast mode."]
    if any(not item.measured for item in covered):
        lines += ["", f"Where no run time is measured, {FAST_BUDGET_MIN} minutes (the fast-mode budget) is assumed."]
    return "\n".join(lines)


def course_notebooks(folder: Path = NOTEBOOKS) -> list[NotebookInfo]:
    """The guide's view of every notebook in the course folder, in course order."""
    return [notebook_info(path) for path in find_notebooks([folder])]


def sections(archive: dict[str, Any], notebooks: Sequence[NotebookInfo]) -> dict[str, str]:
    """Every generated section of the guide, by marker name."""
    return {
        "times": times_section(archive, notebooks),
        **{plan.name: agenda(archive, notebooks, plan) for plan in PLANS},
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
