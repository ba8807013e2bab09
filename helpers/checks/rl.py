"""Exercise checks of notebook 12 (reinforcement learning): an exponential ε schedule, DQN's TD targets with
terminated and truncated transitions, and REINFORCE with a baseline on CartPole.

Each check runs the learner's answer on inputs of its own (a schedule's steps, a batch with every kind of
episode end, rewards of episodes laid end to end, a batch of logits) and compares what comes out with
numbers computed here, written out step by step; known mistakes get a sentence of their own. The build
exercise's check then trains a policy with the learner's functions and tests it.
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
    require_answer,
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


def _episodes_returns(rewards: np.ndarray, ends: np.ndarray, discount: float) -> np.ndarray:
    """Returns-to-go written out: from each episode's last step backwards, G_t = r_t + γ G_t+1, 0 after an end."""
    returns = np.zeros(len(rewards))
    following = 0.0
    for step in reversed(range(len(rewards))):
        following = rewards[step] + (0.0 if ends[step] else discount * following)
        returns[step] = following
    return returns


def _episode_spans(ends: np.ndarray) -> list[tuple[int, int]]:
    """(first step, one past the last) of each episode laid end to end."""
    stops = np.flatnonzero(ends) + 1
    return list(zip(np.concatenate([[0], stops[:-1]]), stops, strict=True))


def _returns_mistakes(rewards: np.ndarray, ends: np.ndarray, discount: float) -> dict[str, np.ndarray]:
    """What the typical wrong returns-to-go give, each with the sentence that names it."""
    forward = np.zeros(len(rewards))
    prefix = np.zeros(len(rewards))
    whole = np.zeros(len(rewards))
    whole_undiscounted = np.zeros(len(rewards))
    for first, stop in _episode_spans(ends):
        running = total = 0.0
        for step in range(first, stop):
            running = rewards[step] + discount * running  # discounted from the start: forward
            total += rewards[step]
            forward[step], prefix[step] = running, total
        whole[first:stop] = _episodes_returns(rewards[first:stop], ends[first:stop], discount)[0]
        whole_undiscounted[first:stop] = rewards[first:stop].sum()
    return {
        "the rewards are not discounted: the return-to-go is r_t + γ r_t+1 + γ² r_t+2 + … (the discount γ is "
        "missing).": _episodes_returns(rewards, ends, 1.0),
        "every step got its episode's whole return. A step's action can only change what comes after it: "
        "G_t sums the rewards from step t to the episode's end, not from its start.": whole,
        "every step got its episode's total reward; G_t sums only the rewards from step t on, discounted.": (
            whole_undiscounted
        ),
        "you summed the rewards forward, from the episode's start up to step t. The return-to-go looks ahead: "
        "loop backwards from the episode's end, G_t = r_t + γ G_t+1.": forward,
        "you summed the rewards up to step t (forward, and without the discount). The return-to-go looks ahead: "
        "loop backwards from the episode's end, G_t = r_t + γ G_t+1.": prefix,
        "the returns run across the ends of episodes: where ends[t] is True the episode is over, and G_t is r_t "
        "alone (the next step belongs to another episode).": _episodes_returns(rewards, np.zeros_like(ends), discount),
    }


def _check_returns_to_go(returns_to_go: Any, exercise: str) -> None:
    """The learner's returns-to-go on hand-made and random episodes laid end to end."""
    rng = np.random.default_rng(12)
    cases = [
        (np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), np.array([0, 0, 1, 0, 1, 1], dtype=bool), 0.5),
        (np.array([2.0, 1.0, 1.0, 1.0, -1.0]), np.array([1, 0, 0, 0, 1], dtype=bool), 0.9),
    ]
    lengths = rng.integers(1, 12, size=6)
    random_ends = np.concatenate([np.arange(length) == length - 1 for length in lengths])
    cases.append((rng.normal(size=len(random_ends)).round(2), random_ends, 0.99))
    for rewards, ends, discount in cases:
        called_on = f"rewards {rewards.tolist()}, ends {ends.astype(int).tolist()}, discount {discount}"
        result = call_answer(returns_to_go, exercise, called_on, rewards.astype(np.float32), ends.copy(), discount)
        result = np.asarray(result, dtype=np.float64)
        expect(
            result.shape == rewards.shape,
            f"{exercise}: returns_to_go should give one return per step, shape {rewards.shape}; with {called_on} "
            f"yours gave shape {result.shape}.",
        )
        expected = _episodes_returns(rewards, ends, discount)
        if not close(result, expected, rtol=1e-4, atol=1e-4):
            for message, wrong in _returns_mistakes(rewards, ends, discount).items():
                if close(result, wrong, rtol=1e-4, atol=1e-4):
                    raise ExerciseIncorrect(f"{exercise}: returns_to_go({called_on}): {message}")
        expect_close(result, expected, f"{exercise}: returns_to_go({called_on})", rtol=1e-4, atol=1e-4)


