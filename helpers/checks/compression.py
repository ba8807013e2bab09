"""Exercise checks of notebook 15 (model compression): build exercise 1, int8 quantization of a Dense kernel by
hand, with one scale per output unit (per channel), as LiteRT stores the weights it quantizes.

The check runs the learner's function on kernels of its own and judges what it returns: int8 codes of the
kernel's shape in [-127, 127], one positive scale per column, codes × scales within half a step of every
weight (rounding to the nearest code), every column using the whole range (so small columns keep their
precision), an all-zero column without NaN; then on the notebook's trained MLP, whose accuracy with every
kernel replaced by its dequantized copy must stay within half a point of the float model's. Known
mistakes get a sentence of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from helpers.exercises import ExerciseIncorrect, call_answer, expect, passed, require_answer

INT8 = "Build exercise 1 (int8 quantization by hand)"
MAX_ACCURACY_DROP = 0.005  # per-channel int8 of 03's MLP: well under 0.1 points lost (reference, seeds 42, 1, 2)


def quantized(answer: Callable, kernel: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    """``answer(kernel)`` as (codes, scales), checked for types and shapes."""
    result = call_answer(answer, INT8, what, kernel)
    expect(
        isinstance(result, tuple) and len(result) == 2,
        f"{INT8}: return a pair (codes, scales), got {type(result).__name__}.",
    )
    codes, scales = np.asarray(result[0]), np.asarray(result[1], dtype=np.float64)
    expect(
        codes.dtype == np.int8,
        f"{INT8}: the codes should be an int8 array (np.int8, one byte per weight), got dtype {codes.dtype}.",
    )
    expect(
        codes.shape == kernel.shape,
        f"{INT8}: the codes should have the kernel's shape {kernel.shape}, got {codes.shape}.",
    )
    expect(
        scales.shape == (kernel.shape[1],),
        f"{INT8}: return one scale per output unit (per column of the kernel): shape ({kernel.shape[1]},), got "
        f"{scales.shape}."
        + (" That is one per row: reduce over axis 0." if scales.shape == (kernel.shape[0],) else ""),
    )
    return codes, scales


def with_int8_kernels(model: keras.Model, answer: Callable) -> keras.Model:
    """A copy of ``model`` whose every Dense kernel is replaced by ``codes * scales`` from ``answer(kernel)``."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    for layer in copy.layers:
        if isinstance(layer, keras.layers.Dense):
            codes, scales = quantized(answer, layer.kernel.numpy(), f"the kernel of layer {layer.name!r}")
            layer.kernel.assign(codes.astype(np.float32) * scales.astype(np.float32))
    return copy


def check_int8_quantizer(answer: Any, model: keras.Model, images: np.ndarray, labels: np.ndarray) -> str:
    """Build exercise 1: ``answer(kernel)`` returns ``(codes, scales)``: int8 codes of ``kernel``'s shape and one
    float scale per column, with ``codes * scales`` close to ``kernel``. Judged on kernels of its own, then on
    ``model`` with every Dense kernel replaced by its codes × scales: its accuracy on ``images`` must be within
    :data:`MAX_ACCURACY_DROP` of ``model``'s."""
    require_answer(answer, INT8)
    rng = np.random.default_rng(15)
    kernel = (rng.normal(size=(64, 6)) * np.array([1e-3, 1e-2, 0.1, 1.0, 10.0, 3.0])).astype(np.float32)
    codes, scales = quantized(answer, kernel, "a (64, 6) kernel whose columns range from 0.001 to 10")
    expect(
        bool(np.all(np.isfinite(scales)) and np.all(scales > 0)), f"{INT8}: every scale should be a positive number."
    )
    error = np.abs(codes.astype(np.float64) * scales - kernel)
    if np.any(error > 0.5 * scales * (1 + 1e-4) + 1e-12):
        worst = int(np.argmax((error / scales).max(axis=0)))
        wrapped = np.any(np.sign(codes) * np.sign(kernel) < 0)
        raise ExerciseIncorrect(
            f"{INT8}: codes × scales misses a weight of column {worst} by {error[:, worst].max() / scales[worst]:.2f} "
            "steps; rounding to the nearest code misses by half a step at most. "
            + (
                "Some codes have the opposite sign of their weight: values beyond 127 wrapped around when cast to "
                "int8. Divide the largest magnitude by 127 (not 128 or 255) and clip before casting."
                if wrapped
                else "Round (np.round) before casting: astype(np.int8) cuts the fraction off."
            )
        )
    expect(
        int(codes.min()) >= -127,
        f"{INT8}: a code is -128. Keep the range symmetric, -127 to 127 (clip), so that -x and x get opposite codes.",
    )
    used = np.abs(codes).max(axis=0)
    if np.any(used < 127):
        raise ExerciseIncorrect(
            f"{INT8}: the largest code of column {int(np.argmin(used))} is {int(used.min())}, not 127: each column "
            "should use the whole range. "
            + (
                "One scale for the whole kernel wastes it on the small columns (their codes are all near 0): "
                "compute the scale of each column from that column's largest magnitude."
                if np.allclose(scales, scales[0])
                else "A column's scale is its largest magnitude / 127."
            )
        )
    with_zero = kernel.copy()
    with_zero[:, 2] = 0.0
    codes, scales = quantized(answer, with_zero, "a kernel with a column of zeros (a pruned unit)")
    expect(
        bool(np.all(np.isfinite(scales)) and np.all(scales > 0)) and not np.any(codes[:, 2]),
        f"{INT8}: a column of zeros (a pruned unit) should give codes of 0 and a positive scale, not 0 "
        "(then 0 / 0 is NaN): use a scale of 1 where a column's largest magnitude is 0.",
    )
    float_accuracy = float(np.mean(model.predict(images, verbose=0).argmax(axis=1) == labels))
    int8_accuracy = float(np.mean(with_int8_kernels(model, answer).predict(images, verbose=0).argmax(axis=1) == labels))
    expect(
        int8_accuracy >= float_accuracy - MAX_ACCURACY_DROP,
        f"{INT8}: with your int8 kernels the MLP's accuracy falls from {float_accuracy:.4f} to {int8_accuracy:.4f}, "
        f"more than {MAX_ACCURACY_DROP:.1%}. Per-channel int8 loses almost nothing: check the kernel's layout "
        "(inputs × units; a column is one unit).",
    )
    print(f"03's MLP: {float_accuracy:.4f} in float32, {int8_accuracy:.4f} with your int8 kernels.")
    return passed(INT8)
