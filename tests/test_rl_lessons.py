"""helpers.lessons.rl, the lesson code of notebook 12, its exercise checks and its figures, on small problems."""

from __future__ import annotations

import dataclasses

import matplotlib

matplotlib.use("Agg")

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import pytest
import tensorflow as tf

from helpers.checks import rl as checks
from helpers.exercises import ExerciseIncorrect, NotAnswered
from helpers.figures import rl as rl_figures
from helpers.lessons import rl


@pytest.fixture(scope="module")
def lake_mdp() -> rl.TabularMDP:
    return rl.tabular_mdp(gym.make("FrozenLake-v1"))


def test_tabular_mdp_reads_frozen_lakes_table(lake_mdp: rl.TabularMDP) -> None:
    assert lake_mdp.probabilities.shape == (16, 4, 16) and lake_mdp.num_actions == 4
    assert np.allclose(lake_mdp.probabilities.sum(axis=2), 1.0)
    # Slippery: from state 14, "right" reaches the goal (15) a third of the time, with reward 1, terminal.
    assert np.isclose(lake_mdp.probabilities[14, 2, 15], 1 / 3) and lake_mdp.terminal[14, 2, 15]
    assert np.isclose(lake_mdp.rewards[14, 2], 1 / 3)
    assert lake_mdp.terminal[5, :, 5].all() and lake_mdp.probabilities[5, :, 5].min() == 1.0, "a hole is absorbing"


def test_tabular_mdp_refuses_an_environment_without_a_table() -> None:
    with pytest.raises(ValueError, match="no transition table"):
        rl.tabular_mdp(gym.make("CartPole-v1"))


def test_value_iteration_solves_a_two_state_chain_exactly() -> None:
    # State 0: action 0 stays (reward 0), action 1 goes to 1 (reward 0). State 1: either action ends with reward 1.
    probabilities = np.zeros((2, 2, 2))
    probabilities[0, 0, 0] = probabilities[0, 1, 1] = probabilities[1, :, 1] = 1.0
    terminal = np.zeros((2, 2, 2), dtype=bool)
    terminal[1, :, 1] = True
    arrival = np.zeros((2, 2, 2))
    arrival[1, :, 1] = 1.0
    mdp = rl.TabularMDP(probabilities, (probabilities * arrival).sum(axis=2), terminal, arrival)
    result = rl.value_iteration(mdp, 0.9)
    assert np.allclose(result.values, [0.9, 1.0]) and rl.greedy_policy(result.q_values).tolist() == [1, 0]
    assert np.allclose(result.q_values[0], [0.81, 0.9])


def test_value_iteration_on_frozen_lake_satisfies_bellman_and_rejects_a_bad_discount(lake_mdp: rl.TabularMDP) -> None:
    result = rl.value_iteration(lake_mdp, 0.99)
    backup = rl.bellman_backup(lake_mdp, result.values, 0.99)
    assert np.abs(backup.max(axis=1) - result.values).max() < 1e-8
    assert 0.53 < result.values[0] < 0.55, "V*(start) of slippery 4x4 FrozenLake with γ = 0.99 is 0.542"
    assert result.values[15] == 0 and result.values[5] == 0, "terminal states are worth nothing"
    assert rl.greedy_policy(result.q_values)[0] == 0, "the optimal first move pushes left, against the wall"
    with pytest.raises(ValueError, match="between 0 and 1"):
        rl.value_iteration(lake_mdp, 1.5)


def test_simulation_agrees_with_gymnasium(lake_mdp: rl.TabularMDP) -> None:
    policy = rl.greedy_policy(rl.value_iteration(lake_mdp, 0.99).q_values)
    simulated = rl.simulate_policy(lake_mdp, policy, episodes=20_000, max_steps=100, seed=0).mean()
    env = gym.make("FrozenLake-v1")
    real = rl.run_episodes(env, lambda state: int(policy[state]), episodes=1_500, seed=1).mean()
    assert 0.70 < simulated < 0.78
    assert abs(simulated - real) < 0.045, (simulated, real)  # about 4 standard errors of the gymnasium estimate
    always_left = np.zeros(16, dtype=int)  # never leaves the first column's top: stays safe, never arrives
    assert rl.simulate_policy(lake_mdp, always_left, episodes=1000, max_steps=100, seed=0).max() <= 1.0
    with pytest.raises(ValueError, match="one action per state"):
        rl.simulate_policy(lake_mdp, np.zeros(4, dtype=int), episodes=10, max_steps=10, seed=0)


