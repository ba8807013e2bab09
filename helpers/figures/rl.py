"""Figures of notebook 12 (reinforcement learning): grid worlds with values, policies and paths, learning
curves, and the deep Q-network's loop.

Each function returns its :class:`matplotlib.figure.Figure`; the notebook shows it. States of a grid
world are numbered row by row (``state = row * columns + column``), as gymnasium's toy-text
environments number them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from helpers.figures.primitives import arrow, box, canvas

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# gymnasium's toy-text actions: 0 left, 1 down, 2 right, 3 up (FrozenLake); CliffWalking numbers them
# 0 up, 1 right, 2 down, 3 left. Arrows as (dx, dy) on a plot whose y axis points down.
FROZEN_LAKE_MOVES = {0: (-1, 0), 1: (0, 1), 2: (1, 0), 3: (0, -1)}
CLIFF_WALKING_MOVES = {0: (0, -1), 1: (1, 0), 2: (0, 1), 3: (-1, 0)}
CELL_COLORS = {"S": "#cfe3d4", "F": "#e8eef7", "H": "#4a4a4a", "G": "#f6d7a7", "C": "#4a4a4a", "o": "#e8eef7"}
PATH_COLORS = ("#c44e52", "#4c72b0", "#55a868", "#8172b3")


def check_grid(cells: Sequence[str]) -> tuple[int, int]:
    """(rows, columns) of a grid given as equal-length strings, one per row; a clear error otherwise."""
    if not cells or any(len(row) != len(cells[0]) for row in cells):
        raise ValueError("give the grid as a non-empty list of equal-length strings, one per row, e.g. ['SFFF', ...]")
    return len(cells), len(cells[0])


def draw_cells(axes: Axes, cells: Sequence[str]) -> None:
    """The grid's cells as coloured squares with their letter (S start, F frozen, H hole, G goal, C cliff)."""
    from matplotlib.patches import Rectangle

    rows, columns = check_grid(cells)
    for row in range(rows):
        for column in range(columns):
            letter = cells[row][column]
            color = CELL_COLORS.get(letter, "#ffffff")
            axes.add_patch(Rectangle((column, row), 1, 1, facecolor=color, edgecolor="#999999"))
            if letter in "SGHC":
                text_color = "white" if letter in "HC" else "#333333"
                axes.text(column + 0.12, row + 0.25, letter, fontsize=7, color=text_color)
    axes.set_xlim(0, columns)
    axes.set_ylim(rows, 0)
    axes.set_aspect("equal")
    axes.set_xticks([])
    axes.set_yticks([])


def draw_policy(axes: Axes, cells: Sequence[str], policy: np.ndarray, moves: Mapping[int, tuple[int, int]]) -> None:
    """An arrow in every non-terminal cell (not a hole, goal or cliff) for the action ``policy`` takes there."""
    rows, columns = check_grid(cells)
    policy = np.asarray(policy).reshape(rows, columns)
    for row in range(rows):
        for column in range(columns):
            if cells[row][column] in "HGC":
                continue
            dx, dy = moves[int(policy[row, column])]
            axes.annotate(
                "",
                xy=(column + 0.5 + 0.3 * dx, row + 0.5 + 0.3 * dy),
                xytext=(column + 0.5 - 0.3 * dx, row + 0.5 - 0.3 * dy),
                arrowprops={"arrowstyle": "->", "color": "#222222", "linewidth": 1.3},
            )


