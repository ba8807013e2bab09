"""The ImageNet path of notebook 04: Keras' ResNet50 with ImageNet weights, or an honest fallback.

The weights file (``resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5``, 94 MB) comes from the
course's data layer like every other file: ``$COURSE_DATA_DIR``, the course cache, or a checked
download (``make data`` prefetches it). :func:`choose_backbone` returns ImageNet's ResNet50 when
the file is there and the course's own pretrained backbone otherwise, with a sentence that says
plainly which one runs and why; nothing pretends ImageNet weights were used when they were not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from helpers.datasets import registry
from helpers.lessons.transfer_learning import Backbone, Plan, make_plan
from helpers.mode import by_mode

if TYPE_CHECKING:
    import keras

WEIGHTS_NAME = "resnet50_imagenet_notop"  # the data layer's registry entry
FINE_TUNE_PREFIX = "conv5_"  # fine-tune only ResNet50's last stage; the early layers keep their ImageNet filters


def image_size(mode: str) -> tuple[int, int]:
    """The side ResNet50 sees the digits at: small enough for a laptop CPU (ImageNet used 224)."""
    side = by_mode(mode, fast=64, full=96)
    return side, side


def imagenet_plan(mode: str) -> Plan:
    """The experiment for ResNet50: fewer test images and epochs than the small ResNet (it is ~400× bigger),
    and a small fine-tuning learning rate so that the ImageNet filters are adjusted, not overwritten."""
    return replace(
        make_plan(mode),
        target_test_size=by_mode(mode, fast=500, full=2000),
        fine_tune_epochs=by_mode(mode, fast=2, full=8),
        fine_tune_learning_rate=1e-5,  # what the Keras transfer-learning guide uses for a pretrained backbone
    )


def preprocess(images: Any) -> Any:
    """``keras.applications.resnet50.preprocess_input`` on a *copy* of NumPy arrays.

    ResNet50 expects its ImageNet preprocessing: RGB turned into BGR and the ImageNet mean pixel
    subtracted. ``preprocess_input`` does that *in place* on a float NumPy array (the caller's
    images change under their feet), so arrays are copied first; tensors are never modified.
    """
    from keras.applications import resnet50

    if isinstance(images, np.ndarray):
        images = np.array(images, dtype=np.float32, copy=True)
    return resnet50.preprocess_input(images)


def build_resnet50(weights: Path | str | None, size: tuple[int, int]) -> keras.Model:
    """``keras.applications.ResNet50(weights=..., include_top=False)`` returning one 2048-vector per image.

    ``weights`` is the path of the no-top ImageNet weights file (legacy Keras ``.h5`` layout), or
    None for random weights.
    """
    import keras

    return keras.applications.ResNet50(
        weights=None if weights is None else str(weights), include_top=False, input_shape=(*size, 3), pooling="avg"
    )


def resnet50_backbone(weights: Path, mode: str) -> Backbone:
    """ImageNet's ResNet50 as a notebook-04 ``Backbone`` (RGB, ``image_size(mode)``, its preprocessing)."""
    size = image_size(mode)
    return Backbone(
        model=build_resnet50(weights, size),
        description=f"ResNet50 with ImageNet weights ({Path(weights).name})",
        image_size=size,
        color_mode="rgb",
        preprocess=preprocess,
        fine_tune_prefix=FINE_TUNE_PREFIX,
        freeze_batchnorm=True,  # ResNet50's BatchNormalization uses momentum 0.99: keep its ImageNet statistics
    )


@dataclass
class Choice:
    """The backbone the ImageNet section runs, its plan, and why."""

    backbone: Backbone
    plan: Plan
    imagenet: bool  # True only when ImageNet weights were really loaded
    reason: str


def choose_backbone(fallback: Backbone, mode: str, *, allow_download: bool = True) -> Choice:
    """ResNet50 with ImageNet weights if the data layer has them, else ``fallback``, saying which and why.

    ``allow_download=True`` lets the data layer download the weights (checked against their MD5)
    when they are not on this machine; offline that fails at once and the fallback runs.
    """
    try:
        weights = registry.fetch(WEIGHTS_NAME, allow_download=allow_download)
    except registry.DataError as error:
        reason = str(error).splitlines()[0]
        return Choice(
            backbone=fallback,
            plan=make_plan(mode),
            imagenet=False,
            reason=(
                f"ImageNet weights NOT used: {reason} This section runs the same code on the fallback "
                f"backbone instead: {fallback.description}. To use ImageNet weights, run `make data` "
                "with network (or set COURSE_DATA_DIR to a folder that holds the file), then rerun."
            ),
        )
    return Choice(
        backbone=resnet50_backbone(weights, mode),
        plan=imagenet_plan(mode),
        imagenet=True,
        reason=f"ImageNet weights loaded from {weights}.",
    )
