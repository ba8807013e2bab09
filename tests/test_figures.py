"""The architecture figures of notebooks 02-06 draw the parts their lessons name."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from helpers.figures import architectures

EXPECTED_WORDS = {
    "computational_graph_figure": ["ReLU(a)", "dL/dz", "dL/dW1"],
    "mlp_figure": ["Dense 512", "softmax"],
    "cnn_figure": ["24×24×32", "4×4×64", "MaxPool"],
    "residual_block_figure": ["identity", "Conv 1×1", "add, ReLU"],
    "small_resnet_figure": ["stage 3", "global average"],
    "transfer_figure": ["frozen", "fine-tuning", "new head 5-9"],
    "serving_figure": ["SavedModel", "LiteRT", ":predict"],
}


@pytest.mark.parametrize("name", sorted(EXPECTED_WORDS))
def test_each_figure_draws_boxes_labelled_with_the_lessons_terms(name: str) -> None:
    figure = getattr(architectures, name)()
    axes = figure.axes[0]
    text = " ".join(item.get_text() for item in axes.texts)
    assert len(axes.patches) >= 3, f"{name} should draw several boxes"
    for word in EXPECTED_WORDS[name]:
        assert word in text, f"{name} does not show {word!r}"
    plt.close(figure)