def frozen_lake_figure(
    cells: Sequence[str], values: np.ndarray | None, policies: Mapping[str, np.ndarray], title: str
) -> Figure:
    """One panel per policy (arrows in every cell); the first panel also writes ``values`` (one per state)."""
    import matplotlib.pyplot as plt

    rows, columns = check_grid(cells)
    figure, axes_row = plt.subplots(1, len(policies), figsize=(3.2 * len(policies), 3.4), squeeze=False)
    for number, (axes, (name, policy)) in enumerate(zip(axes_row[0], policies.items(), strict=True)):
        draw_cells(axes, cells)
        draw_policy(axes, cells, policy, FROZEN_LAKE_MOVES)
        if values is not None and number == 0:
            grid = np.asarray(values).reshape(rows, columns)
            for row in range(rows):
                for column in range(columns):
                    if cells[row][column] not in "HG":
                        axes.text(column + 0.95, row + 0.93, f"{grid[row, column]:.2f}", fontsize=7, ha="right")
        axes.set_title(name, fontsize=9)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


def cliff_cells(rows: int = 4, columns: int = 12) -> list[str]:
    """CliffWalking's grid: start S bottom left, goal G bottom right, the cliff C between them."""
    if rows < 2 or columns < 3:
        raise ValueError(f"a cliff needs at least 2 rows and 3 columns, got {rows} × {columns}")
    return ["o" * columns] * (rows - 1) + ["S" + "C" * (columns - 2) + "G"]


def paths_figure(cells: Sequence[str], paths: Mapping[str, Sequence[int]], title: str) -> Figure:
    """Each path (a list of states, start to end) drawn as a line through the cells' centres, slightly offset."""
    import matplotlib.pyplot as plt

    rows, columns = check_grid(cells)
    figure, axes = plt.subplots(figsize=(0.55 * columns + 1.0, 0.55 * rows + 1.0))
    draw_cells(axes, cells)
    for number, (name, path) in enumerate(paths.items()):
        states = np.asarray(path, dtype=int)
        offset = 0.12 * (number - (len(paths) - 1) / 2)
        axes.plot(
            states % columns + 0.5 + offset,
            states // columns + 0.5 + offset,
            marker="o",
            markersize=3,
            linewidth=2,
            color=PATH_COLORS[number % len(PATH_COLORS)],
            label=f"{name} ({len(states) - 1} steps)",
        )
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.04), ncol=len(paths), fontsize=8, frameon=False)
    axes.set_title(title, fontsize=10)
    figure.tight_layout()
    return figure


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """The mean of each ``window`` consecutive values (``len(values) - window + 1`` of them)."""
    values = np.asarray(values, dtype=np.float64)
    if not 1 <= window <= len(values):
        raise ValueError(f"window must be between 1 and the number of values ({len(values)}), got {window}")
    sums = np.cumsum(np.concatenate([[0.0], values]))
    return (sums[window:] - sums[:-window]) / window


