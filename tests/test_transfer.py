"""helpers.transfer: digit tasks, image folders, residual blocks, feature extraction and fine-tuning."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers.datasets import digit_tasks as transfer_data
from helpers.figures import transfer as plots_transfer
from helpers.lessons import transfer_learning as transfer

LABELS = np.repeat(np.arange(10), 8)  # 8 images of each digit
IMAGES = (np.arange(len(LABELS))[:, None, None] + np.zeros((1, 4, 4))).astype(np.uint8)  # image i is filled with i


def tiny_plan(**changes: object) -> transfer.Plan:
    """A plan small enough for unit tests."""
    plan = dataclasses.replace(
        transfer.make_plan("fast"), head_epochs=30, fine_tune_epochs=2, scratch_epochs=2, batch_size=8, source_epochs=1
    )
    return dataclasses.replace(plan, **changes)


def bright_or_dark(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A trivially learnable 2-class task: dark images (label 0) and bright images (label 1)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 2
    images = rng.integers(0, 60, (count, 28, 28)) + labels[:, None, None] * 180
    return images.astype(np.uint8), labels


def test_plans_differ_by_mode_and_compare_scratch_at_the_same_budget() -> None:
    fast, full = transfer.make_plan("fast"), transfer.make_plan("full")
    assert fast.labels_per_class == full.labels_per_class == 50
    assert full.source_train_size is None and full.target_test_size is None
    assert fast.source_train_size is not None and fast.source_train_size < 30000
    for plan in (fast, full):
        assert plan.scratch_epochs == plan.fine_tune_epochs
        assert plan.scratch_learning_rate == plan.fine_tune_learning_rate


def test_fewer_labels_get_more_epochs_for_about_the_same_steps() -> None:
    fifty, ten = transfer.make_plan("full"), transfer.make_plan("full", labels_per_class=10)
    assert ten.labels_per_class == 10 and ten.source_epochs == fifty.source_epochs
    assert ten.fine_tune_epochs == 5 * fifty.fine_tune_epochs == ten.scratch_epochs
    assert ten.head_epochs == 5 * fifty.head_epochs
    with pytest.raises(ValueError, match="at least 1"):
        transfer.make_plan("fast", labels_per_class=0)


def test_select_digits_keeps_those_digits_renumbered() -> None:
    images, labels = transfer_data.select_digits(IMAGES, LABELS, (5, 6, 7, 8, 9), per_class=3, seed=1)
    assert images.shape == (15, 4, 4) and np.bincount(labels).tolist() == [3, 3, 3, 3, 3]
    original_digits = images[:, 0, 0] // 8  # image i shows digit i // 8
    np.testing.assert_array_equal(original_digits, np.array([5, 6, 7, 8, 9])[labels])
    again, _ = transfer_data.select_digits(IMAGES, LABELS, (5, 6, 7, 8, 9), per_class=3, seed=1)
    np.testing.assert_array_equal(images, again)
    _, all_labels = transfer_data.select_digits(IMAGES, LABELS, (0, 1), seed=0)
    assert sorted(all_labels.tolist()) == [0] * 8 + [1] * 8
    subset, _ = transfer_data.select_digits(IMAGES, LABELS, (0, 1, 2), limit=5)
    assert len(subset) == 5


def test_select_digits_rejects_impossible_requests() -> None:
    with pytest.raises(ValueError, match="asked for 9"):
        transfer_data.select_digits(IMAGES, LABELS, (1,), per_class=9)
    with pytest.raises(ValueError, match="not both"):
        transfer_data.select_digits(IMAGES, LABELS, (1,), per_class=1, limit=1)
    with pytest.raises(ValueError, match="labels"):
        transfer_data.select_digits(IMAGES, LABELS[:-1], (1,))


def test_image_folders_round_trip_through_image_dataset_from_directory(tmp_path: Path) -> None:
    images, labels = bright_or_dark(6, seed=0)
    root = transfer_data.write_image_folders(images, labels, ("dark", "bright"), tmp_path / "tree")
    assert sorted(path.name for path in root.iterdir()) == ["bright", "dark"]
    assert len(list((root / "dark").glob("*.png"))) == 3
    loaded = keras.utils.image_dataset_from_directory(
        root, color_mode="grayscale", image_size=(28, 28), shuffle=False, verbose=False
    )
    assert loaded.class_names == ["bright", "dark"]  # sorted folder names, not the order given
    read_images, read_labels = next(iter(loaded))
    assert read_images.shape == (6, 28, 28, 1) and read_images.dtype == tf.float32
    for image, label in zip(read_images.numpy(), read_labels.numpy(), strict=True):
        matches = [i for i in range(6) if np.array_equal(images[i], image[..., 0].astype(np.uint8))]
        assert len(matches) == 1, "each PNG must hold exactly one of the images, unchanged"
        assert ("dark", "bright")[labels[matches[0]]] == loaded.class_names[label]


def test_image_folders_refuse_to_clobber_unless_asked(tmp_path: Path) -> None:
    images, labels = bright_or_dark(4, seed=0)
    transfer_data.write_image_folders(images, labels, ("a", "b"), tmp_path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        transfer_data.write_image_folders(images, labels, ("a", "b"), tmp_path)
    transfer_data.write_image_folders(images[:2], labels[:2], ("a", "b"), tmp_path, overwrite=True)
    assert len(list(tmp_path.rglob("*.png"))) == 2
    with pytest.raises(ValueError, match="uint8"):
        transfer_data.write_image_folders(images.astype(np.float32), labels, ("a", "b"), tmp_path / "x")
    with pytest.raises(ValueError, match="index class_names"):
        transfer_data.write_image_folders(images, labels + 1, ("a", "b"), tmp_path / "y")


def test_residual_blocks_use_identity_or_projection_shortcuts() -> None:
    inputs = keras.Input((8, 8, 4))
    same = transfer.residual_block(inputs, 4, name="same")
    wider = transfer.residual_block(inputs, 6, name="wider")
    smaller = transfer.residual_block(inputs, 4, stride=2, name="smaller")
    model = keras.Model(inputs, [same, wider, smaller])
    assert same.shape[1:] == (8, 8, 4) and wider.shape[1:] == (8, 8, 6) and smaller.shape[1:] == (4, 4, 4)
    names = {layer.name for layer in model.layers}
    assert "same_projection" not in names
    assert {"wider_projection", "smaller_projection"} <= names
    # With the last BatchNorm's scale at 0, F(x) = 0 and an identity block returns ReLU(x).
    identity = keras.Model(inputs, same)
    bn = identity.get_layer("same_bn2")
    bn.gamma.assign(tf.zeros_like(bn.gamma))
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 4)).astype(np.float32)
    np.testing.assert_allclose(identity(x, training=False).numpy(), np.maximum(x, 0), atol=1e-6)


def test_small_resnet_shapes_and_batchnorm_momentum() -> None:
    backbone = transfer.build_small_resnet()
    assert backbone.name == transfer.BACKBONE_NAME
    assert backbone.output_shape == (None, 64)
    momenta = {layer.momentum for layer in backbone.layers if isinstance(layer, keras.layers.BatchNormalization)}
    assert momenta == {transfer.BN_MOMENTUM}
    assert backbone.get_layer("stage3_out").output.shape[1:] == (7, 7, 64)


def test_set_fine_tunable_unfreezes_only_the_named_layers() -> None:
    backbone = transfer.build_small_resnet()
    backbone.trainable = False
    chosen = transfer.set_fine_tunable(backbone, "stage3")
    assert chosen and all(name.startswith("stage3") for name in chosen)
    assert {layer.name for layer in backbone.layers if layer.trainable} == set(chosen)
    assert 0 < len(backbone.trainable_weights) < len(backbone.weights)
    assert len(transfer.set_fine_tunable(backbone, None)) == len(backbone.layers)
    transfer.set_fine_tunable(backbone, None, freeze_batchnorm=True)
    frozen = {layer.name for layer in backbone.layers if not layer.trainable}
    batchnorm = {layer.name for layer in backbone.layers if isinstance(layer, keras.layers.BatchNormalization)}
    assert frozen == batchnorm and batchnorm
    with pytest.raises(ValueError, match="no layer whose name starts with"):
        transfer.set_fine_tunable(backbone, "stage9")


def test_extract_features_keeps_images_and_labels_paired_when_the_dataset_reshuffles() -> None:
    images = np.arange(40, dtype=np.float32).reshape(40, 1)
    dataset = tf.data.Dataset.from_tensor_slices((images, np.arange(40))).shuffle(40, seed=1).batch(7)
    doubling = keras.Sequential([keras.Input((1,)), keras.layers.Rescaling(2.0)])
    features, labels = transfer.extract_features(doubling, dataset)
    assert sorted(labels.tolist()) == list(range(40))
    np.testing.assert_array_equal(features[:, 0], 2.0 * labels)


def test_augmentation_changes_images_but_not_their_shape() -> None:
    images = np.zeros((4, 28, 28, 1), np.float32)
    images[:, 10:18, 12:16] = 255.0
    augment = transfer.augmentation(seed=0)
    changed = augment(images, training=True).numpy()
    assert changed.shape == images.shape
    assert not np.allclose(changed, images)
    np.testing.assert_array_equal(augment(images, training=False).numpy(), images)


def test_fit_transfer_trains_a_head_then_fine_tunes_the_backbone() -> None:
    keras.utils.set_random_seed(0)
    plan = tiny_plan(fine_tune_learning_rate=1e-4)
    train = transfer_data.array_dataset(*bright_or_dark(32, seed=1), plan.batch_size, shuffle_seed=0)
    test = transfer_data.array_dataset(*bright_or_dark(32, seed=2), 16)
    model = transfer.build_small_resnet()
    backbone = transfer.Backbone(model, "random weights", (28, 28), "grayscale", freeze_batchnorm=True)
    before = [weight.copy() for weight in model.get_weights()]

    frozen_only = transfer.fit_transfer(backbone, train, test, 2, plan, fine_tune=False)
    assert frozen_only.frozen_accuracy >= 0.9, "a head on frozen features should separate bright from dark"
    assert frozen_only.fine_tuned_accuracy is None and frozen_only.model is not None
    assert not frozen_only.model.get_layer(model.name).trainable_weights, (
        "without fine-tuning, the backbone stays frozen"
    )
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))

    result = transfer.fit_transfer(backbone, train, test, 2, plan)
    assert result.fine_tuned_accuracy is not None and result.fine_tuned_accuracy >= 0.9
    assert result.fine_tune_seconds is not None and result.fine_tune_seconds > 0
    assert result.backbone == "random weights"
    assert not all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))
    probabilities = result.model.predict_on_batch(np.zeros((3, 28, 28, 1), np.float32))
    assert probabilities.shape == (3, 2)


@pytest.mark.parametrize("freeze_batchnorm", [True, False])
def test_fine_tuning_freezes_or_adapts_the_batchnorm_statistics(freeze_batchnorm: bool) -> None:
    keras.utils.set_random_seed(0)
    plan = tiny_plan(fine_tune_epochs=1)
    train = transfer_data.array_dataset(*bright_or_dark(16, seed=1), plan.batch_size, shuffle_seed=0)
    model = transfer.build_small_resnet()
    backbone = transfer.Backbone(model, "random", (28, 28), "grayscale", freeze_batchnorm=freeze_batchnorm)
    moving_means = [layer.moving_mean for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    before = [mean.numpy().copy() for mean in moving_means]
    transfer.fit_transfer(backbone, train, train, 2, plan)
    unchanged = all(np.array_equal(a, mean.numpy()) for a, mean in zip(before, moving_means, strict=True))
    assert unchanged == freeze_batchnorm


def test_pretrain_and_scratch_learn_and_the_saved_backbone_loads(tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    plan = tiny_plan(scratch_epochs=3)
    data = bright_or_dark(32, seed=3)
    source = transfer.pretrain(transfer.build_small_resnet(), transfer_data.array_dataset(*data, 8), 2, plan)
    assert source.output_shape == (None, 2)
    path = tmp_path / "source.keras"
    source.save(path)
    loaded = transfer.load_pretrained_backbone(path)
    assert loaded.image_size == (28, 28) and loaded.color_mode == "grayscale" and "digits 0-4" in loaded.description
    x = data[0][:4, ..., None].astype(np.float32)
    np.testing.assert_allclose(
        loaded.model(x, training=False).numpy(), source.get_layer(transfer.BACKBONE_NAME)(x, training=False).numpy()
    )
    train = transfer_data.array_dataset(*data, 8, shuffle_seed=0)
    accuracy, seconds = transfer.train_from_scratch(transfer.build_small_resnet(), train, train, 2, plan)
    assert 0.0 <= accuracy <= 1.0 and seconds > 0
    with pytest.raises(FileNotFoundError, match="pretraining step"):
        transfer.load_pretrained_backbone(tmp_path / "missing.keras")


def test_comparison_table_has_the_four_methods_in_order() -> None:
    pretrained = transfer.TransferResult("p", 0.8, 2.0, 0.95, 10.0)
    table = transfer.comparison_table(pretrained, (0.9, 9.0), transfer.TransferResult("r", 0.6, 1.0))
    assert list(table.index) == ["frozen", "fine-tuned", "scratch", "random-frozen"]
    assert table["test accuracy"].tolist() == [0.8, 0.95, 0.9, 0.6]
    assert table.loc["fine-tuned", "seconds"] == 12.0
    figure = plots_transfer.plot_comparison(table, title="t")
    assert len(figure.axes[0].patches) == 4
    with pytest.raises(ValueError, match="no fine-tuning"):
        transfer.comparison_table(transfer.TransferResult("p", 0.8, 2.0), (0.9, 9.0), pretrained)
    assert list(transfer.comparison_table(pretrained, (0.9, 9.0)).index) == ["frozen", "fine-tuned", "scratch"]


def test_accuracy_curve_has_one_row_per_label_count_and_plots() -> None:
    pretrained = transfer.TransferResult("p", 0.8, 2.0, 0.95, 10.0)
    tables = {
        50: transfer.comparison_table(pretrained, (0.9, 9.0), transfer.TransferResult("r", 0.6, 1.0)),
        10: transfer.comparison_table(transfer.TransferResult("p", 0.6, 2.0, 0.7, 10.0), (0.5, 9.0)),
    }
    curve = transfer.accuracy_curve(tables)
    assert list(curve.index) == [10, 50] and list(curve.columns) == ["frozen", "fine-tuned", "scratch"]
    assert curve.loc[10, "fine-tuned"] == 0.7 and curve.loc[50, "scratch"] == 0.9
    figure = plots_transfer.plot_label_efficiency(curve, title="t")
    assert len(figure.axes[0].lines) == 3
    assert transfer.label_counts("fast") == (10, 50) and transfer.label_counts("full") == (10, 25, 50, 100)