def test_simulation_stops_at_the_time_limit(lake_mdp: rl.TabularMDP) -> None:
    policy = rl.greedy_policy(rl.value_iteration(lake_mdp, 0.99).q_values)
    short = rl.simulate_policy(lake_mdp, policy, episodes=5000, max_steps=6, seed=0).mean()
    long = rl.simulate_policy(lake_mdp, policy, episodes=5000, max_steps=100, seed=0).mean()
    assert short < 0.2 < long, "six steps rarely suffice on slippery ice"


def test_epsilon_greedy_explores_and_breaks_ties_at_random() -> None:
    rng = np.random.default_rng(0)
    greedy = [rl.epsilon_greedy(np.array([0.0, 1.0, 1.0]), 0.0, rng) for _ in range(400)]
    assert set(greedy) == {1, 2}
    random = [rl.epsilon_greedy(np.array([0.0, 5.0, 1.0]), 1.0, rng) for _ in range(600)]
    assert set(random) == {0, 1, 2}


def test_td_control_on_cliff_walking_separates_sarsa_from_q_learning() -> None:
    cliff = gym.make("CliffWalking-v1")
    results = {
        method: rl.td_control(cliff, method, episodes=500, step_sizes=(0.5, 0.1), discount=1.0, epsilon=0.1, seed=7)
        for method in rl.METHODS
    }
    paths = {method: rl.greedy_path(cliff, result.q_values) for method, result in results.items()}
    assert paths["q-learning"][1] == -13 and paths["q-learning"][2]
    assert paths["sarsa"][1] <= -15 and paths["sarsa"][2]
    assert results["sarsa"].returns.mean() > results["q-learning"].returns.mean()
    with pytest.raises(ValueError, match="method must be one of"):
        rl.td_control(cliff, "expected-sarsa", episodes=1, step_sizes=(0.5, 0.5), discount=1.0, epsilon=0.1, seed=0)


def test_greedy_path_reports_a_policy_that_never_arrives() -> None:
    cliff = gym.make("CliffWalking-v1")
    up_forever = np.zeros((48, 4))
    up_forever[:, 0] = 1.0  # action 0 is "up": stuck against the top wall
    path, total, arrived = rl.greedy_path(cliff, up_forever, max_steps=30)
    assert not arrived and total == -30 and len(path) == 31


def test_linear_epsilon_falls_to_its_floor_and_stays() -> None:
    values = [rl.linear_epsilon(step, 1.0, 0.05, 100) for step in (0, 50, 100, 1000)]
    assert np.allclose(values, [1.0, 0.525, 0.05, 0.05])
    with pytest.raises(ValueError, match="decay_steps must be positive"):
        rl.linear_epsilon(1, 1.0, 0.1, 0)


def test_replay_buffer_wraps_around_and_samples_what_it_stored() -> None:
    buffer = rl.ReplayBuffer(3, 2, seed=0)
    with pytest.raises(ValueError, match="empty"):
        buffer.sample(1)
    for index in range(5):
        buffer.add(np.full(2, index), index % 2, float(index), np.full(2, index + 1), index == 4)
    assert buffer.size == 3 and sorted(buffer.rewards.tolist()) == [2.0, 3.0, 4.0], "the two oldest are gone"
    observations, actions, rewards, next_observations, terminated = buffer.sample(50)
    assert set(rewards.tolist()) <= {2.0, 3.0, 4.0}
    assert np.array_equal(observations[:, 0], rewards) and np.array_equal(next_observations[:, 0], rewards + 1)
    assert np.array_equal(terminated, (rewards == 4.0).astype(np.float32))
    assert np.array_equal(actions, rewards.astype(int) % 2)


def test_td_targets_mask_only_terminal_transitions() -> None:
    targets = rl.td_targets(
        tf.constant([1.0, 1.0]), tf.constant([[2.0, 3.0], [5.0, 4.0]]), tf.constant([0.0, 1.0]), 0.5
    ).numpy()
    assert np.allclose(targets, [1.0 + 0.5 * 3.0, 1.0])


