"""LoRA adapters for notebook 10's Llama: the file the LLM server loads with ``--lora NAME=FILE``.

LoRA (Hu et al., 2021) adapts a frozen weight matrix W (inputs × outputs) by a low-rank product: the
layer computes x·(W + (alpha / rank)·A·B), with A (inputs × rank) and B (rank × outputs) the only
trained weights. For serving, the product is **merged** into the kernel once, at load: the adapted
model then runs exactly as fast as the base one.

An adapter file is a NumPy ``.npz`` archive holding, for each adapted projection, two arrays named
``"{block}.{projection}.a"`` and ``"{block}.{projection}.b"`` (``projection``: one of
:data:`PROJECTIONS`, ``block`` the block's index), and the scalars ``alpha`` and ``rank``.
:func:`save_lora` writes one; :func:`read_lora` reads and checks it; :func:`merge_lora` adds it to a
model's kernels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import keras

    from helpers.lessons.llm import Llama

PROJECTIONS = ("query", "key", "value", "output", "gate", "up", "down")
FACTOR_NAME = re.compile(r"^(\d+)\.(" + "|".join(PROJECTIONS) + r")\.(a|b)$")


class AdapterError(ValueError):
    """An adapter file that cannot be read or does not fit the model; the message says why."""


@dataclass(frozen=True)
class LoraAdapter:
    """The factors of every adapted projection, ``{(block, projection): (A, B)}``, and the scale alpha / rank."""

    factors: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]]
    alpha: float
    rank: int

    @property
    def scale(self) -> float:
        return self.alpha / self.rank

    @property
    def parameters(self) -> int:
        return sum(a.size + b.size for a, b in self.factors.values())


def save_lora(path: Path | str, adapter: LoraAdapter, dtype: str = "float32") -> Path:
    """Write ``adapter`` as an ``.npz`` file at ``path``, its factors in ``dtype`` (float16 halves the file;
    :func:`read_lora` reads them back as float32)."""
    arrays = {
        f"{block}.{name}.{part}": factor
        for (block, name), pair in adapter.factors.items()
        for part, factor in zip("ab", pair, strict=True)
    }
    path = Path(path)
    np.savez(
        path,
        alpha=np.float32(adapter.alpha),
        rank=np.int32(adapter.rank),
        **{k: np.asarray(v, dtype) for k, v in arrays.items()},
    )
    return path


def read_lora(path: Path | str) -> LoraAdapter:
    """The adapter in ``path``, checked: known projection names, pairs complete, shapes of the stated rank."""
    path = Path(path)
    if not path.is_file():
        raise AdapterError(f"no adapter file at {path}: an adapter is an .npz file written by save_lora")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError) as error:
        raise AdapterError(f"{path} is not a LoRA adapter (.npz archive): {error}") from None
    if "alpha" not in arrays or "rank" not in arrays:
        raise AdapterError(f"{path} has no 'alpha' and 'rank': not a LoRA adapter of this course")
    rank = int(arrays.pop("rank"))
    alpha = float(arrays.pop("alpha"))
    if rank < 1 or not np.isfinite(alpha):
        raise AdapterError(f"{path}: rank {rank} and alpha {alpha} must be positive and finite")
    factors: dict[tuple[int, str], dict[str, np.ndarray]] = {}
    for name, array in arrays.items():
        match = FACTOR_NAME.match(name)
        if match is None:
            raise AdapterError(
                f"{path}: unexpected array {name!r}; names are BLOCK.PROJECTION.a|b with PROJECTION in {PROJECTIONS}"
            )
        factors.setdefault((int(match[1]), match[2]), {})[match[3]] = array
    pairs = {}
    for key, parts in factors.items():
        if set(parts) != {"a", "b"}:
            raise AdapterError(f"{path}: {key[0]}.{key[1]} has only its {sorted(parts)} factor")
        a, b = parts["a"], parts["b"]
        if a.ndim != 2 or b.ndim != 2 or a.shape[1] != rank or b.shape[0] != rank:
            raise AdapterError(
                f"{path}: {key[0]}.{key[1]} has factors {a.shape} and {b.shape}, "
                f"not (inputs, {rank}) and ({rank}, outputs)"
            )
        pairs[key] = (a.astype(np.float32), b.astype(np.float32))
    if not pairs:
        raise AdapterError(f"{path} adapts no projection")
    return LoraAdapter(pairs, alpha, rank)


def projection(model: Llama, block: int, name: str) -> keras.layers.Dense:
    """Block ``block``'s projection ``name`` (one of :data:`PROJECTIONS`)."""
    layer = model.blocks[block]
    return {
        "query": layer.attention.query,
        "key": layer.attention.key,
        "value": layer.attention.value,
        "output": layer.attention.output_projection,
        "gate": layer.gate,
        "up": layer.up,
        "down": layer.down,
    }[name]


def merge_lora(model: Llama, adapter: LoraAdapter) -> None:
    """Add ``(alpha / rank)·A·B`` to each adapted kernel of ``model``, in place (an AdapterError if one
    does not fit)."""
    for (block, name), (a, b) in adapter.factors.items():
        if block >= len(model.blocks):
            raise AdapterError(f"the adapter changes block {block}; the model has {len(model.blocks)} blocks")
        kernel = projection(model, block, name).kernel
        if (a.shape[0], b.shape[1]) != tuple(kernel.shape):
            raise AdapterError(
                f"{block}.{name}: the adapter's A·B is {(a.shape[0], b.shape[1])}, the kernel {tuple(kernel.shape)}"
            )
        update = adapter.scale * (a.astype(np.float64) @ b.astype(np.float64))  # float64: one rounding, at the end
        kernel.assign((kernel.numpy().astype(np.float64) + update).astype(np.float32))
