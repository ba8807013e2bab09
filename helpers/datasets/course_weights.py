"""The course's own trained weights: float16 files in ``helpers/weights/``, each with a record of how it was made.

Some results need minutes of training that a workshop cannot wait for (08's GPT beating the n-gram
and the LSTM). ``make weights`` (:mod:`coursetools.weights`) trains those models with the course's
own code and fixed seeds, and saves each as ``NAME.npz`` (every weight in float16, in the model's
order) beside ``NAME.json`` (the commit, seed, plan, steps and the figures it measured). A notebook
builds the model with today's code, loads the file with :func:`load_weights` and evaluates it live.

A file that no longer fits the code (another number of weights, another shape) raises
:class:`WeightsMismatchError`, which says to run ``make weights``; a test loads every shipped file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
REMAKE = "run `make weights` to train it again with today's code"


class WeightsMismatchError(ValueError):
    """A shipped weights file does not fit the model that today's code builds."""


def weights_path(name: str, folder: Path = WEIGHTS_DIR) -> Path:
    return folder / f"{name}.npz"


def record_path(name: str, folder: Path = WEIGHTS_DIR) -> Path:
    return folder / f"{name}.json"


def read_record(name: str, folder: Path = WEIGHTS_DIR) -> dict[str, Any]:
    """The record of how ``name`` was made (commit, seed, plan, steps, measured figures)."""
    path = record_path(name, folder)
    if not path.is_file():
        raise FileNotFoundError(f"no course weights record {path}: {REMAKE}")
    return json.loads(path.read_text())


def save_weights(model: Any, name: str, record: dict[str, Any], folder: Path = WEIGHTS_DIR) -> Path:
    """Every weight of ``model`` (a built Keras model) in float16, and ``record`` beside it as JSON."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {f"w{index:03d}": np.asarray(w.numpy(), dtype=np.float16) for index, w in enumerate(model.weights)}
    path = weights_path(name, folder)
    np.savez_compressed(path, names=np.array([weight.path for weight in model.weights]), **arrays)
    write_record(name, record, folder)
    return path


def write_record(name: str, record: dict[str, Any], folder: Path = WEIGHTS_DIR) -> Path:
    """``record`` as ``NAME.json`` beside the weights (rewritten alone once the shipped weights are measured)."""
    path = record_path(name, folder)
    path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    return path


def load_weights(model: Any, name: str, folder: Path = WEIGHTS_DIR) -> dict[str, Any]:
    """Assign the shipped weights ``name`` to ``model`` (built by today's code); its record.

    Raises :class:`WeightsMismatchError` when the file holds another number of weights or other
    shapes than the model, and :class:`FileNotFoundError` when there is no such file.
    """
    path = weights_path(name, folder)
    if not path.is_file():
        raise FileNotFoundError(f"no course weights file {path}: {REMAKE}")
    with np.load(path) as stored:
        arrays = [stored[f"w{index:03d}"] for index in range(len(stored.files) - 1)]
    if len(arrays) != len(model.weights):
        raise WeightsMismatchError(
            f"{path.name} holds {len(arrays)} weights, the model built by today's code has {len(model.weights)}: "
            + REMAKE
        )
    for array, weight in zip(arrays, model.weights, strict=True):
        if tuple(array.shape) != tuple(weight.shape):
            raise WeightsMismatchError(
                f"{path.name}: {weight.path} is {tuple(array.shape)} in the file, {tuple(weight.shape)} in the model: "
                + REMAKE
            )
    for array, weight in zip(arrays, model.weights, strict=True):
        weight.assign(array.astype(weight.dtype))
    return read_record(name, folder)