def test_dqn_training_step_fits_fixed_targets() -> None:
    plan = dataclasses.replace(rl.rl_plan("fast").dqn, hidden_units=16, learning_rate=1e-2, discount=0.0)
    agent = rl.DQNAgent(plan, 4, 2)
    rng = np.random.default_rng(0)
    observations = rng.normal(size=(64, 4)).astype(np.float32)
    actions = rng.integers(0, 2, 64).astype(np.int32)
    rewards = (observations[:, 0] > 0).astype(np.float32)  # γ = 0: Q(s, a) must learn the reward itself
    batch = (observations, actions, rewards, observations, np.zeros(64, dtype=np.float32))
    losses = [float(agent.train_step(*batch)) for _ in range(300)]
    assert losses[-1] < 0.2 * losses[0], losses[::50]
    agent.sync_target()
    assert all(
        np.array_equal(t, o) for t, o in zip(agent.target.get_weights(), agent.online.get_weights(), strict=True)
    )
    greedy = agent.greedy_actions(observations).numpy()
    assert greedy.shape == (64,) and set(greedy.tolist()) <= {0, 1}
    assert agent.act(observations[0], 0.0, rng) == int(greedy[0])


def test_a_random_policy_balances_cartpole_about_22_steps() -> None:
    rng = np.random.default_rng(0)
    returns = rl.evaluate_policy(lambda batch: rng.integers(0, 2, len(batch)), episodes=100, seed=rl.EVALUATION_SEED)
    assert returns.shape == (100,) and 15 < returns.mean() < 30 and returns.min() >= 8


def test_train_dqn_learns_within_a_few_thousand_steps() -> None:
    plan = dataclasses.replace(rl.rl_plan("fast").dqn, max_steps=3000, evaluate_every=1000, selection_episodes=5)
    training = rl.train_dqn(plan, seed=0)
    assert training.steps == 3000 and [step for step, _ in training.evaluations] == [1000, 2000, 3000]
    assert training.best_step in (1000, 2000, 3000)
    assert max(score for _, score in training.evaluations) > 40, training.evaluations
    assert sum(training.episode_returns) <= training.steps


def test_plans_differ_only_in_size() -> None:
    fast, full = rl.rl_plan("fast"), rl.rl_plan("full")
    assert fast.cliff_epsilon == full.cliff_epsilon == 0.1 and fast.cliff_episodes == full.cliff_episodes == 500
    assert fast.dqn.max_steps < full.dqn.max_steps and fast.lake_episodes < full.lake_episodes
    with pytest.raises(ValueError, match="Unknown course mode"):
        rl.rl_plan("quick")


def test_figures_draw_grids_paths_curves_and_the_dqn() -> None:
    cells = ["SFFF", "FHFH", "FFFH", "HFFG"]
    figure = rl_figures.frozen_lake_figure(cells, np.linspace(0, 1, 16), {"a": np.zeros(16), "b": np.ones(16)}, "t")
    assert len(figure.axes) == 2
    cliff = rl_figures.cliff_cells()
    assert cliff[-1] == "SCCCCCCCCCCG" and len(cliff) == 4
    figure = rl_figures.paths_figure(cliff, {"short": [36, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 47]}, "p")
    assert "13 steps" in figure.axes[0].get_legend().get_texts()[0].get_text()
    figure = rl_figures.learning_curves_figure({"x": np.arange(20.0)}, window=5, title="c", reference={"r": 3.0})
    assert np.allclose(figure.axes[0].lines[0].get_ydata(), np.arange(2.0, 18.0))
    assert rl_figures.dqn_figure(64, 50_000, 64).axes
    with pytest.raises(ValueError, match="equal-length strings"):
        rl_figures.frozen_lake_figure(["SF", "F"], None, {"a": np.zeros(3)}, "t")
    with pytest.raises(ValueError, match="window"):
        rl_figures.moving_average(np.arange(3.0), 5)
    plt.close("all")


# --- exercise checks: right answers pass, typical wrong ones fail with a message that names the mistake ---


def test_checks_say_when_an_exercise_is_not_answered() -> None:
    for check in (checks.check_epsilon_schedule, checks.check_td_targets):
        with pytest.raises(NotAnswered, match="not answered yet"):
            check(None)


