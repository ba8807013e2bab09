"""helpers.serving.adapters: LoRA adapter files for notebook 10's Llama, merged into its kernels as Keras's
own LoRA computes them; files that do not fit are refused with a sentence saying why; the LLM server serves
an adapted model beside the base one."""

from __future__ import annotations

import re
from pathlib import Path

import keras
import numpy as np
import pytest

from helpers.serving.adapters import AdapterError, LoraAdapter, merge_lora, projection, read_lora, save_lora
from tests.test_llm_lessons import TINY, tiny_llama

RANK = 2


def random_adapter(seed: int = 0, targets: tuple[str, ...] = ("query", "value", "down")) -> LoraAdapter:
    rng = np.random.default_rng(seed)
    model = tiny_llama()
    factors = {}
    for block in range(TINY.layers):
        for name in targets:
            inputs, outputs = projection(model, block, name).kernel.shape
            factors[(block, name)] = (rng.normal(size=(inputs, RANK)), rng.normal(size=(RANK, outputs)) * 0.1)
    return LoraAdapter({key: (a.astype("float32"), b.astype("float32")) for key, (a, b) in factors.items()}, 4.0, RANK)


def test_an_adapter_file_round_trips(tmp_path: Path) -> None:
    adapter = random_adapter()
    read = read_lora(save_lora(tmp_path / "adapter.npz", adapter))
    assert (read.alpha, read.rank, set(read.factors)) == (adapter.alpha, adapter.rank, set(adapter.factors))
    for key, (a, b) in adapter.factors.items():
        assert np.array_equal(read.factors[key][0], a) and np.array_equal(read.factors[key][1], b)
    assert read.parameters == sum(a.size + b.size for a, b in adapter.factors.values())
    half = tmp_path / "half.npz"
    read_half = read_lora(save_lora(half, adapter, dtype="float16"))  # half the bytes, read back as float32
    with np.load(half) as stored:
        assert {stored[name].dtype for name in stored.files if "." in name} == {np.dtype("float16")}
    for key, (a, b) in adapter.factors.items():
        assert read_half.factors[key][0].dtype == np.float32
        assert np.allclose(read_half.factors[key][0], a, rtol=1e-3) and np.allclose(
            read_half.factors[key][1], b, rtol=1e-3
        )


def test_merging_matches_keras_own_lora_dense() -> None:
    model, adapter = tiny_llama(), random_adapter(1)
    dense = projection(model, 1, "value")
    reference = keras.layers.Dense(dense.units, use_bias=False)
    reference.build((None, dense.kernel.shape[0]))
    reference.kernel.assign(dense.kernel)
    reference.enable_lora(RANK, lora_alpha=adapter.alpha)
    a, b = adapter.factors[(1, "value")]
    reference.lora_kernel_a.assign(a)
    reference.lora_kernel_b.assign(b)
    merge_lora(model, adapter)
    x = np.random.default_rng(2).normal(size=(3, dense.kernel.shape[0])).astype("float32")
    np.testing.assert_allclose(dense(x).numpy(), reference(x).numpy(), atol=1e-5)


def test_a_merged_adapter_changes_the_logits_and_its_negative_restores_them() -> None:
    model, adapter = tiny_llama(), random_adapter(3)
    ids = np.array([[1, 5, 7, 9]], dtype=np.int32)
    before = model(ids).numpy()
    merge_lora(model, adapter)
    assert np.abs(model(ids).numpy() - before).max() > 1e-2, "the adapter should change the model"
    negative = {key: (a, -b) for key, (a, b) in adapter.factors.items()}
    merge_lora(model, LoraAdapter(negative, adapter.alpha, adapter.rank))
    np.testing.assert_allclose(model(ids).numpy(), before, atol=1e-4)


@pytest.mark.parametrize(
    ("arrays", "words"),
    [
        ({"alpha": 1.0}, "no 'alpha' and 'rank'"),
        ({"alpha": 1.0, "rank": 2, "0.query.a": np.zeros((24, 2))}, "has only its ['a'] factor"),
        ({"alpha": 1.0, "rank": 2, "0.attention.a": np.zeros((24, 2))}, "unexpected array"),
        ({"alpha": 1.0, "rank": 2, "0.query.a": np.zeros((24, 3)), "0.query.b": np.zeros((3, 24))}, "not (inputs, 2)"),
        ({"alpha": 1.0, "rank": 2}, "adapts no projection"),
        ({"alpha": float("nan"), "rank": 2, "0.query.a": np.zeros((24, 2)), "0.query.b": np.zeros((2, 24))}, "finite"),
    ],
)
def test_a_malformed_adapter_file_is_refused_with_the_reason(tmp_path: Path, arrays: dict, words: str) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(AdapterError, match=re.escape(words)):
        read_lora(path)


def test_files_that_are_missing_or_not_adapters_are_refused(tmp_path: Path) -> None:
    with pytest.raises(AdapterError, match="no adapter file"):
        read_lora(tmp_path / "missing.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(AdapterError, match="not a LoRA adapter"):
        read_lora(tmp_path / "text.npz")


def test_an_adapter_for_another_model_does_not_merge() -> None:
    model = tiny_llama()
    wide = LoraAdapter({(0, "query"): (np.zeros((30, RANK), "float32"), np.zeros((RANK, 24), "float32"))}, 1.0, RANK)
    with pytest.raises(AdapterError, match="the kernel"):
        merge_lora(model, wide)
    deep = LoraAdapter({(9, "query"): (np.zeros((24, RANK), "float32"), np.zeros((RANK, 24), "float32"))}, 1.0, RANK)
    with pytest.raises(AdapterError, match="has 2 blocks"):
        merge_lora(model, deep)
