"""helpers.imagenet: ResNet50 weights through the data layer, loaded for real, or an honest fallback.

No network: a ResNet50 with random weights is written to an ``.h5`` file in the legacy layout of
Keras' published ``resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5`` (root attribute
``layer_names``; one group per layer with attribute ``weight_names`` and one dataset per weight,
trainable weights first). The data layer only accepts the real file's MD5, so the tests register
the local file's MD5 instead, and then prove that the weights really loaded.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

from helpers import imagenet
from helpers.datasets import registry
from helpers.lessons import transfer_learning as transfer

SIZE = (32, 32)  # small inputs keep the test fast; the weights do not depend on the image size


def write_legacy_notop_h5(model: keras.Model, path: Path) -> Path:
    """Write ``model``'s weights the way Keras 2 wrote the keras-applications weight files."""
    with h5py.File(path, "w") as file:
        file.attrs["layer_names"] = [layer.name.encode("utf8") for layer in model.layers]
        file.attrs["backend"] = b"tensorflow"
        file.attrs["keras_version"] = b"2.2.4"
        for layer in model.layers:
            group = file.create_group(layer.name)
            weights = layer.trainable_weights + layer.non_trainable_weights  # the legacy order
            names = [f"{layer.name}/{weight.name}:0" for weight in weights]
            group.attrs["weight_names"] = [name.encode("utf8") for name in names]
            for name, weight in zip(names, weights, strict=True):
                group.create_dataset(name, data=weight.numpy())
    return path


@pytest.fixture(scope="module")
def source_resnet(tmp_path_factory: pytest.TempPathFactory) -> tuple[keras.Model, Path]:
    """A ResNet50 without top, random weights *and* random BatchNorm statistics, and its legacy .h5 file."""
    keras.utils.set_random_seed(1)
    model = keras.applications.ResNet50(weights=None, include_top=False, input_shape=(*SIZE, 3))
    rng = np.random.default_rng(1)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(rng.normal(0, 0.1, layer.moving_mean.shape))
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, layer.moving_variance.shape))
    filename = registry.registry_entry(imagenet.WEIGHTS_NAME).filename
    path = write_legacy_notop_h5(model, tmp_path_factory.mktemp("weights") / filename)
    return model, path


@pytest.fixture
def weights_in_data_dir(
    source_resnet: tuple[keras.Model, Path], isolated_data: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The local weights file in ``$COURSE_DATA_DIR``, registered with its own MD5 (a stand-in for the real file)."""
    _, path = source_resnet
    monkeypatch.setenv(registry.DATA_DIR_VARIABLE, str(path.parent))
    entry = registry.registry_entry(imagenet.WEIGHTS_NAME)
    local = registry.Checksum("md5", registry.file_digest(path, "md5"), "locally built test copy")
    monkeypatch.setitem(registry.REGISTRY, imagenet.WEIGHTS_NAME, dataclasses.replace(entry, checksums=(local,)))
    return path


def fallback() -> transfer.Backbone:
    return transfer.course_backbone(transfer.build_small_resnet(), "course small ResNet (test)")


def test_build_resnet50_loads_a_legacy_notop_weights_file(source_resnet: tuple[keras.Model, Path]) -> None:
    source, path = source_resnet
    loaded = imagenet.build_resnet50(path, SIZE)
    random = imagenet.build_resnet50(None, SIZE)
    assert loaded.output_shape == (None, 2048)
    for name in ("conv1_conv", "conv3_block2_2_bn", "conv5_block3_3_conv", "conv5_block3_3_bn"):
        for want, got in zip(source.get_layer(name).get_weights(), loaded.get_layer(name).get_weights(), strict=True):
            np.testing.assert_array_equal(got, want)
    first_kernel = source.get_layer("conv1_conv").get_weights()[0]
    assert not np.array_equal(random.get_layer("conv1_conv").get_weights()[0], first_kernel)
    images = np.random.default_rng(0).uniform(-100, 150, (2, *SIZE, 3)).astype(np.float32)
    expected = source(images, training=False).numpy().mean(axis=(1, 2))  # the file has no pooling layer
    np.testing.assert_allclose(loaded(images, training=False).numpy(), expected, rtol=1e-4, atol=1e-4)


def test_choose_backbone_uses_imagenet_weights_found_by_the_data_layer(
    weights_in_data_dir: Path, source_resnet: tuple[keras.Model, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imagenet, "image_size", lambda mode: SIZE)
    choice = imagenet.choose_backbone(fallback(), "fast", allow_download=False)
    assert choice.imagenet
    assert str(weights_in_data_dir) in choice.reason
    backbone = choice.backbone
    assert "ImageNet" in backbone.description and backbone.color_mode == "rgb" and backbone.image_size == SIZE
    assert backbone.fine_tune_prefix == imagenet.FINE_TUNE_PREFIX and backbone.preprocess is imagenet.preprocess
    source, _ = source_resnet
    want = source.get_layer("conv4_block6_3_conv").get_weights()[0]
    np.testing.assert_array_equal(backbone.model.get_layer("conv4_block6_3_conv").get_weights()[0], want)
    assert choice.plan.fine_tune_learning_rate < transfer.make_plan("fast").fine_tune_learning_rate
    assert transfer.set_fine_tunable(backbone.model, backbone.fine_tune_prefix)[0].startswith("conv5_")


def test_choose_backbone_falls_back_plainly_when_the_weights_are_missing(isolated_data: Path) -> None:
    course = fallback()
    choice = imagenet.choose_backbone(course, "fast", allow_download=False)
    assert not choice.imagenet and choice.backbone is course
    assert choice.plan == transfer.make_plan("fast")
    assert "NOT used" in choice.reason and "not available" in choice.reason and course.description in choice.reason
    assert "make data" in choice.reason


def test_choose_backbone_falls_back_on_a_file_that_is_not_the_real_one(
    source_resnet: tuple[keras.Model, Path], isolated_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, path = source_resnet  # the registry still expects the MD5 of Keras' published file
    monkeypatch.setenv(registry.DATA_DIR_VARIABLE, str(path.parent))
    choice = imagenet.choose_backbone(fallback(), "fast", allow_download=False)
    assert not choice.imagenet and "NOT used" in choice.reason and "not a valid copy" in choice.reason
    assert path.is_file(), "a file with the wrong checksum is never deleted"


def test_preprocess_copies_numpy_arrays_unlike_preprocess_input() -> None:
    pixels = np.full((1, 2, 2, 3), [200.0, 100.0, 50.0])
    result = imagenet.preprocess(pixels)
    np.testing.assert_array_equal(pixels, np.full((1, 2, 2, 3), [200.0, 100.0, 50.0]))
    np.testing.assert_allclose(result[0, 0, 0], [50 - 103.939, 100 - 116.779, 200 - 123.68], rtol=1e-5)
    keras.applications.resnet50.preprocess_input(pixels)  # the pitfall the wrapper avoids: the input changes
    np.testing.assert_allclose(pixels[0, 0, 0], result[0, 0, 0, ::-1], rtol=1e-5)


def test_imagenet_plan_is_smaller_and_sizes_grow_with_the_mode() -> None:
    fast, full = imagenet.imagenet_plan("fast"), imagenet.imagenet_plan("full")
    assert fast.target_test_size is not None and full.target_test_size is not None
    assert fast.target_test_size < full.target_test_size
    assert fast.fine_tune_epochs <= full.fine_tune_epochs
    assert imagenet.image_size("fast")[0] < imagenet.image_size("full")[0] <= 128