def exponential_right(step, start, end, decay_steps):
    return max(end, start * (end / start) ** (step / decay_steps))


def exponential_in_tensorflow(step, start, end, decay_steps):
    rate = tf.math.log(end / start) / decay_steps
    return tf.maximum(end, start * tf.exp(rate * float(step)))


def exponential_without_floor(step, start, end, decay_steps):
    return start * (end / start) ** (step / decay_steps)


def linear_schedule(step, start, end, decay_steps):
    return max(end, start + (end - start) * step / decay_steps)


def exponential_with_a_fixed_factor(step, start, end, decay_steps):
    return max(end, start * 0.99**step)


def exponential_clamped_at_zero(step, start, end, decay_steps):
    return max(0.0, start * (end / start) ** (step / decay_steps))


def increasing_schedule(step, start, end, decay_steps):
    return min(start, end * (start / end) ** (step / decay_steps))


@pytest.mark.parametrize("answer", [exponential_right, exponential_in_tensorflow])
def test_epsilon_check_passes_right_answers(answer) -> None:
    assert "correct" in checks.check_epsilon_schedule(answer)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (exponential_without_floor, "below the floor"),
        (exponential_clamped_at_zero, "below the floor"),
        (linear_schedule, "linear schedule"),
        (exponential_with_a_fixed_factor, "reach end"),
        (increasing_schedule, "at step 0"),
        (lambda step, start, end, decay_steps: [start, end], "one number"),
    ],
)
def test_epsilon_check_names_typical_mistakes(answer, message: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=message):
        checks.check_epsilon_schedule(answer)


def targets_right(rewards, next_q_values, terminated, truncated, discount):
    return rewards + discount * (1 - terminated) * np.max(next_q_values, axis=1)


def targets_in_tensorflow(rewards, next_q_values, terminated, truncated, discount):
    return rl.td_targets(tf.constant(rewards), tf.constant(next_q_values), tf.constant(terminated), discount)


def targets_without_mask(rewards, next_q_values, terminated, truncated, discount):
    return rewards + discount * np.max(next_q_values, axis=1)


def targets_masking_truncation_too(rewards, next_q_values, terminated, truncated, discount):
    done = np.maximum(terminated, truncated)
    return rewards + discount * (1 - done) * np.max(next_q_values, axis=1)


def targets_with_mean(rewards, next_q_values, terminated, truncated, discount):
    return rewards + discount * (1 - terminated) * np.mean(next_q_values, axis=1)


def targets_without_discount(rewards, next_q_values, terminated, truncated, discount):
    return rewards + (1 - terminated) * np.max(next_q_values, axis=1)


def targets_with_max_over_the_batch(rewards, next_q_values, terminated, truncated, discount):
    return rewards + discount * (1 - terminated) * np.max(next_q_values)


@pytest.mark.parametrize("answer", [targets_right, targets_in_tensorflow])
def test_td_target_check_passes_right_answers(answer) -> None:
    assert "correct" in checks.check_td_targets(answer)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (targets_without_mask, "terminal ones included"),
        (targets_masking_truncation_too, "truncated transition"),
        (targets_with_mean, "averaged"),
        (targets_without_discount, "discount γ is missing"),
        (targets_with_max_over_the_batch, "not right"),
        (lambda rewards, *args: rewards[:2], "one target per transition"),
    ],
)
def test_td_target_check_names_typical_mistakes(answer, message: str) -> None:
    with pytest.raises(ExerciseIncorrect, match=message):
        checks.check_td_targets(answer)


def test_play_episodes_lays_complete_episodes_end_to_end() -> None:
    envs = [gym.make("CartPole-v1") for _ in range(3)]
    for index, env in enumerate(envs):
        env.reset(seed=index)
    states, actions, rewards, ends = rl.play_episodes(
        lambda batch: np.zeros((len(batch), 2), np.float32), envs, np.random.default_rng(0)
    )
    assert states.shape == (len(rewards), 4) and actions.shape == rewards.shape == ends.shape
    assert ends.sum() == 3 and ends[-1], "one end per episode, the last step ends the last one"
    assert set(np.unique(actions)) == {0, 1} and np.all(rewards == 1.0)
    for mode in ("fast", "full"):  # the same step budget as the DQN
        budget = rl.rl_plan(mode).dqn.max_steps
        assert rl.reinforce_plan(mode).max_steps == rl.actor_critic_plan(mode).max_steps == budget


