"""The results files the benchmarks write and the notebooks read (helpers.results)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import results


def test_a_target_is_met_by_the_mean_and_the_floor_by_the_min() -> None:
    assert results.target([0.2, 0.1, 0.3], goal=0.15, floor=0.1)["met"]
    low_mean = results.target([0.1, 0.12, 0.14], goal=0.15, floor=0.0)
    assert not low_mean["met"] and abs(low_mean["mean"] - 0.12) < 1e-12
    one_bad_seed = results.target([0.3, 0.3, -0.05], goal=0.15, floor=0.0)
    assert one_bad_seed["mean"] >= 0.15 and not one_bad_seed["met"], "the floor must catch one bad seed"
    assert one_bad_seed["min"] == -0.05 and one_bad_seed["max"] == 0.3


def test_print_targets_names_the_missed_ones(capsys) -> None:
    targets = {"gain": results.target([0.2, 0.2], 0.1, 0.0), "speed": {"measured": 3.0, "target": 5.0, "met": False}}
    assert results.print_targets(targets) == ["speed"]
    printed = capsys.readouterr().out
    assert "met     gain" in printed and "NOT met speed" in printed and "targets: NOT met: speed" in printed


def test_written_results_carry_their_provenance_and_read_back(tmp_path: Path) -> None:
    per_seed = {42: {"gap": 0.1}, 1: {"gap": 0.3}}
    targets = {"gap >= 0.15": results.target([0.1, 0.3], 0.15, 0.0)}
    version = {"commit": "abc", "uncommitted changes": False}
    path = results.write_results("demo", "full", [42, 1], per_seed, targets, version, folder=tmp_path)
    assert path == tmp_path / "demo_full.json"
    document = results.read_results("demo", "full", folder=tmp_path)
    assert document == json.loads(path.read_text())
    assert document["commit"] == "abc" and document["seeds"] == [42, 1]
    assert document["benchmark"] == "benchmarks/demo.py"
    assert document["summary"]["gap"]["values"] == [0.1, 0.3] and document["targets"]["gap >= 0.15"]["met"]
    assert results.read_results("demo", "fast", folder=tmp_path) is None


def test_recorded_summary_shows_provenance_figures_and_targets(tmp_path: Path) -> None:
    assert "run `python benchmarks/demo.py --check`" in results.recorded_summary("demo", "full", folder=tmp_path)
    per_seed = {42: {"gap": 0.1}, 1: {"gap": -0.02}}
    targets = {"gap >= 0.15": results.target([0.1, -0.02], 0.15, 0.0)}
    version = {"commit": "0123456789abcdef", "uncommitted changes": True}
    results.write_results("demo", "full", [42, 1], per_seed, targets, version, folder=tmp_path)
    text = results.recorded_summary("demo", "full", folder=tmp_path)
    assert "code 0123456789 with uncommitted changes" in text and "seeds 42, 1" in text
    assert "gap  mean 0.04  min -0.02  max 0.1" in text and "NOT met  gap >= 0.15" in text
    only = results.recorded_summary("demo", "full", only="speed", folder=tmp_path)
    assert "mean 0.04" not in only and "NOT met  gap >= 0.15" in only, "the filter keeps the targets"


def test_numbers_are_shown_readably() -> None:
    assert results.number_text(57_666.7) == "57,667" and results.number_text(0.94091) == "0.9409"


def test_numpy_scalars_are_written_as_plain_numbers(tmp_path: Path) -> None:
    import numpy as np

    targets = {"bits": {"SmolLM2": np.float32(1.5), "met": np.bool_(True)}}
    results.write_results("demo", "full", [0], {0: {"x": np.float32(2.0)}}, targets, {"commit": None}, folder=tmp_path)
    document = results.read_results("demo", "full", folder=tmp_path)
    assert document["targets"]["bits"] == {"SmolLM2": 1.5, "met": True} and document["per seed"]["0"]["x"] == 2.0


def test_finish_prints_writes_only_when_checking_and_fails_on_a_missed_target(tmp_path: Path, capsys) -> None:
    missed = {"gap": results.target([0.0], 0.1, 0.0)}
    assert results.finish("demo", "fast", [42], {42: {"gap": 0.0}}, missed, None, check=False, folder=tmp_path) == 0
    assert not (tmp_path / "demo_fast.json").exists() and "NOT met gap" in capsys.readouterr().out
    assert results.finish("demo", "fast", [42], {42: {"gap": 0.0}}, missed, None, check=True, folder=tmp_path) == 1
    assert (tmp_path / "demo_fast.json").exists() and "load average" in capsys.readouterr().out


def test_every_seeded_benchmark_takes_fast_seeds_and_check() -> None:
    parser = results.benchmark_parser("demo", "Demo benchmark.\n\nMore.", seeds="42,1")
    assert vars(parser.parse_args([])) == {"fast": False, "seeds": [42, 1], "check": False}
    assert parser.parse_args(["--seeds", "7,8,9", "--check"]).seeds == [7, 8, 9]
    with pytest.raises(SystemExit):
        parser.parse_args(["--seeds", "7,x"])
