"""Notebook 12's build exercise: REINFORCE with a baseline on CartPole-v1. A right answer written here
passes (the check trains it); each typical mistake fails with the sentence that names it."""

from __future__ import annotations

import dataclasses
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers.checks import rl as checks
from helpers.exercises import ExerciseIncorrect, NotAnswered
from helpers.lessons.rl import reinforce_plan

PLAN = reinforce_plan("fast")
MIN_RETURN = 100.0  # notebook 12's fast-mode bound


def returns_backwards(rewards, ends, discount, *, discounted=True, reset=True):
    """Returns-to-go, vectorised per episode; the keyword arguments put one mistake in it."""
    gamma = discount if discounted else 1.0
    returns = np.zeros(len(rewards))
    following = 0.0
    for step in reversed(range(len(rewards))):
        if ends[step] and reset:
            following = 0.0
        following = rewards[step] + gamma * following
        returns[step] = following
    return returns


def returns_forward(rewards, ends, discount):
    """The mistake: discounted sums from the episode's start up to each step."""
    returns, running = np.zeros(len(rewards)), 0.0
    for step in range(len(rewards)):
        running = rewards[step] + discount * running
        returns[step] = running
        if ends[step]:
            running = 0.0
    return returns


def whole_episode_return(rewards, ends, discount):
    """The mistake: every step gets the discounted return of its episode's first step."""
    right = returns_backwards(rewards, ends, discount)
    starts = np.concatenate([[0], np.flatnonzero(ends)[:-1] + 1])
    return np.repeat(right[starts], np.diff(np.concatenate([starts, [len(rewards)]])))


def crossentropy_loss(logits, actions, returns, *, baseline=True, sign=1.0):
    """A right loss written another way: the cross-entropy of the action taken is −log π(a|s)."""
    advantages = returns - tf.reduce_mean(returns) if baseline else returns
    negative_log_pi = keras.losses.sparse_categorical_crossentropy(actions, logits, from_logits=True)
    return sign * tf.reduce_mean(negative_log_pi * advantages)


def probability_loss(logits, actions, returns):
    """The mistake: the probability of the action taken instead of its logarithm."""
    taken = tf.gather(tf.nn.softmax(logits), actions, batch_dims=1)
    return -tf.reduce_mean(taken * (returns - tf.reduce_mean(returns)))


def numpy_loss(logits, actions, returns):
    """The mistake: the loss computed in NumPy, so no gradient reaches the network."""
    logits = np.asarray(logits)
    log_pi = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    advantages = np.asarray(returns) - np.mean(returns)
    return tf.constant(-np.mean(log_pi[np.arange(len(actions)), actions] * advantages))


def run(answer, *, plan=PLAN, min_return=MIN_RETURN):
    return checks.check_reinforce(answer, plan=plan, min_return=min_return)


def test_a_right_answer_passes_and_its_policy_balances_the_pole() -> None:
    assert "correct" in run((returns_backwards, crossentropy_loss))


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ((lambda r, e, d: returns_backwards(r, e, d, discounted=False), crossentropy_loss), "not discounted"),
        ((returns_forward, crossentropy_loss), "you summed the rewards forward"),
        ((whole_episode_return, crossentropy_loss), "every step got its episode's whole return"),
        ((lambda r, e, d: returns_backwards(r, e, d, reset=False), crossentropy_loss), "run across the ends"),
        ((lambda r, e, d: returns_forward(r, e, 1.0), crossentropy_loss), "you summed the rewards up to step t"),
        ((lambda r, e, d: returns_backwards(r, e, d)[:-1], crossentropy_loss), "one return per step"),
        ((returns_backwards, lambda *a: crossentropy_loss(*a, sign=-1.0)), "the sign is wrong"),
        ((returns_backwards, lambda *a: crossentropy_loss(*a, baseline=False)), "there is no baseline"),
        ((returns_backwards, numpy_loss), "no gradient reaches the logits"),
        ((returns_backwards, probability_loss), "use the log-probability of the action taken"),
        ((returns_backwards, lambda logits, actions, returns: logits), "one number"),
        (returns_backwards, "the pair of your two functions"),
    ],
)
def test_typical_mistakes_are_named(answer, message: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=re.escape(message)):
        run(answer)


def test_a_policy_below_the_bound_is_reported() -> None:
    one_update = dataclasses.replace(PLAN, updates=1, evaluation_episodes=5)
    with pytest.raises(ExerciseIncorrect, match="at least 200 expected"):
        run((returns_backwards, crossentropy_loss), plan=one_update, min_return=200.0)


def test_an_unanswered_exercise_says_so() -> None:
    with pytest.raises(NotAnswered):
        run(None)