def learning_curves_figure(
    curves: Mapping[str, np.ndarray],
    *,
    window: int,
    title: str,
    xlabel: str = "episode",
    ylabel: str = "return of the episode",
    ylim: tuple[float, float] | None = None,
    reference: Mapping[str, float] | None = None,
) -> Figure:
    """Each curve (one value per episode) as its moving average over ``window`` episodes; optional
    horizontal reference lines (``{label: value}``)."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7.5, 3.6))
    for number, (name, values) in enumerate(curves.items()):
        smooth = moving_average(values, window)
        axes.plot(np.arange(window, len(values) + 1), smooth, color=PATH_COLORS[number % len(PATH_COLORS)], label=name)
    for name, value in (reference or {}).items():
        axes.axhline(value, color="#777777", linestyle="--", linewidth=1)
        axes.text(axes.get_xlim()[0], value, f" {name}", va="bottom", fontsize=8, color="#555555")
    if ylim is not None:
        axes.set_ylim(*ylim)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(f"{ylabel}\n(mean of {window})")
    axes.set_title(title, fontsize=10)
    axes.legend(fontsize=8)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def dqn_figure(hidden_units: int, buffer_size: int, batch_size: int, actions: int = 2) -> Figure:
    """The deep Q-network's loop: act ε-greedily, store transitions, learn from random batches against a
    target network that is a copy of the online network, refreshed every few steps."""
    figure, axes = canvas(11.0, 4.2, "deep Q-network: acting, replay buffer, target network, one training step")
    box(axes, 1.2, 3.2, "environment\n(CartPole-v1)", kind="data", width=1.8, height=0.8)
    box(
        axes, 4.1, 3.2, "ε-greedy: random with\nprobability ε, else\nargmax Q(s, ·)", kind="gate", width=2.2, height=1.0
    )
    box(axes, 7.0, 3.2, f"online network\ns → {hidden_units} → {hidden_units}\n→ Q(s, ·) ({actions})", width=2.0)
    box(axes, 9.7, 3.2, "Huber loss of\nQ(s, a) − target;\none Adam step", kind="op", width=2.0, height=0.9)
    box(axes, 1.2, 1.0, f"replay buffer\n(last {buffer_size:,}\ntransitions)", kind="state", width=2.1, height=0.9)
    box(axes, 3.9, 1.0, f"random batch\nof {batch_size}", kind="data", width=1.7, height=0.8)
    box(axes, 6.6, 1.0, "target network\n(a copy of the\nonline network)", width=1.9, height=0.9)
    box(axes, 9.5, 1.0, "TD target\nr + γ (1 − terminated)\n· max Q_target(s′, ·)", kind="op", width=2.3, height=0.9)
    arrow(axes, (2.1, 3.38), (3.0, 3.38), "state s")
    arrow(axes, (3.0, 3.0), (2.1, 3.0))
    axes.text(2.2, 2.78, "action a", fontsize=7.5, color="#444444")
    arrow(axes, (6.0, 3.2), (5.2, 3.2), "Q(s, ·)")
    arrow(axes, (8.7, 3.2), (8.0, 3.2), "∇")
    arrow(axes, (1.2, 2.8), (1.2, 1.45))
    axes.text(1.3, 2.1, "(s, a, r, s′,\nterminated)", fontsize=7.5, color="#444444")
    arrow(axes, (2.25, 1.0), (3.05, 1.0))
    arrow(axes, (4.75, 1.0), (5.65, 1.0), "s′")
    arrow(axes, (7.55, 1.0), (8.35, 1.0))
    arrow(axes, (9.6, 1.45), (9.6, 2.75))
    arrow(axes, (4.3, 1.4), (6.4, 2.7))
    axes.text(4.7, 2.0, "s, a", fontsize=7.5, color="#444444")
    axes.annotate(
        "", xy=(6.9, 1.45), xytext=(7.3, 2.7), arrowprops={"arrowstyle": "->", "linestyle": "--", "color": "#777777"}
    )
    axes.text(7.3, 2.0, "copy the weights\nevery C steps", fontsize=7.5, color="#555555")
    return figure


def gradient_estimates_figure(estimates: Mapping[str, np.ndarray], exact: float) -> Figure:
    """Histograms of one gradient component's per-sample estimates (one array per estimator), with the exact
    gradient as a vertical line: an unbiased estimator centres on it, a better one spreads less."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7.5, 3.2))
    values = np.concatenate([np.asarray(samples, dtype=np.float64) for samples in estimates.values()])
    bins = np.linspace(values.min(), values.max(), 60)
    for number, (name, samples) in enumerate(estimates.items()):
        color = PATH_COLORS[number % len(PATH_COLORS)]
        axes.hist(samples, bins=bins, alpha=0.55, color=color, label=f"{name} (mean {np.mean(samples):.3f})")
    axes.axvline(exact, color="#222222", linestyle="--", linewidth=1.2, label=f"exact gradient {exact:.3f}")
    axes.set(xlabel="one sample's estimate of ∂E[R]/∂θ₀", ylabel="samples")
    axes.set_title("the log-probability trick: sampled gradient estimates, without and with a baseline", fontsize=10)
    axes.legend(fontsize=8)
    figure.tight_layout()
    return figure


