"""The teacher guide's generated parts: measured minutes, "not measured yet" elsewhere, agendas.

The last test checks the committed guide: its generated sections are what the archive of measured
timings (``docs/timings.json``) and the notebooks present give (``make teacher-guide`` updates it).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path

import pytest

from coursetools import teacher_guide
from coursetools.teacher_guide import NotebookInfo

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = [
    NotebookInfo("notebooks/00_setup.ipynb", "00 · Setting up", 2, 3000),
    NotebookInfo("notebooks/01_x.ipynb", "01 · Tensors", 4, 3000),
    NotebookInfo("notebooks/02_y.ipynb", "02 · MLP", 3, 3000),
]


def timings_file(path: Path, mode: str, machine: str, rows: dict[str, tuple[float, str]], **extra: str) -> Path:
    """A timings file as the test run writes it (``build/timings/notebooks.json``)."""
    notebooks = [{"notebook": name, "seconds": seconds, "result": result} for name, (seconds, result) in rows.items()]
    path.write_text(json.dumps({"mode": mode, "machine": machine, "notebooks": notebooks, **extra}))
    return path


def test_record_keeps_passed_notebooks_by_mode_and_device_and_merges_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(teacher_guide, "detect_device", lambda: "cpu")
    archive = tmp_path / "timings.json"
    fast = timings_file(
        tmp_path / "a.json",
        "fast",
        "x86_64 CPU, 2 cores",
        {"notebooks/00_setup.ipynb": (12.0, "passed"), "notebooks/01_x.ipynb": (50.0, "failed")},
    )
    lines = teacher_guide.record([fast], archive)
    assert lines == [f"recorded 1 notebooks as fast-cpu from {fast} (1 failed, skipped)"]
    full = timings_file(
        tmp_path / "b.json", "full", "x86_64", {"notebooks/01_x.ipynb": (600.0, "passed")}, device="GPU"
    )
    teacher_guide.record([full], archive)
    rerun = timings_file(tmp_path / "c.json", "fast", "x86_64 CPU", {"notebooks/02_y.ipynb": (30.0, "passed")})
    teacher_guide.record([rerun], archive, device="cpu")
    stored = teacher_guide.load_archive(archive)
    assert set(stored) == {"fast-cpu", "full-gpu"}
    assert set(stored["fast-cpu"]) == {"notebooks/00_setup.ipynb", "notebooks/02_y.ipynb"}
    assert stored["fast-cpu"]["notebooks/00_setup.ipynb"]["seconds"] == 12.0
    assert stored["full-gpu"]["notebooks/01_x.ipynb"]["machine"] == "x86_64"
    assert teacher_guide.device_of({"machine": "x86_64 CPU + NVIDIA H100 GPU"}) == "gpu"
    assert teacher_guide.device_of({"machine": "x86_64 CPU"}, "gpu") == "gpu"


def test_without_nvidia_smi_the_device_is_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(teacher_guide.shutil, "which", lambda name: None)
    assert teacher_guide.detect_device() == "cpu"


def test_times_table_shows_measured_minutes_and_says_how_to_measure_the_rest() -> None:
    archive = {
        "fast-cpu": {
            "notebooks/00_setup.ipynb": {"seconds": 9.0, "machine": "2-core CPU", "measured": "2025-01-02"},
            "notebooks/01_x.ipynb": {"seconds": 900.0, "machine": "2-core CPU", "measured": "2025-01-02"},
        }
    }
    table = teacher_guide.times_section(archive, NOTEBOOKS)
    rows = {
        line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]] for line in table.splitlines()[2:5]
    }
    assert rows["[00 · Setting up](../notebooks/00_setup.ipynb)"] == ["2", "0.1", *["not measured yet"] * 3]
    assert rows["[01 · Tensors](../notebooks/01_x.ipynb)"][1] == "15"
    assert rows["[02 · MLP](../notebooks/02_y.ipynb)"][1:] == ["not measured yet"] * 4
    assert "2-core CPU (2025-01-02). To measure the missing ones: `make test`" in table
    assert "**full · GPU**: not measured yet. To measure them: on an NVIDIA machine, `make gpu`" in table


WORDS_PER_MINUTE = 200  # the model the guide states: reading pace, minutes per exercise, 5-minute slots
ROW = re.compile(r"\| (\d+) \| (\d\d):(\d\d) \| (.*) \| (.*) \| (.*) \| (.*) \| (\d*) \|")
LINK = re.compile(r"\[(.*)\]\(\.\./(notebooks/[^)]+)\)")
RUNNING = re.compile(r"(\d+\.\d) \((fast|full)")


BUILD_TITLE = re.compile(r"\*\*Build exercise (\d+)")


def notebook_facts(folder: Path) -> dict[str, tuple[int, int, int]]:
    """(words of markdown, exercises, build exercises) of every notebook file, counted here, not by the module
    under test."""
    facts = {}
    for path in sorted(folder.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        text = ["".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"] for cell in cells]
        words = sum(
            len(source.split()) for cell, source in zip(cells, text, strict=True) if cell["cell_type"] == "markdown"
        )
        exercises = sum("solution" in cell.get("metadata", {}).get("tags", []) for cell in cells)
        markdown = [source for cell, source in zip(cells, text, strict=True) if cell["cell_type"] == "markdown"]
        builds = len({number for source in markdown for number in BUILD_TITLE.findall(source)})
        facts[f"notebooks/{path.name}"] = (words, exercises, builds)
    return facts


def exercise_minutes(count: int, builds: int) -> int:
    return (count - builds) * teacher_guide.EXERCISE_MIN + builds * teacher_guide.BUILD_EXERCISE_MIN


def exercise_text(count: int, builds: int) -> str:
    text = f"{count - builds} × {teacher_guide.EXERCISE_MIN}"
    return text + (f" + {builds} × {teacher_guide.BUILD_EXERCISE_MIN}" if builds else "")


def agenda_problems(
    text: str, facts: dict[str, tuple[int, int, int]], archive: dict, days: int, covers_all: bool
) -> list[str]:
    """Everything wrong with a generated agenda; empty when it adds up.

    Rows follow each other (start + minutes = next start) from 09:00 to an End row, with the welcome on
    day 1, a break, lunch and a break every day at or after 10:30, 12:30 and 15:00, and the recap last;
    every day ends by 17:00 unless the text says the plan does not fit and by how much; each notebook
    session lasts reading (words at 200 a minute) + running (fast mode, or full mode where measured in the
    multi-day plans) + exercises (EXERCISE_MIN per warm-up, BUILD_EXERCISE_MIN per build exercise), rounded
    up to 5; a multi-day plan has every notebook
    once, in course order; the one-day plan has notebooks from 00 on, in course order, and the next one
    would not fit in its free time.
    """
    problems: list[str] = []
    rows = [match.groups() for line in text.splitlines() if (match := ROW.fullmatch(line))]
    by_day: dict[int, list[tuple[int, str, list[str], str]]] = {}
    for day, hours, minutes, session, *parts, length in rows:
        by_day.setdefault(int(day), []).append((int(hours) * 60 + int(minutes), session, parts, length))
    if sorted(by_day) != list(range(1, days + 1)):
        return [f"days {sorted(by_day)}, expected 1 to {days}"]
    order = sorted(facts)
    seen: list[str] = []
    free = 0
    for day, day_rows in by_day.items():
        if day_rows[0][0] != 9 * 60:
            problems.append(f"day {day} starts at {day_rows[0][0]} minutes, not 09:00")
        for (start, session, _, length), (following, *_) in itertools.pairwise(day_rows):
            if not length or start + int(length) != following:
                problems.append(f"day {day}: {session} at {start} + {length or '?'} minutes is not {following}")
        end, last, _, last_length = day_rows[-1]
        if last != "End" or last_length:
            problems.append(f"day {day} does not close with an End row")
        if end > 17 * 60 and (
            not covers_all
            or f"day {day} ends at {end // 60:02d}:{end % 60:02d}, {end - 17 * 60} minutes late" not in text
        ):
            problems.append(f"day {day} ends at {end} minutes, after 17:00, and the guide does not say so")
        names = [session for _, session, _, _ in day_rows]
        breaks = [(start, session) for start, session, _, _ in day_rows if session in ("Break", "Lunch")]
        if [name for _, name in breaks] != ["Break", "Lunch", "Break"]:
            problems.append(f"day {day} has breaks {breaks}, not a break, lunch and a break")
        elif any(start < due for (start, _), due in zip(breaks, (10 * 60 + 30, 12 * 60 + 30, 15 * 60), strict=True)):
            problems.append(f"day {day} has a break before its time: {breaks}")
        if (day == 1) != names[0].startswith("Welcome") or (day == days) != names[-2].startswith("Recap"):
            problems.append(f"day {day} has the welcome or recap misplaced: {names}")
        free += sum(int(length) for _, session, _, length in day_rows if session.startswith(("Open lab", "Catch-up")))
        for _, session, (reading, running, exercises), length in day_rows:
            link = LINK.fullmatch(session)
            if not link:
                continue
            path = link.group(2)
            seen.append(path)
            words, count, builds = facts[path]
            entry = archive.get("full-cpu", {}).get(path) if covers_all else None
            mode = "full" if entry else "fast"
            entry = entry or archive["fast-cpu"][path]
            model = words / WORDS_PER_MINUTE + entry["seconds"] / 60 + exercise_minutes(count, builds)
            stated = RUNNING.match(running)
            if (reading, exercises) != (f"{words / WORDS_PER_MINUTE:.1f}", exercise_text(count, builds)):
                problems.append(f"{path}: reading {reading}, exercises {exercises} are not the model's")
            if not stated or stated.groups() != (f"{entry['seconds'] / 60:.1f}", mode):
                problems.append(f"{path}: running {running}, expected {entry['seconds'] / 60:.1f} ({mode})")
            if int(length) != 5 * math.ceil(model / 5):
                problems.append(f"{path}: {length} minutes, the model gives {model:.1f}, so {5 * math.ceil(model / 5)}")
    if covers_all and seen != order:
        problems.append(f"the notebooks are {seen}, not every notebook once in course order")
    if not covers_all:
        if seen != order[: len(seen)]:
            problems.append(f"the one-day notebooks {seen} are not the first ones in course order")
        elif len(seen) < len(order):
            words, count, builds = facts[order[len(seen)]]
            run = archive["fast-cpu"][order[len(seen)]]["seconds"] / 60
            following = 5 * math.ceil((words / WORDS_PER_MINUTE + run + exercise_minutes(count, builds)) / 5)
            if following <= free:
                problems.append(f"{order[len(seen)]} ({following} minutes) fits in the {free} free minutes")
    return problems


SYNTHETIC = {
    "fast-cpu": {info.path: {"seconds": 60.0, "machine": "m", "measured": "d"} for info in NOTEBOOKS},
    "full-cpu": {NOTEBOOKS[1].path: {"seconds": 1200.0, "machine": "m", "measured": "d"}},
}
FACTS = {info.path: (info.words, info.exercises, info.builds) for info in NOTEBOOKS}


def test_a_session_is_reading_at_200_words_a_minute_plus_running_plus_exercises_rounded_up_to_5() -> None:
    assert teacher_guide.WORDS_PER_MINUTE == WORDS_PER_MINUTE and teacher_guide.EXERCISE_MIN == 10
    fast = teacher_guide.session(SYNTHETIC, NOTEBOOKS[1], full=False)
    # 3000 words / 200 = 15 min reading, 1 min run (fast), 4 exercises × 10 = 40: 56, rounded up to 60
    assert (fast.reading, fast.running, fast.mode, fast.exercise_minutes, fast.minutes) == (15, 1, "fast", 40, 60)
    full = teacher_guide.session(SYNTHETIC, NOTEBOOKS[1], full=True)
    assert (full.running, full.mode, full.minutes) == (20, "full", 75)  # 15 + 20 + 40
    # full mode only where measured; a notebook measured in neither mode gets the fast budget, and says so
    assert teacher_guide.session(SYNTHETIC, NOTEBOOKS[0], full=True).mode == "fast"
    unmeasured = teacher_guide.session({}, NOTEBOOKS[2], full=True)
    assert (unmeasured.running, unmeasured.measured) == (teacher_guide.FAST_BUDGET_MIN, False)
    assert "1.5 (fast, not measured yet: budget)" in teacher_guide.agenda({}, NOTEBOOKS, teacher_guide.TWO_DAY)


@pytest.mark.parametrize("plan", teacher_guide.PLANS, ids=lambda plan: plan.name)
def test_agendas_of_a_small_course_add_up(plan: teacher_guide.Plan) -> None:
    text = teacher_guide.agenda(SYNTHETIC, NOTEBOOKS, plan)
    assert agenda_problems(text, FACTS, SYNTHETIC, plan.days, plan.covers_all) == []
    assert "does not fit" not in text and "17:00 | End" in text


def test_one_day_takes_the_notebooks_in_order_while_the_day_ends_by_17_and_says_what_it_leaves() -> None:
    many = [NotebookInfo(f"notebooks/{n:02d}.ipynb", f"{n:02d} · Topic", 4, 3000) for n in range(12)]
    archive = {"fast-cpu": {info.path: {"seconds": 60.0, "machine": "m", "measured": "d"} for info in many}}
    text = teacher_guide.agenda(archive, many, teacher_guide.ONE_DAY)
    # 60-minute sessions: 480 minutes less 90 of breaks and lunch and 30 of welcome and recap hold 6
    assert "Covers notebooks 00, 01, 02, 03, 04, 05 (6 of 12) and ends at 17:00" in text
    assert "leaves 06, 07, 08, 09, 10, 11 for another day" in text
    facts = {info.path: (info.words, info.exercises, info.builds) for info in many}
    assert agenda_problems(text, facts, archive, 1, False) == []


def test_a_plan_that_does_not_fit_says_by_how_much_and_still_covers_every_notebook() -> None:
    many = [NotebookInfo(f"notebooks/{n:02d}.ipynb", f"{n:02d} · Topic", 4, 3000) for n in range(14)]
    archive = {"fast-cpu": {info.path: {"seconds": 60.0, "machine": "m", "measured": "d"} for info in many}}
    facts = {info.path: (info.words, info.exercises, info.builds) for info in many}
    two_day = teacher_guide.agenda(archive, many, teacher_guide.TWO_DAY)
    # 14 sessions of 60 minutes: day 1 holds 6 and the welcome; day 2 the other 8, 90 minutes of breaks and
    # the recap: 585 minutes from 09:00, 18:45; with 8 minutes per exercise, 50-minute sessions fit
    assert "**This plan does not fit 2 days of 09:00-17:00**" in two_day
    assert "day 2 ends at 18:45, 105 minutes late; to end by 17:00 it would leave out 12, 13" in two_day
    assert "With 8 minutes per warm-up instead of 10 it would fit." in two_day
    assert agenda_problems(two_day, facts, archive, 2, True) == []
    five_day = teacher_guide.agenda(archive, many, teacher_guide.FIVE_DAY)
    assert "does not fit" not in five_day
    assert agenda_problems(five_day, facts, archive, 5, True) == []
    # balanced: day 1 (with the welcome) takes 2 notebooks, the others 3, each day's sessions ending by 12:15
    assert "- Day 1: notebooks 00, 01; sessions until 11:15, ends at 17:00." in five_day
    assert "- Day 5: notebooks 11, 12, 13; sessions until 12:15, ends at 17:00." in five_day


def course_agenda(plan: teacher_guide.Plan) -> tuple[str, dict, dict[str, tuple[int, int]]]:
    """A plan's agenda of the real course, its timings and the notebooks' facts, checked to add up."""
    archive = teacher_guide.load_archive(ROOT / teacher_guide.ARCHIVE)
    text = teacher_guide.agenda(archive, teacher_guide.course_notebooks(ROOT / "notebooks"), plan)
    facts = notebook_facts(ROOT / "notebooks")
    assert agenda_problems(text, facts, archive, plan.days, plan.covers_all) == []
    return text, archive, facts


def edit_rows(text: str, change) -> str:  # type: ignore[no-untyped-def]
    """``text`` with its table rows replaced by ``change(rows)``, each row a list of its cells."""
    lines = text.splitlines()
    indices = [index for index, line in enumerate(lines) if ROW.fullmatch(line)]
    rows = [[cell.strip() for cell in lines[index].split("|")[1:-1]] for index in indices]
    rows = change(rows)
    table = [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines[: indices[0]] + table + lines[indices[-1] + 1 :])


def is_session(row: list[str]) -> bool:
    return row[2].startswith("[")


def shorter_session(rows: list[list[str]]) -> list[list[str]]:
    """A wrong minute count that still adds up: the last session of day 1 5 minutes shorter, the rows after it
    5 minutes earlier."""
    last = max(index for index, row in enumerate(rows) if row[0] == "1" and is_session(row))
    rows[last][6] = str(int(rows[last][6]) - 5)
    for row in rows[last + 1 :]:
        if row[0] == "1":
            minutes = int(row[1][:2]) * 60 + int(row[1][3:]) - 5
            row[1] = teacher_guide.clock(minutes)
    return rows


def later_start(rows: list[list[str]]) -> list[list[str]]:
    rows[2][1] = teacher_guide.clock(int(rows[2][1][:2]) * 60 + int(rows[2][1][3:]) + 5)
    return rows


def other_reading(rows: list[list[str]]) -> list[list[str]]:
    first = next(row for row in rows if is_session(row))
    first[3] = f"{float(first[3]) + 1:.1f}"
    return rows


def fast_for_full(rows: list[list[str]]) -> list[list[str]]:
    full = next(row for row in rows if "(full)" in row[4])
    full[4] = full[4].replace("(full)", "(fast)")
    return rows


def notebook_twice(rows: list[list[str]]) -> list[list[str]]:
    first, second = [row for row in rows if is_session(row)][:2]
    second[2] = first[2]
    return rows


def no_lunch(rows: list[list[str]]) -> list[list[str]]:
    lunch = next(index for index, row in enumerate(rows) if row[2] == "Lunch")
    return rows[:lunch] + rows[lunch + 1 :]


def dropped_last_notebook(rows: list[list[str]]) -> list[list[str]]:
    last = max(index for index, row in enumerate(rows) if is_session(row))
    rows[last][2:6] = [teacher_guide.OPEN_LAB, "", "", ""]
    return rows


@pytest.mark.parametrize(
    ("plan", "change", "problem"),
    [
        (teacher_guide.TWO_DAY, shorter_session, "minutes, the model gives"),
        (teacher_guide.ONE_DAY, shorter_session, "minutes, the model gives"),
        (teacher_guide.FIVE_DAY, later_start, "is not"),
        (teacher_guide.ONE_DAY, other_reading, "are not the model's"),
        (teacher_guide.TWO_DAY, fast_for_full, "expected"),
        (teacher_guide.FIVE_DAY, notebook_twice, "not every notebook once in course order"),
        (teacher_guide.TWO_DAY, no_lunch, "not a break, lunch and a break"),
        (teacher_guide.ONE_DAY, dropped_last_notebook, "fits in the"),
    ],
    ids=["minutes", "one-day minutes", "start", "reading", "mode", "notebook twice", "lunch", "one-day not full"],
)
def test_the_check_fails_on_a_tampered_agenda(plan: teacher_guide.Plan, change, problem: str) -> None:  # type: ignore[no-untyped-def]
    text, archive, facts = course_agenda(plan)
    tampered = edit_rows(text, change)
    assert tampered != text
    problems = agenda_problems(tampered, facts, archive, plan.days, plan.covers_all)
    assert any(problem in found for found in problems), problems


def test_the_check_fails_on_an_overrun_the_guide_does_not_state() -> None:
    many = [NotebookInfo(f"notebooks/{n:02d}.ipynb", f"{n:02d} · Topic", 4, 3000) for n in range(14)]
    archive = {"fast-cpu": {info.path: {"seconds": 60.0, "machine": "m", "measured": "d"} for info in many}}
    facts = {info.path: (info.words, info.exercises, info.builds) for info in many}
    text = teacher_guide.agenda(archive, many, teacher_guide.TWO_DAY)
    silent = text[: text.index("**This plan does not fit")]
    assert any("does not say so" in problem for problem in agenda_problems(silent, facts, archive, 2, True))
    one_day = teacher_guide.agenda(archive, many[:6], teacher_guide.ONE_DAY)
    overrun = one_day.replace("| 16:45 | Recap", "| 16:50 | Recap").replace("| 17:00 | End", "| 17:05 | End")
    overrun = overrun.replace(" | 60 |\n| 1 | 16:50", " | 65 |\n| 1 | 16:50")
    assert any("after 17:00" in problem for problem in agenda_problems(overrun, facts, archive, 1, False))


def test_the_committed_agendas_add_up_from_the_notebooks_and_the_measured_timings() -> None:
    guide = (ROOT / teacher_guide.GUIDE).read_text(encoding="utf-8")
    archive = json.loads((ROOT / teacher_guide.ARCHIVE).read_text(encoding="utf-8"))
    facts = notebook_facts(ROOT / "notebooks")
    for plan in teacher_guide.PLANS:
        begin, end = teacher_guide.markers(plan.name)
        section = guide[guide.index(begin) : guide.index(end)]
        assert agenda_problems(section, facts, archive, plan.days, plan.covers_all) == [], plan.name
    begin, end = teacher_guide.markers("one-day")
    assert "17:00 | End" in guide[guide.index(begin) : guide.index(end)]  # the reviewer's 21:55 is gone


def test_render_replaces_only_between_markers(tmp_path: Path) -> None:
    begin, end = teacher_guide.markers("times")
    assert teacher_guide.render(f"a\n{begin}\nold\n{end}\nb", {"times": "new"}) == f"a\n{begin}\nnew\n{end}\nb"
    with pytest.raises(ValueError, match="no <!-- teacher-guide:agenda:begin -->"):
        teacher_guide.render("no markers", {"agenda": "x"})


def test_notebook_info_reads_title_after_the_badge_and_counts_exercises(tmp_path: Path) -> None:
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "[![Open In Colab](x)](y)\n\n# 03 · CNN\n\ntext"},
            {"cell_type": "code", "metadata": {"tags": ["solution"]}, "source": "answer_1 = 1", "outputs": []},
        ]
    }
    path = tmp_path / "03_cnn.ipynb"
    path.write_text(json.dumps(notebook))
    assert teacher_guide.notebook_info(path) == NotebookInfo("notebooks/03_cnn.ipynb", "03 · CNN", 1, 8)


def test_the_committed_guide_is_generated_from_the_measured_timings_and_lists_every_notebook() -> None:
    guide = (ROOT / teacher_guide.GUIDE).read_text()
    notebooks = teacher_guide.course_notebooks(ROOT / "notebooks")
    expected = teacher_guide.render(
        guide, teacher_guide.sections(teacher_guide.load_archive(ROOT / teacher_guide.ARCHIVE), notebooks)
    )
    assert guide == expected, "docs/teacher_guide.md is out of date: run `make teacher-guide` after `make test`"
    assert all(f"(../{info.path})" in guide for info in notebooks)
    headings = ("Prerequisites", "One-day agenda", "Two-day agenda", "Five-day agenda", "without network", "Common")
    assert all(heading in guide for heading in headings)
    # the prose states the model the agendas use
    assert f"{teacher_guide.WORDS_PER_MINUTE} words a minute" in guide
    assert (
        f"{teacher_guide.EXERCISE_MIN} minutes per warm-up exercise and {teacher_guide.BUILD_EXERCISE_MIN} per build"
        in " ".join(guide.split())
    )
