"""Exercise checks of notebook 12 (reinforcement learning): an exponential ε schedule, DQN's TD targets with
terminated and truncated transitions, and Double DQN's targets on CartPole.

Each check runs the learner's answer on inputs of its own (a schedule's steps, a batch with every kind of
episode end, a batch whose online and target networks disagree) and compares what comes out with numbers
computed here, written out step by step; known mistakes get a sentence of their own. The build exercise's
check then trains a DQN with the learner's targets and tests it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from helpers.exercises import (
    ExerciseIncorrect,
    call_answer,
    close,
    expect,
    expect_close,
    is_mistake,
    passed,
)


def check_epsilon_schedule(answer: Any) -> str:
    """Exercise 1: ``answer(step, start, end, decay_steps)``: start · factor^step, reaching ``end`` at
    ``decay_steps``, never below ``end``."""
    exercise = "Exercise 1 (the exponential ε schedule)"
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
    """Exercise 2: ``answer(rewards, next_q_values, terminated, truncated, discount)``: DQN's TD targets, with no
    bootstrap after a terminated transition and a bootstrap after a truncated one."""
    exercise = "Exercise 2 (TD targets with terminal states)"
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


def _double_dqn_batch() -> tuple[np.ndarray, ...]:
    """A batch of 5 transitions (3 actions) whose online and target networks disagree about the best next action,
    so that Double DQN, DQN and the usual slips all give different targets; and Double DQN's, written out."""
    rewards = np.array([1.0, 0.5, -1.0, 2.0, 0.0], dtype=np.float32)
    next_q_online = np.array([[1, 5, 2], [3, 0, 1], [0, 2, 4], [2, 1, 0], [6, 1, 3]], dtype=np.float32)
    next_q_target = np.array([[4, 2, 3], [1, 6, 2], [5, 0, 1], [3, 7, 2], [2, 8, 4]], dtype=np.float32)
    terminated = np.array([0, 0, 0, 1, 0], dtype=np.float32)
    # the online network picks actions 1, 0, 2, 0, 0; the target network values them 2, 1, 1, 3, 2
    expected = np.array([1.0 + 0.9 * 2.0, 0.5 + 0.9 * 1.0, -1.0 + 0.9 * 1.0, 2.0, 0.0 + 0.9 * 2.0])
    return rewards, next_q_online, next_q_target, terminated, expected


def _double_dqn_mistakes(
    rewards: np.ndarray, online: np.ndarray, target: np.ndarray, terminated: np.ndarray, discount: float
) -> dict[str, np.ndarray]:
    """What the typical wrong Double DQN targets give on the batch, each with the sentence that names it."""
    alive = 1.0 - terminated
    rows = np.arange(len(rewards))
    double = target[rows, online.argmax(axis=1)]
    return {
        "this is DQN's target, the target network's max: it both picks and values the next action. Double DQN "
        "lets the online network pick, a* = argmax Q_online(s′, ·), and the target network value it, "
        "Q_target(s′, a*).": rewards + discount * alive * target.max(axis=1),
        "the next action is valued with the online network (max Q_online(s′, ·)). The online network only picks "
        "a*; its value comes from the target network, Q_target(s′, a*).": (
            rewards + discount * alive * online.max(axis=1)
        ),
        "the roles are swapped: the target network picks the action and the online network values it. The online "
        "network picks, a* = argmax Q_online(s′, ·); the target network values, Q_target(s′, a*).": (
            rewards + discount * alive * online[rows, target.argmax(axis=1)]
        ),
        "every transition bootstraps, terminal ones included: where terminated is 1 the episode is over and the "
        "target is the reward alone. Multiply the future by (1 − terminated).": rewards + discount * double,
        "the discount γ is missing: the future counts γ · Q_target(s′, a*).": rewards + alive * double,
    }


def check_double_dqn(answer: Any, *, plan: Any, min_return: float, seed: int = 42) -> str:
    """Build exercise 3: ``answer(rewards, next_q_online, next_q_target, terminated, discount)``, Double DQN's
    targets: the online network picks the next action, the target network values it, no future after a
    terminal transition.

    Judged by behaviour: on a batch where the two networks disagree about the best next action (so that DQN's
    target, the online network's values and a missing mask all give other numbers), eagerly and inside a
    ``tf.function`` as the agent calls it; then the lesson's ``train_dqn`` trains with it (``plan``, ``seed``)
    and the greedy policy must average ``min_return`` over ``plan.evaluation_episodes`` test episodes.
    """
    import tensorflow as tf

    from helpers.lessons.rl import EVALUATION_SEED, evaluate_policy, train_dqn

    exercise = "Build exercise 3 (Double DQN)"
    discount = 0.9
    rewards, online, target, terminated, expected = _double_dqn_batch()
    called_on = "a batch of 5 transitions (3 actions) as tensors"
    inputs = [tf.constant(value) for value in (rewards, online, target, terminated)]
    result = np.asarray(call_answer(answer, exercise, called_on, *inputs, discount), dtype=np.float64)
    expect(
        result.shape == rewards.shape,
        f"{exercise}: return one target per transition, shape {rewards.shape}; yours has shape {result.shape}.",
    )
    if not close(result, expected):
        for message, wrong in _double_dqn_mistakes(rewards, online, target, terminated, discount).items():
            expect(not close(result, wrong), f"{exercise}: {message}")
    expect_close(result, expected, f"{exercise}: your targets on {called_on}", rtol=1e-5)
    try:
        traced = tf.function(lambda *batch: answer(*batch, discount))(*inputs)
    except Exception as error:  # the learner's code: report any failure in words
        raise ExerciseIncorrect(
            f"{exercise}: your function fails inside a tf.function, where the agent's training step calls it "
            f"({type(error).__name__}: {error}). Use TensorFlow operations (tf.argmax, tf.gather), not NumPy."
        ) from error
    expect_close(traced, expected, f"{exercise}: your targets inside a tf.function", rtol=1e-5)
    try:
        training = train_dqn(plan, seed, targets=answer)
    except Exception as error:  # the learner's code runs inside: report any failure in words
        raise ExerciseIncorrect(
            f"{exercise}: train_dqn with your targets raised {type(error).__name__}: {error}"
        ) from error
    test_returns = evaluate_policy(
        training.agent.greedy_actions, episodes=plan.evaluation_episodes, seed=EVALUATION_SEED
    )
    mean_return = float(test_returns.mean())
    expect(
        mean_return >= min_return,
        f"{exercise}: trained with train_dqn ({plan.max_steps:,} steps at most, seed {seed}), the greedy policy "
        f"averages {mean_return:.1f} over {len(test_returns)} test episodes; at least {min_return:g} expected (a "
        "random policy gets about 22).",
    )
    print(
        f"targets right, eagerly and in a tf.function; trained {training.steps:,} steps in {training.seconds:.1f} s: "
        f"test return {mean_return:.1f} over {len(test_returns)} episodes"
    )
    return passed(exercise)