def actor_critic_figure(envs: int, rollout_steps: int, hidden_units: int, actions: int = 2) -> Figure:
    """The advantage actor-critic (A2C): environments side by side, an actor that samples actions, a critic
    whose values give the n-step returns' bootstrap and the baseline, and the two losses."""
    figure, axes = canvas(11.0, 4.2, "advantage actor-critic (A2C): rollouts, n-step returns, two networks")
    box(axes, 1.2, 3.2, f"{envs} environments\nside by side\n(CartPole-v1)", kind="data", width=1.9, height=1.0)
    box(axes, 4.2, 3.2, f"actor π(a | s; θ)\ns → {hidden_units} → {hidden_units}\n→ logits ({actions})", width=2.1)
    box(axes, 7.2, 3.2, "actor loss\n−log π(a|s) · Â\n− β · entropy", kind="op", width=2.0, height=0.9)
    box(axes, 1.2, 1.0, f"rollout: {rollout_steps} steps\nper environment\n(s, a, r, end)", kind="state", width=2.0)
    box(axes, 4.2, 1.0, f"critic V(s; w)\ns → {hidden_units} → {hidden_units}\n→ V(s) (1)", width=2.1)
    box(axes, 7.2, 1.0, "n-step return\nG = r + γ r′ + … + γⁿ V(sₙ)\nadvantage Â = G − V(s)", kind="op", width=2.6)
    box(axes, 10.0, 1.0, "critic loss\n(G − V(s))² / 2", kind="op", width=1.6, height=0.8)
    arrow(axes, (2.15, 3.38), (3.15, 3.38), "state s")
    arrow(axes, (3.15, 3.0), (2.15, 3.0))
    axes.text(2.25, 2.78, "sampled a", fontsize=7.5, color="#444444")
    arrow(axes, (1.2, 2.7), (1.2, 1.5))
    arrow(axes, (2.2, 1.0), (3.15, 1.0), "states")
    arrow(axes, (5.25, 1.0), (5.9, 1.0), "V")
    arrow(axes, (7.2, 1.5), (7.2, 2.75), "Â (no gradient)")
    arrow(axes, (8.5, 1.0), (9.2, 1.0), "G")
    arrow(axes, (6.2, 3.2), (5.25, 3.2), "∇θ")
    axes.annotate("", xy=(5.0, 1.45), xytext=(9.6, 1.45), arrowprops={"arrowstyle": "->", "color": "#777777"})
    axes.text(8.4, 1.55, "∇w", fontsize=7.5, color="#555555")
    return figure


def returns_against_steps_figure(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]], *, title: str, best_return: float = 500.0
) -> Figure:
    """Return against environment steps, one colour per method: ``curves[name] = (steps, returns)`` with
    ``returns`` of shape (runs, steps); the mean over the runs as a line, the range (worst to best run) shaded
    when there are several."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7.5, 3.6))
    for number, (name, (steps, returns)) in enumerate(curves.items()):
        returns = np.atleast_2d(np.asarray(returns, dtype=np.float64))
        if returns.shape[1] != len(steps):
            raise ValueError(f"{name}: {returns.shape[1]} returns per run for {len(steps)} steps")
        color = PATH_COLORS[number % len(PATH_COLORS)]
        label = name if len(returns) == 1 else f"{name} ({len(returns)} runs)"
        axes.plot(steps, np.nanmean(returns, axis=0), marker="o", markersize=3, color=color, label=label)
        if len(returns) > 1:
            axes.fill_between(steps, np.nanmin(returns, axis=0), np.nanmax(returns, axis=0), color=color, alpha=0.18)
    axes.axhline(best_return, color="#777777", linestyle="--", linewidth=1)
    axes.set(xlabel="environment steps of training", ylabel="greedy test return\n(mean of a test run)")
    axes.set_ylim(0, best_return * 1.05)
    axes.set_title(title, fontsize=10)
    axes.legend(fontsize=8, loc="lower right")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    return figure
