"""Exercise checks of notebook 12 (reinforcement learning): the SARSA update, an exponential ε schedule,
DQN's TD targets with terminated and truncated transitions.

Each check runs the learner's answer on inputs of its own (hand-made transitions, a tiny chain MDP,
a batch with every kind of episode end) and compares what comes out with numbers computed here,
written out step by step; known mistakes get a sentence of their own.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from helpers.exercises import call_answer, close, expect, expect_close, is_mistake, passed

STEP_SIZE = 0.5
DISCOUNT = 0.9


def q_table() -> np.ndarray:
    """A 4-state, 3-action table whose greedy action at every state differs from the one taken next below."""
    return np.array(
        [
            [0.0, 1.0, 2.0],
            [4.0, -1.0, 3.0],  # greedy action 0 (4.0); the transitions below take action 2 (3.0)
            [0.5, 6.0, -2.0],  # greedy action 1 (6.0); taken next below: action 2 (-2.0)
            [1.0, 1.0, 1.0],
        ]
    )


def updated_table(answer: Any, exercise: str, table: np.ndarray, transition: tuple, called_on: str) -> np.ndarray:
    """The table after ``answer(copy, *transition, STEP_SIZE, DISCOUNT)``, whether it updates in place or a copy."""
    work = table.copy()
    result = call_answer(answer, exercise, called_on, work, *transition, STEP_SIZE, DISCOUNT)
    result = work if result is None else np.asarray(result, dtype=np.float64)
    expect(
        result.shape == table.shape,
        f"{exercise}: return the whole Q table, shape {table.shape} (states × actions); yours has shape "
        f"{result.shape}.",
    )
    return result


def check_sarsa_update(answer: Any) -> str:
    """Exercise 1: ``answer(q, s, a, r, s', a', terminated, α, γ)`` applies SARSA's update and returns the table."""
    exercise = "Exercise 1 (the SARSA update)"
    table = q_table()
    # State 0, action 1, reward -1, to state 1 where the agent will take action 2 (not the greedy action 0).
    result = updated_table(
        answer, exercise, table, (0, 1, -1.0, 1, 2, False), "a 4 × 3 table and the transition (0, 1, -1, 1, next 2)"
    )
    sarsa = 1.0 + STEP_SIZE * (-1.0 + DISCOUNT * 3.0 - 1.0)  # Q(s', a') with the action taken next: 3.0
    q_learning = 1.0 + STEP_SIZE * (-1.0 + DISCOUNT * 4.0 - 1.0)  # max over state 1: 4.0
    value = float(result[0, 1])
    unchanged = np.delete(result.ravel(), 1)
    expect(
        not is_mistake(value, q_learning, sarsa),
        f"{exercise}: your update used the best action's value at the next state (max Q(s′, ·) = 4.0): that is "
        "Q-learning. SARSA bootstraps from the action the agent will really take next, Q(s′, a′) = 3.0.",
    )
    expect(
        not is_mistake(value, -1.0 + DISCOUNT * 3.0, sarsa),
        f"{exercise}: you replaced Q(s, a) by the target (the step size α is missing). Move it only a step α "
        "towards it: Q(s, a) + α (target − Q(s, a)).",
    )
    expect(
        not is_mistake(value, 1.0 + STEP_SIZE * (-1.0 + 3.0 - 1.0), sarsa),
        f"{exercise}: the discount γ is missing: the next state's value counts γ · Q(s′, a′).",
    )
    expect(
        not is_mistake(value, 1.0 - STEP_SIZE * (-1.0 + DISCOUNT * 3.0 - 1.0), sarsa),
        f"{exercise}: your update moves Q(s, a) away from the target: the TD error is target − Q(s, a), added.",
    )
    expect(
        close(unchanged, np.delete(table.ravel(), 1)),
        f"{exercise}: only q_values[state, action] (here [0, 1]) may change; your update changed other entries.",
    )
    expect_close(value, sarsa, f"{exercise}: the updated Q(0, 1)", rtol=1e-6)

    # A terminal transition: state 2, action 0, reward 10, into state 3 (terminal). Next "action" 1 is irrelevant.
    result = updated_table(
        answer, exercise, table, (2, 0, 10.0, 3, 1, True), "the terminal transition (2, 0, 10, 3, next 1)"
    )
    terminal = 0.5 + STEP_SIZE * (10.0 - 0.5)
    bootstrapped = 0.5 + STEP_SIZE * (10.0 + DISCOUNT * 1.0 - 0.5)
    expect(
        not is_mistake(float(result[2, 0]), bootstrapped, terminal),
        f"{exercise}: at a terminal transition (terminated=True) there is no future: the target is the reward "
        "alone, r, without γ · Q(s′, a′).",
    )
    expect_close(float(result[2, 0]), terminal, f"{exercise}: Q(2, 0) after the terminal transition", rtol=1e-6)

    # A whole episode on a chain 0 -> 1 -> 2 -> end, applied in order: later updates read earlier ones.
    chain = np.zeros((3, 2))
    chain[1, 1] = 2.0
    episode = [(0, 1, -1.0, 1, 0, False), (1, 0, -1.0, 2, 1, False), (2, 1, 5.0, 0, 0, True)]
    expected = chain.copy()
    for state, action, reward, next_state, next_action, terminated in episode:
        target = reward + (0.0 if terminated else DISCOUNT * expected[next_state, next_action])
        expected[state, action] = expected[state, action] + STEP_SIZE * (target - expected[state, action])
    work = chain.copy()
    for transition in episode:
        work = updated_table(answer, exercise, work, transition, f"the chain episode's transition {transition}")
    expect_close(work, expected, f"{exercise}: the table after a three-step episode on a chain", rtol=1e-6)
    return passed(exercise)


