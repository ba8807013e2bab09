"""LiteRT (formerly TensorFlow Lite): convert an exported SavedModel, run it with the interpreter.

Three conversions of the same SavedModel (``tf.lite.TFLiteConverter.from_saved_model``):

* ``"float32"``: the weights as they are;
* ``"dynamic"``: dynamic-range quantisation: weights stored as int8 (about 4× smaller); ops that
  have dynamic-range kernels (fully connected, convolution, ...) quantise their input activations
  to int8 on the fly, from each batch's own range, and multiply in integers; other ops run in float;
* ``"int8"``: weights *and* activations in int8 (post-training full-integer quantisation,
  calibrated on a few representative inputs), with float inputs and outputs kept for the caller.

Converting from the SavedModel keeps the weights with the graph. (``from_concrete_functions``
without the trackable model can silently produce a model whose weights are missing and whose
outputs are garbage: always compare a converted model's outputs with the original's.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np

Quantization = Literal["float32", "dynamic", "int8"]
QUANTIZATIONS: tuple[Quantization, ...] = ("float32", "dynamic", "int8")


def convert_saved_model(
    saved_model_dir: Path | str,
    quantization: Quantization = "float32",
    representative_inputs: np.ndarray | None = None,
) -> bytes:
    """The LiteRT flatbuffer of an exported SavedModel, with the given post-training quantisation.

    ``"int8"`` needs ``representative_inputs``: a few hundred real inputs (one model input,
    batch first) to calibrate the activations' ranges.
    """
    import tensorflow as tf

    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {QUANTIZATIONS}, got {quantization!r}")
    if not (Path(saved_model_dir) / "saved_model.pb").is_file():
        raise FileNotFoundError(f"{saved_model_dir} is not a SavedModel folder: export one with model.export()")
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir))
    if quantization != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "int8":
        if representative_inputs is None or len(representative_inputs) == 0:
            raise ValueError("int8 quantisation needs representative_inputs (e.g. 200 training images)")
        samples = np.asarray(representative_inputs, dtype=np.float32)

        def representative_dataset() -> Iterator[list[np.ndarray]]:
            for sample in samples:
                yield [sample[None]]

        converter.representative_dataset = representative_dataset
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return converter.convert()


class LiteRTModel:
    """A LiteRT model with one input and one output, called like a function on a batch.

    ``LiteRTModel(flatbuffer_bytes_or_path)(x)`` returns the output for ``x`` (batch first), in
    float32 (quantised inputs/outputs are converted with the model's scale and zero point).
    """

    def __init__(self, model: bytes | Path | str, *, num_threads: int = 1) -> None:
        from ai_edge_litert.interpreter import Interpreter

        content = model if isinstance(model, bytes) else Path(model).read_bytes()
        self.size_bytes = len(content)
        self.interpreter = Interpreter(model_content=content, num_threads=num_threads)
        inputs, outputs = self.interpreter.get_input_details(), self.interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ValueError(f"LiteRTModel handles one input and one output, got {len(inputs)} and {len(outputs)}")
        self.input: dict[str, Any] = inputs[0]
        self.output: dict[str, Any] = outputs[0]
        self.interpreter.allocate_tensors()
        self._shape = tuple(self.input["shape"])

    @property
    def input_dtype(self) -> type:
        """The dtype the model computes its input in (float32 unless quantised inputs)."""
        return self.input["dtype"]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The model's output for the batch ``x`` (float32)."""
        x = np.asarray(x)
        if tuple(x.shape) != self._shape:
            self.interpreter.resize_tensor_input(self.input["index"], list(x.shape))
            self.interpreter.allocate_tensors()
            self._shape = tuple(x.shape)
        scale, zero_point = self.input["quantization"]
        if scale:
            x = np.round(x / scale + zero_point)
        self.interpreter.set_tensor(self.input["index"], x.astype(self.input["dtype"], copy=False))
        self.interpreter.invoke()
        result = self.interpreter.get_tensor(self.output["index"])
        scale, zero_point = self.output["quantization"]
        if scale:
            return (result.astype(np.float32) - zero_point) * scale
        return result.astype(np.float32, copy=False)
