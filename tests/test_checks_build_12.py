"""Notebook 12's build exercise: Double DQN's targets on CartPole-v1. A right answer written here passes (the
check trains it); each typical mistake fails with the sentence that names it."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import tensorflow as tf

from helpers.checks import rl as checks
from helpers.exercises import ExerciseIncorrect, NotAnswered
from helpers.lessons.rl import rl_plan

PLAN = rl_plan("fast").dqn
MIN_RETURN = 100.0  # notebook 12's fast-mode bound, MIN_DOUBLE_DQN_RETURN


def double_with_one_hot(rewards, next_q_online, next_q_target, terminated, discount):
    """A right answer written another way: a one-hot mask of the online network's choice."""
    chosen = tf.one_hot(tf.argmax(next_q_online, axis=1), depth=next_q_target.shape[1])
    return rewards + discount * (1.0 - terminated) * tf.reduce_sum(chosen * next_q_target, axis=1)


def double_with(*, pick="online", value="target", mask=True, discounted=True):
    """Double DQN's targets with one mistake put in by the keyword arguments."""

    def targets(rewards, next_q_online, next_q_target, terminated, discount):
        networks = {"online": next_q_online, "target": next_q_target}
        best = tf.argmax(networks[pick], axis=1, output_type=tf.int32)
        future = tf.gather(networks[value], best, batch_dims=1)
        alive = 1.0 - terminated if mask else 1.0
        return rewards + (discount if discounted else 1.0) * alive * future

    return targets


def vanilla_max(rewards, next_q_online, next_q_target, terminated, discount):
    """The mistake: DQN's target, the target network's max."""
    return rewards + discount * (1.0 - terminated) * tf.reduce_max(next_q_target, axis=1)


def online_max(rewards, next_q_online, next_q_target, terminated, discount):
    """The mistake: the online network both picks and values the next action."""
    return rewards + discount * (1.0 - terminated) * tf.reduce_max(next_q_online, axis=1)


def in_numpy(rewards, next_q_online, next_q_target, terminated, discount):
    """Right values, but NumPy: fails inside the agent's tf.function."""
    online, target = np.asarray(next_q_online), np.asarray(next_q_target)
    best = target[np.arange(len(online)), online.argmax(axis=1)]
    return np.asarray(rewards) + discount * (1.0 - np.asarray(terminated)) * best


def run(answer, *, plan=PLAN, min_return=MIN_RETURN):
    return checks.check_double_dqn(answer, plan=plan, min_return=min_return)


@pytest.mark.parametrize("answer", [double_with(), double_with_one_hot])
def test_a_right_answer_passes_and_its_policy_balances_the_pole(answer) -> None:
    assert "correct" in run(answer)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (vanilla_max, "this is DQN's target"),
        (online_max, "valued with the online network"),
        (double_with(value="online"), "valued with the online network"),
        (double_with(pick="target", value="online"), "the roles are swapped"),
        (double_with(mask=False), "terminal ones included"),
        (double_with(discounted=False), "the discount γ is missing"),
        (in_numpy, "fails inside a tf.function"),
        (lambda rewards, *args: rewards[:2], "one target per transition"),
        ("double_dqn_targets", "should be a function"),
    ],
)
def test_typical_mistakes_are_named(answer, message: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=re.escape(message)):
        run(answer)


def test_a_policy_below_the_bound_is_reported() -> None:
    short = dataclasses.replace(PLAN, max_steps=600, evaluation_episodes=5)  # 100 training steps after the warm-up
    with pytest.raises(ExerciseIncorrect, match="at least 200 expected"):
        run(double_with(), plan=short, min_return=200.0)


def test_an_unanswered_exercise_says_so() -> None:
    with pytest.raises(NotAnswered):
        run(None)
