"""Learning-curve and feature-map plots (helpers.figures.training)."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from helpers.figures.training import plot_feature_maps, plot_learning_curves

matplotlib.use("Agg")

WITH_VALIDATION = {
    "loss": [0.9, 0.5, 0.3],
    "accuracy": [0.7, 0.8, 0.9],
    "val_loss": [0.8, 0.6, 0.5],
    "val_accuracy": [0.75, 0.8, 0.85],
}
TRAIN_ONLY = {"loss": [1.0, 0.4], "accuracy": [0.6, 0.9]}


def test_learning_curves_one_panel_per_metric_dashed_validation() -> None:
    import matplotlib.pyplot as plt

    figure = plot_learning_curves({"baseline": WITH_VALIDATION, "cnn": TRAIN_ONLY})
    loss_axis, accuracy_axis = figure.axes
    assert (loss_axis.get_title(), accuracy_axis.get_title()) == ("loss", "accuracy")
    labels = [line.get_label() for line in accuracy_axis.get_lines()]
    assert labels == ["baseline train", "baseline validation", "cnn train"]
    validation = accuracy_axis.get_lines()[1]
    assert validation.get_linestyle() == "--"
    assert list(validation.get_xdata()) == [1, 2, 3] and list(validation.get_ydata()) == [0.75, 0.8, 0.85]
    assert list(accuracy_axis.get_lines()[2].get_xdata()) == [1, 2]
    plt.close(figure)


def test_learning_curves_explain_bad_input() -> None:
    with pytest.raises(ValueError, match="at least one run"):
        plot_learning_curves({})
    with pytest.raises(ValueError, match=r"run 'cnn' has no \['auc'\].*'accuracy', 'loss'"):
        plot_learning_curves({"cnn": TRAIN_ONLY}, metrics=("loss", "auc"))


def test_feature_maps_keep_each_size() -> None:
    import matplotlib.pyplot as plt

    maps = [np.zeros((28, 28)), np.ones((26, 26)), np.eye(13)]
    figure = plot_feature_maps(maps, ["digit", "conv", "pooled"])
    assert [axis.images[0].get_array().shape for axis in figure.axes] == [(28, 28), (26, 26), (13, 13)]
    assert figure.axes[2].get_title() == "pooled\n13×13"
    plt.close(figure)


def test_feature_maps_explain_bad_input() -> None:
    with pytest.raises(ValueError, match="at least one"):
        plot_feature_maps([])
    with pytest.raises(ValueError, match=r"items \[1\] have shapes \[\(1, 4, 4\)\]"):
        plot_feature_maps([np.zeros((4, 4)), np.zeros((1, 4, 4))])
    with pytest.raises(ValueError, match="2 maps but 1 titles"):
        plot_feature_maps([np.zeros((4, 4)), np.zeros((2, 2))], ["one"])