def check_epsilon_schedule(answer: Any) -> str:
    """Exercise 2: ``answer(step, start, end, decay_steps)``: start · factor^step, reaching ``end`` at
    ``decay_steps``, never below ``end``."""
    exercise = "Exercise 2 (the exponential ε schedule)"
    for start, end, decay_steps in ((1.0, 0.01, 100), (0.5, 0.1, 7)):
        called_on = f"start={start}, end={end}, decay_steps={decay_steps}"
        steps = list(range(0, 4 * decay_steps + 1))
        values = []
        for step in steps:
            value = call_answer(answer, exercise, f"step {step} with {called_on}", step, start, end, decay_steps)
            expect(
                np.size(value) == 1,
                f"{exercise}: return one number, ε at that step; with {called_on} step {step} gave {value!r}.",
            )
            values.append(float(np.asarray(value, dtype=np.float64).reshape(())))
        values_array = np.array(values)
        expect(
            math.isclose(values[0], start, rel_tol=1e-6),
            f"{exercise}: at step 0 ε must be start = {start}; yours is {values[0]:.4g} ({called_on}).",
        )
        lowest = float(values_array.min())
        expect(
            lowest >= end - 1e-9,
            f"{exercise}: ε goes below the floor end = {end}: it reaches {lowest:.4g} by step "
            f"{steps[int(values_array.argmin())]} ({called_on}). Keep it at end once it gets there (max(end, …)).",
        )
        expect(
            bool(np.all(np.diff(values_array) <= 1e-12)),
            f"{exercise}: ε should never increase from one step to the next ({called_on}).",
        )
        expect(
            math.isclose(values[decay_steps], end, rel_tol=1e-6),
            f"{exercise}: ε should reach end = {end} exactly at step decay_steps = {decay_steps}; yours is "
            f"{values[decay_steps]:.4g} there ({called_on}). The factor f satisfies start · f^decay_steps = end.",
        )
        linear_middle = start + (end - start) * 0.5
        geometric = [start * (end / start) ** (step / decay_steps) for step in range(decay_steps + 1)]
        if decay_steps % 2 == 0:
            expect(
                not is_mistake(values[decay_steps // 2], linear_middle, geometric[decay_steps // 2]),
                f"{exercise}: halfway your ε is the average of start and end: that is a linear schedule. "
                "Multiply by the same factor every step: halfway it is √(start · end).",
            )
        expect_close(
            values_array[: decay_steps + 1],
            geometric,
            f"{exercise}: ε over the first {decay_steps} steps ({called_on})",
            rtol=1e-5,
        )
        expect_close(
            values_array[decay_steps:],
            np.full(len(steps) - decay_steps, end),
            f"{exercise}: ε after decay_steps ({called_on})",
            rtol=1e-6,
        )
    return passed(exercise)


def check_td_targets(answer: Any) -> str:
    """Exercise 3: ``answer(rewards, next_q_values, terminated, truncated, discount)``: DQN's TD targets, with no
    bootstrap after a terminated transition and a bootstrap after a truncated one."""
    exercise = "Exercise 3 (TD targets with terminal states)"
    discount = 0.9
    rewards = np.array([1.0, 1.0, 0.5, -1.0, 2.0], dtype=np.float32)
    next_q = np.array([[2.0, 5.0], [3.0, -1.0], [4.0, 4.5], [-2.0, -3.0], [10.0, 0.0]], dtype=np.float32)
    terminated = np.array([0, 1, 0, 0, 1], dtype=np.float32)  # the last one is both terminated and truncated
    truncated = np.array([0, 0, 1, 0, 1], dtype=np.float32)
    result = call_answer(
        answer, exercise, "a batch of 5 transitions (2 actions)", rewards, next_q, terminated, truncated, discount
    )
    result = np.asarray(result, dtype=np.float64)
    expect(
        result.shape == rewards.shape,
        f"{exercise}: return one target per transition, shape {rewards.shape}; yours has shape {result.shape}.",
    )
    best_next = np.array([5.0, 3.0, 4.5, -2.0, 10.0])  # max over the actions of each row, written out
    expected = np.array([1.0 + 0.9 * 5.0, 1.0, 0.5 + 0.9 * 4.5, -1.0 + 0.9 * -2.0, 2.0])
    expect(
        not close(result, rewards + discount * best_next),
        f"{exercise}: every transition bootstraps, terminal ones included: where terminated is 1 the episode is "
        "over and the target is the reward alone. Multiply the future by (1 − terminated).",
    )
    expect(
        not close(result[2], 0.5),
        f"{exercise}: the truncated transition (the time limit) got no future. Truncation is not an end of the "
        "task: the next state still has a value, so bootstrap from it; only terminated removes the future.",
    )
    expect(
        not close(result[[0, 2, 3]], (rewards + discount * next_q.mean(axis=1))[[0, 2, 3]]),
        f"{exercise}: you averaged the next state's values; DQN's target takes the best one, max over the actions.",
    )
    expect(
        not close(result[[0, 2, 3]], (rewards + discount * next_q.min(axis=1))[[0, 2, 3]]),
        f"{exercise}: you took the smallest next value; the target uses the largest, max over the actions.",
    )
    expect(
        not close(result[[0, 2, 3]], (rewards + best_next)[[0, 2, 3]]),
        f"{exercise}: the discount γ is missing: the future counts γ · max Q(s′, ·).",
    )
    expect(
        not close(result[[0, 2, 3]], (rewards + discount * next_q[:, 0])[[0, 2, 3]]),
        f"{exercise}: you used the value of action 0 at the next state; the target uses the best action's value.",
    )
    expect_close(result, expected, f"{exercise}: your targets", rtol=1e-5)
    return passed(exercise)
