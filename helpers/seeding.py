"""Reproducible runs: one call seeds Python, NumPy and TensorFlow."""

from __future__ import annotations


def seed_everything(seed: int = 42, *, deterministic_ops: bool = False) -> None:
    """Seed Python's ``random``, NumPy and TensorFlow (through ``keras.utils.set_random_seed``).

    ``deterministic_ops=True`` also asks TensorFlow for deterministic kernels: bit-identical
    reruns, at some cost in speed (and some ops then refuse to run on a GPU).
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if deterministic_ops:
        tf.config.experimental.enable_op_determinism()
