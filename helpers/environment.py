"""What notebook 00 reports about the machine: versions and devices."""

from __future__ import annotations

import importlib.metadata
import platform

REPORTED_PACKAGES = (
    "tensorflow",
    "keras",
    "numpy",
    "pandas",
    "scikit-learn",
    "matplotlib",
    "seaborn",
    "jupyterlab",
)


def package_versions() -> dict[str, str]:
    """Python's version and each course package's installed version ("not installed" if absent)."""
    versions = {"python": platform.python_version()}
    for package in REPORTED_PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def devices() -> list[dict[str, str]]:
    """TensorFlow's physical devices as rows (type, name); a GPU row only where TF can use one."""
    import tensorflow as tf

    return [{"type": device.device_type, "name": device.name} for device in tf.config.list_physical_devices()]