def _check_loss_gradient(loss_fn: Any, exercise: str) -> None:
    """The learner's loss on a batch of logits: one number whose gradient step makes the actions of the steps
    with an above-average return more probable and the others less (all returns positive, as in CartPole)."""
    import tensorflow as tf

    logits = tf.Variable([[0.3, -0.2], [0.0, 0.5], [-0.4, 0.1], [0.2, 0.2], [1.0, -1.0], [-0.5, 0.6]], dtype=tf.float32)
    actions = np.array([0, 1, 0, 1, 1, 0], dtype=np.int32)
    returns = np.array([10.0, 10.0, 2.0, 2.0, 10.0, 2.0], dtype=np.float32)  # mean and median 6: all positive
    called_on = "6 steps, 2 actions, returns [10, 10, 2, 2, 10, 2]"
    try:
        with tf.GradientTape() as tape:
            loss = loss_fn(tf.identity(logits), tf.constant(actions), tf.constant(returns))
    except Exception as error:  # the learner's code: report any failure in words
        raise ExerciseIncorrect(
            f"{exercise}: calling your loss on {called_on} raised {type(error).__name__}: {error}"
        ) from error
    expect(
        isinstance(loss, tf.Tensor | tf.Variable) and loss.shape.num_elements() == 1,
        f"{exercise}: the loss should be one number, a TensorFlow scalar (the mean over the steps); yours is "
        f"{type(loss).__name__} {getattr(loss, 'shape', '')}.",
    )
    gradient = tape.gradient(loss, logits)
    expect(
        gradient is not None and bool(np.any(np.asarray(gradient) != 0)),
        f"{exercise}: no gradient reaches the logits from your loss: compute it with TensorFlow operations on the "
        "logits (tf.nn.log_softmax, tf.gather...), not with NumPy or .numpy().",
    )
    gradient = np.asarray(gradient, dtype=np.float64)
    probabilities = tf.nn.softmax(logits).numpy()
    step = logits.numpy() - 0.1 * gradient / np.linalg.norm(gradient)  # a small gradient-descent step
    after = np.exp(step) / np.exp(step).sum(axis=1, keepdims=True)
    rows = np.arange(len(actions))
    change = after[rows, actions] - probabilities[rows, actions]
    good = returns > returns.mean()
    expect(
        not (np.all(change[good] < 0) and np.all(change[~good] > 0)),
        f"{exercise}: a gradient-descent step on your loss makes the good actions (return above the average) "
        "LESS probable: the sign is wrong. Optimisers minimise; to raise log π(a|s) · (G − b) the loss is its "
        "negative, −mean(log π(a|s) · (G − b)).",
    )
    expect(
        not (np.all(change > 0)),
        f"{exercise}: a gradient step on your loss makes every action taken more probable, even those of the "
        "steps whose return is below the average: there is no baseline. With CartPole's rewards every return "
        "is positive; subtract a baseline b (e.g. the batch's mean return) so that the worse steps get a "
        "negative advantage G − b.",
    )
    expect(
        np.all(change[good] > 0) and np.all(change[~good] < 0),
        f"{exercise}: a gradient-descent step on your loss should make the actions of the steps with a return "
        f"above the average more probable and the others less; the probabilities changed by "
        f"{np.round(change, 4).tolist()} (returns {returns.tolist()}).",
    )
    advantages = returns - returns.mean()
    expected = -(np.eye(2)[actions] - probabilities) * advantages[:, None]  # d/dlogits of −Σ log π(a|s)·(G − b)
    cosine = float(np.sum(expected * gradient) / (np.linalg.norm(expected) * np.linalg.norm(gradient)))
    expect(
        cosine > 0.95,
        f"{exercise}: your loss's gradient points elsewhere than that of −mean(log π(a|s) · (G − b)) (cosine "
        f"{cosine:.2f}): use the log-probability of the action taken (tf.nn.log_softmax of the logits) times the "
        "advantage.",
    )


def check_reinforce(
    answer: Any, *, plan: Any, min_return: float, seed: int = 42, evaluation_seed: int | None = None
) -> str:
    """Build exercise 3: ``answer = (returns_to_go, loss)``: ``returns_to_go(rewards, ends, discount)`` of
    episodes laid end to end and ``loss(logits, actions, returns)``, REINFORCE's loss with a baseline.

    Judged by behaviour: the returns-to-go of hand-made and random episodes (the discount, backwards, reset at
    each end) against values written out here; the direction of the loss's gradient on a batch whose returns are
    all positive; then the lesson's ``train_reinforce`` trains a policy with both functions (``plan``, ``seed``)
    and its greedy policy must average ``min_return`` over ``plan.evaluation_episodes`` test episodes seeded
    apart from training. About 10 s in fast mode on 2 cores.
    """
    from helpers.lessons.rl import EVALUATION_SEED, evaluate_policy, train_reinforce

    exercise = "Build exercise 3 (REINFORCE with a baseline)"
    require_answer(answer, exercise)
    expect(
        isinstance(answer, tuple | list) and len(answer) == 2 and all(callable(part) for part in answer),
        f"{exercise}: answer_3 should be the pair of your two functions, (returns_to_go, reinforce_loss); got "
        f"{type(answer).__name__}.",
    )
    returns_to_go, loss_fn = answer
    _check_returns_to_go(returns_to_go, exercise)
    _check_loss_gradient(loss_fn, exercise)
    try:
        training = train_reinforce(returns_to_go, loss_fn, plan, seed)
    except Exception as error:  # the learner's code runs inside: report any failure in words
        raise ExerciseIncorrect(
            f"{exercise}: train_reinforce with your functions raised {type(error).__name__}: {error}"
        ) from error
    test_returns = evaluate_policy(
        training.greedy_actions,
        episodes=plan.evaluation_episodes,
        seed=EVALUATION_SEED if evaluation_seed is None else evaluation_seed,
    )
    mean_return = float(test_returns.mean())
    expect(
        mean_return >= min_return,
        f"{exercise}: trained with train_reinforce ({plan.updates} updates of {plan.episodes_per_update} episodes, "
        f"seed {seed}), the greedy policy averages {mean_return:.1f} over {len(test_returns)} test episodes; at "
        f"least {min_return:g} expected (a random policy gets about 22).",
    )
    print(
        f"returns-to-go right; the loss's gradient favours the better actions; trained {plan.updates} updates in "
        f"{training.seconds:.1f} s: test return {mean_return:.1f} over {len(test_returns)} episodes"
    )
    return passed(exercise)
