"""Measured results that notebooks and prose quote: ``benchmarks/results/NAME.json``, written by the benchmarks.

A benchmark (``benchmarks/NAME.py``) measures its headline over several seeds and writes one file
per mode with :func:`write_results`: the commit and whether the tree had uncommitted changes, the
date, the machine, the seeds, every seed's figures, their mean, min and max, and each target with
whether it was met (a timing benchmark's "seeds" are its repeats, numbered from 0). Notebooks read it
with :func:`read_results` or show it with :func:`recorded_summary` rather than typing numbers.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def seed_list(text: str) -> list[int]:
    """``"42,1,2"`` as ``[42, 1, 2]``; argparse shows the error if it is not whole numbers and commas."""
    try:
        return [int(seed) for seed in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected whole numbers separated by commas, e.g. 42,1,2; got {text!r}"
        ) from None


def benchmark_parser(name: str, doc: str, seeds: str = "42,1,2") -> argparse.ArgumentParser:
    """The options of every seeded ``benchmarks/NAME.py`` (its module docstring ``doc``): ``--fast``, ``--seeds``
    (a list of whole numbers) and ``--check``; the benchmark adds its own."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="quick check run (same as COURSE_MODE=fast)")
    parser.add_argument(
        "--seeds",
        type=seed_list,
        default=seed_list(seeds),
        help=f"comma-separated seeds, one run each (default {seeds})",
    )
    parser.add_argument(
        "--check", action="store_true", help=f"write benchmarks/results/{name}_MODE.json; exit 1 if a target is missed"
    )
    return parser


def code_version(root: Path = RESULTS_DIR.parents[1]) -> dict[str, Any]:
    """The commit of ``root`` and whether tracked files differ from it (``None`` outside a git checkout)."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "uncommitted changes": None}
    return {"commit": head.stdout.strip(), "uncommitted changes": bool(status.stdout.strip())}


def machine() -> str:
    return f"{platform.machine()} CPU, {os.cpu_count()} cores, Python {platform.python_version()}"


def summary(values: Iterable[float]) -> dict[str, Any]:
    """Mean, min and max of one figure over seeds, with the values themselves."""
    values = [float(value) for value in values]
    return {"mean": sum(values) / len(values), "min": min(values), "max": max(values), "values": values}


def target(values: Iterable[float], goal: float, floor: float, *, at_most: bool = False) -> dict[str, Any]:
    """A figure over seeds against its target (met by the mean) and its floor (met by the min); with
    ``at_most``, a figure that must stay low (seconds, refusals): the mean at most the target and the
    max at most ``floor``, then called the ceiling.

    >>> target([0.2, 0.1, 0.3], goal=0.15, floor=0.1)["met"]
    True
    >>> target([1.5, 2.5], goal=2.0, floor=3.0, at_most=True)["met"]
    True
    """
    figures = summary(values)
    del figures["values"]
    if at_most:
        met = figures["mean"] <= goal and figures["max"] <= floor
        return {**figures, "target": goal, "ceiling": floor, "met": bool(met)}
    return {**figures, "target": goal, "floor": floor, "met": bool(figures["mean"] >= goal and figures["min"] >= floor)}


def print_targets(targets: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Print each target as met or NOT met with its figures; return the names of those missed."""
    print("\ntargets (the mean against the target, the min against the floor):")
    for name, detail in targets.items():
        shown = {key: round(value, 4) if isinstance(value, float) else value for key, value in detail.items()}
        print(f"  {'met    ' if detail['met'] else 'NOT met'} {name}: {shown}")
    missed = [name for name, detail in targets.items() if not detail["met"]]
    print("targets: " + ("all met" if not missed else "NOT met: " + "; ".join(missed)))
    return missed


