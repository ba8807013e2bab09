"""The 2-D plots: batched evaluation, what they draw, and clear errors on bad input."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from helpers.figures import fundamentals as plots_2d

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


class Recorder:
    """A surface that records how it was called."""

    def __init__(self, function):
        self.function, self.calls = function, []

    def __call__(self, points):
        self.calls.append(np.asarray(points).shape)
        return self.function(points)


POINTS = np.random.default_rng(0).normal(size=(50, 2))
LABELS = (POINTS[:, 0] + POINTS[:, 1] > 0).astype(int)


def test_decision_boundary_predicts_the_whole_grid_in_one_call() -> None:
    predict = Recorder(lambda p: 1 / (1 + np.exp(-(p[:, 0] + p[:, 1]))))
    figure = plots_2d.plot_decision_boundary(predict, POINTS, LABELS, resolution=30, title="logistic")
    assert predict.calls == [(900, 2)]
    axis = figure.axes[0]
    assert axis.get_title() == "logistic"
    assert len(axis.collections) >= 3  # filled contours, the 0.5 line, the points
    assert len(figure.axes) == 2  # the panel and its colour bar


def test_decision_boundary_accepts_column_probabilities_and_an_existing_axis() -> None:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2)
    returned = plots_2d.plot_decision_boundary(lambda p: np.full((len(p), 1), 0.3), POINTS, LABELS, ax=axes[1])
    assert returned is figure
    assert axes[1].collections and not axes[0].collections


def test_decision_boundary_errors_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="look like logits"):
        plots_2d.plot_decision_boundary(lambda p: 5 * p[:, 0], POINTS, LABELS)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        plots_2d.plot_decision_boundary(lambda p: p[:, 0], POINTS[:, :1], LABELS)
    with pytest.raises(ValueError, match="x has 50 points but y has 3 labels"):
        plots_2d.plot_decision_boundary(lambda p: p[:, 0], POINTS, LABELS[:3])
    with pytest.raises(ValueError, match="one value per point"):
        plots_2d.plot_decision_boundary(lambda p: p, POINTS, LABELS)


def bowl(points):
    return points[:, 0] ** 2 + 10 * points[:, 1] ** 2 + 0.1


def test_trajectories_draw_each_path_the_start_and_the_minimum() -> None:
    surface = Recorder(bowl)
    paths = {"a": [[2.0, 1.0], [1.0, 0.5], [0.2, 0.1]], "b": np.array([[2.0, 1.0], [0.0, 0.0]])}
    figure = plots_2d.plot_trajectories(surface, paths, minimum=[0.0, 0.0], resolution=20, title="bowl")
    assert surface.calls == [(400, 2)]
    axis = figure.axes[0]
    labels = [line.get_label() for line in axis.get_lines()]
    assert labels == ["a", "b", "start", "minimum"]
    np.testing.assert_allclose(axis.get_lines()[0].get_xydata(), paths["a"])
    low, high = axis.get_xlim()
    assert low < 0.0 and high > 2.0  # every path is inside the plotted region
    assert axis.get_title() == "bowl"


def test_trajectories_errors() -> None:
    with pytest.raises(ValueError, match="trajectories is empty"):
        plots_2d.plot_trajectories(bowl, {})
    with pytest.raises(ValueError, match=r"path of 'a'.*shape \(n, 2\)"):
        plots_2d.plot_trajectories(bowl, {"a": [1.0, 2.0, 3.0]})


def test_functions_and_derivatives_two_panels() -> None:
    x = np.linspace(-2, 2, 9)
    figure = plots_2d.plot_functions_and_derivatives(x, {"square": (x**2, 2 * x), "relu": (np.maximum(x, 0), x > 0)})
    left, right = figure.axes
    assert [line.get_label() for line in left.get_lines()][:2] == ["square", "relu"]
    np.testing.assert_allclose(right.get_lines()[0].get_ydata(), 2 * x)
    with pytest.raises(ValueError, match=r"square: values \(9,\) and derivatives \(3,\)"):
        plots_2d.plot_functions_and_derivatives(x, {"square": (x**2, x[:3])})
    with pytest.raises(ValueError, match="curves is empty"):
        plots_2d.plot_functions_and_derivatives(x, {})
