"""The teacher guide's generated parts: measured minutes, "not measured yet" elsewhere, agendas.

The last test checks the committed guide: its generated sections are what the archive of measured
timings (``docs/timings.json``) and the notebooks present give (``make teacher-guide`` updates it).
"""

from __future__ import annotations

import json
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


def slots(agenda: str) -> list[tuple[int, int, str, str]]:
    """(day, minutes after midnight, session, minutes) of every row of an agenda table."""
    found = []
    for line in agenda.splitlines():
        match = re.fullmatch(r"\| (\d) \| (\d\d):(\d\d) \| (.*) \| (\d*) \|", line)
        if match:
            day, hours, minutes, text, length = match.groups()
            found.append((int(day), int(hours) * 60 + int(minutes), text, length))
    return found


def test_agendas_add_talk_measured_run_time_and_exercises_with_breaks_in_between() -> None:
    archive = {
        "fast-cpu": {info.path: {"seconds": 60.0, "machine": "m", "measured": "d"} for info in NOTEBOOKS},
        "full-cpu": {info.path: {"seconds": 1200.0, "machine": "m", "measured": "d"} for info in NOTEBOOKS},
    }
    one_day = slots(teacher_guide.agenda(archive, NOTEBOOKS, teacher_guide.ONE_DAY))
    sessions = [row for row in one_day if row[2].startswith("0")]
    # 3000 words at 150 a minute = 20 min talk, + 1 min run + 6 per exercise, rounded up to 5: 35, 45, 40
    assert [row[3] for row in sessions] == ["35", "45", "40"]
    assert "fast mode, 1.0 min measured" in sessions[0][2]
    assert {row[0] for row in one_day} == {1} and one_day[0][1] == teacher_guide.DAY_START
    assert [row[1] for row in one_day] == sorted(row[1] for row in one_day)
    breaks = [row for row in one_day if row[2] in ("Break", "Lunch")]
    assert breaks and all(row[1] >= 10 * 60 + 30 for row in breaks)
    two_day = slots(teacher_guide.agenda(archive, NOTEBOOKS, teacher_guide.TWO_DAY))
    assert {row[0] for row in two_day} == {1, 2}
    assert all("full mode, 20.0 min measured" in row[2] for row in two_day if row[2].startswith("0"))
    for day in (1, 2):  # breaks and open labs never overlap and the days end by 17:00
        times = [row[1] for row in two_day if row[0] == day]
        assert times == sorted(set(times)) and times[-1] <= teacher_guide.DAY_END
    assert any(row[2] == teacher_guide.OPEN_LAB for row in two_day)


def test_a_notebook_with_more_to_explain_gets_a_longer_walkthrough() -> None:
    short, long = NotebookInfo("notebooks/a.ipynb", "a", 2, 600), NotebookInfo("notebooks/b.ipynb", "b", 2, 4500)
    rows = {row[2][0]: int(row[3]) for row in slots(teacher_guide.agenda({}, [short, long], teacher_guide.ONE_DAY))}
    # 600 words: the 10-minute floor; 4500 words at 150 a minute: 30 minutes (+ 1.5 run + 12 exercises each)
    assert rows["a"] == 25 and rows["b"] == 45


def test_agenda_without_measurements_says_so_and_warns_when_the_day_overruns() -> None:
    many = [NotebookInfo(f"notebooks/{n:02d}.ipynb", f"{n:02d} · Topic", 5, 3000) for n in range(12)]
    text = teacher_guide.agenda({}, many, teacher_guide.ONE_DAY)
    assert "not measured yet, 1.5 min budget assumed" in text and "This plan runs past 17:00" in text
    assert "so this plan uses fast mode" in teacher_guide.agenda({}, many, teacher_guide.TWO_DAY)


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
    for heading in ("Prerequisites", "One-day agenda", "Two-day agenda", "without network", "Common learner errors"):
        assert heading in guide