def test_discounted_returns_restart_at_episode_ends_and_continue_from_the_bootstrap() -> None:
    ends = np.array([False, False, True, False, True])
    assert rl.discounted_returns(np.ones(5), ends, 0.5).tolist() == [1.75, 1.5, 1.0, 1.5, 1.0]
    rewards = np.array([[1.0, 0.0], [1.0, 2.0]])  # (steps, environments)
    returns = rl.discounted_returns(rewards, np.array([[False, True], [False, False]]), 0.5, bootstrap=[4.0, 8.0])
    assert np.allclose(returns, [[1.0 + 0.5 * 3.0, 0.0], [1.0 + 0.5 * 4.0, 2.0 + 0.5 * 8.0]])


def test_reinforce_loss_favours_the_better_actions() -> None:
    logits = tf.Variable(tf.zeros((4, 2)))
    with tf.GradientTape() as tape:
        loss = rl.reinforce_loss(logits, tf.constant([0, 1, 0, 1]), tf.constant([10.0, 10.0, 2.0, 2.0]))
    gradient = tape.gradient(loss, logits).numpy()
    # gradient descent raises the logits of the actions taken at the above-average steps, lowers the others
    assert gradient[0, 0] < 0 and gradient[1, 1] < 0 and gradient[2, 0] > 0 and gradient[3, 1] > 0


def test_policy_gradient_methods_train_within_the_budget_and_keep_the_best_weights() -> None:
    reinforce = dataclasses.replace(rl.reinforce_plan("fast"), max_steps=1500, selection_episodes=3)
    actor_critic = dataclasses.replace(rl.actor_critic_plan("fast"), max_steps=1500, selection_episodes=3)
    for training in (rl.train_reinforce(reinforce, 0), rl.train_actor_critic(actor_critic, 0)):
        assert 1000 <= training.steps <= 1500 and len(training.evaluations) == 1
        assert training.best_step == training.evaluations[0][0] and training.episode_returns
        assert training.greedy_actions(np.zeros((3, 4), np.float32)).shape == (3,)


def test_curves_on_a_grid_and_back_from_a_results_file() -> None:
    evaluations = [(1000, 20.0), (2000, 480.0), (3000, 500.0)]
    grid = rl.curve_grid(6000, 1000, points=3)
    assert grid.tolist() == [2000, 4000, 6000]
    assert rl.curve_on_grid(evaluations, np.array([500, 1000, 2500, 6000])).tolist()[1:] == [20.0, 480.0, 500.0]
    assert np.isnan(rl.curve_on_grid(evaluations, np.array([500]))[0])
    assert rl.steps_to_reach(evaluations, 475, 6000) == 2000 and rl.steps_to_reach(evaluations, 501, 6000) == 6000
    per_seed = {seed: rl.curve_figures("A2C", evaluations[: seed + 1], grid) for seed in (1, 2)}
    document = {"seeds": [1, 2], "per seed": {str(s): f for s, f in per_seed.items()}, "summary": per_seed[1]}
    steps, curves = rl.recorded_curves(document, "A2C")
    assert steps.tolist() == grid.tolist() and curves.tolist() == [[480.0] * 3, [480.0, 500.0, 500.0]]


def test_policy_gradient_figures_draw_estimates_the_actor_critic_and_curves() -> None:
    figure = rl_figures.gradient_estimates_figure({"a": np.array([1.0, 2.0]), "b": np.array([1.4, 1.6])}, 1.5)
    assert len(figure.axes[0].patches) > 0
    assert rl_figures.actor_critic_figure(8, 8, 64).axes
    steps = np.array([1000, 2000])
    figure = rl_figures.returns_against_steps_figure(
        {"one run": (steps, np.array([[10.0, 20.0]])), "two": (steps, np.array([[0.0, 100.0], [20.0, 300.0]]))},
        title="t",
    )
    assert np.allclose(figure.axes[0].lines[1].get_ydata(), [10.0, 200.0])
    with pytest.raises(ValueError, match="returns per run"):
        rl_figures.returns_against_steps_figure({"x": (steps, np.zeros((1, 3)))}, title="t")
    plt.close("all")