def plain(value: Any) -> Any:
    """A NumPy scalar (``np.float32``, ``np.bool_``) as the Python number or bool JSON can write."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} cannot be written to a results file")


def write_results(
    name: str,
    mode: str,
    seeds: Iterable[int],
    per_seed: Mapping[int, Mapping[str, float]],
    targets: Mapping[str, Mapping[str, Any]],
    version: Mapping[str, Any] | None = None,
    folder: Path = RESULTS_DIR,
) -> Path:
    """``folder/NAME_MODE.json``: provenance, every seed's figures, their summaries and the targets.

    ``version`` is :func:`code_version` read when the benchmark started (the code that ran); now if None.
    """
    seeds = list(seeds)
    figures = sorted({figure for row in per_seed.values() for figure in row})
    document = {
        "benchmark": f"benchmarks/{name}.py",
        "mode": mode,
        **(version or code_version()),
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "seeds": seeds,
        "per seed": {str(seed): dict(per_seed[seed]) for seed in seeds},
        "summary": {figure: summary(per_seed[seed][figure] for seed in seeds) for figure in figures},
        "targets": {target: dict(detail) for target, detail in targets.items()},
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}_{mode}.json"
    path.write_text(json.dumps(document, indent=1, sort_keys=True, default=plain) + "\n")
    return path


def read_results(name: str, mode: str, folder: Path = RESULTS_DIR) -> dict[str, Any] | None:
    """The last recorded results of ``benchmarks/NAME.py`` in ``mode``, or ``None`` if it never wrote any."""
    path = folder / f"{name}_{mode}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def number_text(value: float) -> str:
    """Four significant digits, or whole numbers with thousands separators from 1,000 up."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def recorded_summary(name: str, mode: str = "full", only: str = "", folder: Path = RESULTS_DIR) -> str:
    """What ``benchmarks/NAME.py --check`` last recorded in ``mode``, as text for a notebook's results section:
    where and when it ran, the mean, min and max over the seeds of every figure whose name contains ``only``,
    and each target met or not. Says how to record it when no file is there."""
    document = read_results(name, mode, folder)
    if document is None:
        return f"No {mode}-mode results recorded yet: run `python benchmarks/{name}.py --check` (COURSE_MODE={mode})."
    commit = (document["commit"] or "no commit")[:10] + (
        " with uncommitted changes" if document["uncommitted changes"] else ""
    )
    lines = [
        f"{document['benchmark']} --check, {mode} mode, on {document['date']} ({document['machine']}; code {commit}), "
        f"seeds {', '.join(str(seed) for seed in document['seeds'])}:"
    ]
    shown = {figure: values for figure, values in document["summary"].items() if only in figure}
    width = max((len(figure) for figure in shown), default=0)
    for figure, values in shown.items():
        mean, low, high = (number_text(values[key]) for key in ("mean", "min", "max"))
        lines.append(f"  {figure:<{width}}  mean {mean}  min {low}  max {high}")
    for target, detail in document["targets"].items():
        lines.append(f"  {'met    ' if detail['met'] else 'NOT met'}  {target}")
    return "\n".join(lines)


def run_header(mode: str, seeds: Sequence[int]) -> str:
    """The first line a seeded benchmark prints: the mode, TensorFlow's and Keras's versions, the CPUs, the load
    average (other work inflates the times) and the seeds."""
    import keras
    import tensorflow as tf

    return (
        f"mode: {mode}   TensorFlow {tf.__version__}   Keras {keras.__version__}   CPUs: {os.cpu_count()}   "
        f"load average (1 min): {os.getloadavg()[0]:.2f}   seeds: {seeds}"
    )


def print_over_seeds(per_seed: Mapping[int, Mapping[str, float]], seeds: Sequence[int]) -> None:
    """Print every figure of the first seed with its mean, min and max over ``seeds``."""
    print(f"\nover seeds {list(seeds)}:")
    for figure in per_seed[seeds[0]]:
        values = [per_seed[seed][figure] for seed in seeds]
        print(f"  {figure:<55} mean {sum(values) / len(values):.4f}  min {min(values):.4f}  max {max(values):.4f}")


def targets_over_seeds(
    table: Mapping[str, tuple[float, float, bool]], per_seed: Mapping[int, Mapping[str, float]], seeds: Sequence[int]
) -> dict[str, dict[str, Any]]:
    """Each figure of ``table`` (figure: (target, floor or ceiling, whether it must stay at most)) judged over
    ``seeds`` by :func:`target`, named with its comparison, e.g. ``"accuracy >= 0.9 (floor 0.85)"``."""
    return {
        f"{figure} {'<=' if at_most else '>='} {goal} ({'ceiling' if at_most else 'floor'} {bound})": target(
            (per_seed[seed][figure] for seed in seeds), goal, bound, at_most=at_most
        )
        for figure, (goal, bound, at_most) in table.items()
    }


def finish(
    name: str,
    mode: str,
    seeds: Iterable[int],
    per_seed: Mapping[int, Mapping[str, float]],
    targets: Mapping[str, Mapping[str, Any]],
    version: Mapping[str, Any] | None,
    *,
    check: bool,
    folder: Path = RESULTS_DIR,
) -> int:
    """The end of every ``benchmarks/NAME.py``: print each target met or NOT met, write the results file when
    ``check``, print the load average; the exit status (1 when ``check`` and a target was missed)."""
    missed = print_targets(targets)
    if check:
        print(f"wrote {write_results(name, mode, seeds, per_seed, targets, version, folder)}")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}  (other work on the machine inflates the times)")
    return 1 if check and missed else 0
