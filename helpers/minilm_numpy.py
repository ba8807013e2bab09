"""An independent check of notebook 09's encoder: a BERT forward pass in plain NumPy.

It reads the same ``model.safetensors`` file as ``keras_hub`` (all-MiniLM-L6-v2: 6 post-norm
blocks, width 384, 12 heads) and computes what sentence-transformers computes: token, position and
segment embeddings, layer norm, then per block self-attention + residual + layer norm and a GELU
MLP + residual + layer norm; finally the mean of the token vectors where the padding mask is 1,
normalised to length 1. Nothing here comes from Keras, so agreeing with the Keras model shows that
the weights were loaded into the right places.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class BertWeights:
    """The checkpoint's arrays by their Hugging Face names, and the sizes from ``config.json``."""

    arrays: dict[str, np.ndarray]
    layers: int
    heads: int
    epsilon: float


def load_bert_weights(folder: Path) -> BertWeights:
    """``model.safetensors`` and ``config.json`` of a BERT checkpoint folder (float32 arrays)."""
    from safetensors.numpy import load_file

    folder = Path(folder)
    missing = [name for name in ("model.safetensors", "config.json") if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{folder} has no {' or '.join(missing)}: fetch the model with helpers.datasets.registry.fetch"
        )
    config = json.loads((folder / "config.json").read_text())
    arrays = {name: value.astype(np.float32) for name, value in load_file(folder / "model.safetensors").items()}
    return BertWeights(arrays, config["num_hidden_layers"], config["num_attention_heads"], config["layer_norm_eps"])


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, epsilon: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    variance = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


def gelu(x: np.ndarray, approximate: bool = False) -> np.ndarray:
    """GELU, x Φ(x) with Φ the standard normal CDF (BERT's original), or its tanh approximation.

    ``keras_hub``'s BERT uses the approximation: 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))).
    """
    if approximate:
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return x * 0.5 * (1.0 + erf(x / math.sqrt(2.0)))


def dense(x: np.ndarray, arrays: dict[str, np.ndarray], name: str) -> np.ndarray:
    """A PyTorch-style linear layer: the weight is stored (out, in)."""
    return x @ arrays[f"{name}.weight"].T + arrays[f"{name}.bias"]


def token_vectors(
    weights: BertWeights, token_ids: np.ndarray, padding_mask: np.ndarray, *, approximate_gelu: bool = False
) -> np.ndarray:
    """The last block's output, (batch, length, width), for ``token_ids`` with ``padding_mask`` (1 = real token)."""
    a, eps = weights.arrays, weights.epsilon
    token_ids = np.asarray(token_ids)
    length = token_ids.shape[1]
    x = a["embeddings.word_embeddings.weight"][token_ids]
    x = x + a["embeddings.position_embeddings.weight"][:length] + a["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, a["embeddings.LayerNorm.weight"], a["embeddings.LayerNorm.bias"], eps)
    batch, width = x.shape[0], x.shape[2]
    head = width // weights.heads
    blocked = np.where(np.asarray(padding_mask, bool)[:, None, None, :], 0.0, -1e9)  # keys that are padding

    def split(t: np.ndarray) -> np.ndarray:  # (batch, length, width) -> (batch, heads, length, head)
        return t.reshape(batch, length, weights.heads, head).transpose(0, 2, 1, 3)

    for layer in range(weights.layers):
        p = f"encoder.layer.{layer}"
        q, k, v = (split(dense(x, a, f"{p}.attention.self.{n}")) for n in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head) + blocked
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        attended = (scores / scores.sum(axis=-1, keepdims=True)) @ v
        attended = attended.transpose(0, 2, 1, 3).reshape(batch, length, width)
        x = layer_norm(
            x + dense(attended, a, f"{p}.attention.output.dense"),
            a[f"{p}.attention.output.LayerNorm.weight"],
            a[f"{p}.attention.output.LayerNorm.bias"],
            eps,
        )
        hidden = gelu(dense(x, a, f"{p}.intermediate.dense"), approximate_gelu)
        x = layer_norm(
            x + dense(hidden, a, f"{p}.output.dense"),
            a[f"{p}.output.LayerNorm.weight"],
            a[f"{p}.output.LayerNorm.bias"],
            eps,
        )
    return x


def sentence_embeddings(
    weights: BertWeights, token_ids: np.ndarray, padding_mask: np.ndarray, *, approximate_gelu: bool = False
) -> np.ndarray:
    """Mean of the real tokens' vectors, normalised to length 1: (batch, width)."""
    vectors = token_vectors(weights, token_ids, padding_mask, approximate_gelu=approximate_gelu)
    mask = np.asarray(padding_mask, dtype=np.float64)[:, :, None]
    mean = (vectors * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)
    return mean / np.linalg.norm(mean, axis=1, keepdims=True)
