"""Notebook 16's lesson code (helpers/lessons/generative.py): the measures, the VAE's loss, the GAN's two updates,
the diffusion schedule, guidance and samplers. Small models and data: the behaviour, not the quality."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers.lessons import generative as lesson


def test_frechet_distance_is_zero_for_the_same_set_and_the_squared_shift_for_a_moved_one() -> None:
    features = np.random.default_rng(0).standard_normal((4000, 8))
    assert lesson.frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6)
    shift = np.arange(8.0) / 4
    assert lesson.frechet_distance(features, features + shift) == pytest.approx(float(shift @ shift), rel=1e-6)
    wider = lesson.frechet_distance(features, 2 * features)  # same mean, variance 4: (2 - 1)² per dimension
    assert wider == pytest.approx(8.0, rel=0.1)
    other = np.random.default_rng(1).standard_normal((4000, 8)) * 1.5
    assert lesson.frechet_distance(features, other) == pytest.approx(lesson.frechet_distance(other, features))


def test_entropy_and_histogram() -> None:
    assert lesson.entropy_bits(lesson.class_histogram(np.arange(1000) % 10)) == pytest.approx(np.log2(10))
    assert lesson.entropy_bits(lesson.class_histogram(np.full(50, 3))) == 0.0
    assert lesson.balanced_labels(25).tolist()[:12] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]


def test_the_cosine_schedule_falls_from_the_digit_to_noise() -> None:
    alpha_bar = lesson.cosine_schedule(200)
    assert alpha_bar[0] == 1 and alpha_bar[-1] < 1e-3 and np.all(np.diff(alpha_bar) < 0)
    clean = np.ones((2, 28, 28, 1), np.float32)
    noise = np.random.default_rng(0).standard_normal(clean.shape)
    assert np.allclose(lesson.add_noise(clean, np.array([0, 0]), noise, alpha_bar), clean)
    assert np.allclose(lesson.add_noise(clean, np.array([200, 200]), noise, alpha_bar), noise, atol=0.05)


def test_the_vaes_kl_is_zero_at_the_prior_and_the_gradient_reaches_the_encoder_through_the_draw() -> None:
    keras.utils.set_random_seed(0)
    vae = lesson.VAE(4, seed=0)
    images = np.random.default_rng(0).random((8, 28, 28, 1)).astype(np.float32)
    last = vae.encoder.layers[-1]
    last.kernel.assign(np.zeros(last.kernel.shape))
    last.bias.assign(np.zeros(last.bias.shape))  # mean 0, log-variance 0: the encoder's Gaussian is the prior
    assert float(vae.losses_of(images)["kl"]) == pytest.approx(0.0, abs=1e-6)
    last.bias.assign(np.array([1.0, 0, 0, 0, 0, 0, 0, 0]))  # mean 1 in one dimension: KL = ½ · 1²
    assert float(vae.losses_of(images)["kl"]) == pytest.approx(0.5, abs=1e-6)
    with tf.GradientTape() as tape:
        loss = vae.losses_of(images)["loss"]
    gradient = tape.gradient(loss, last.bias)
    assert gradient is not None and float(tf.reduce_max(tf.abs(gradient))) > 0, "no gradient through the draw"


def test_one_gan_step_updates_both_networks_each_with_its_own_optimiser() -> None:
    keras.utils.set_random_seed(0)
    gan = lesson.new_gan(real_target=0.9, seed=0)
    before = [w.numpy().copy() for w in gan.generator.weights], [w.numpy().copy() for w in gan.discriminator.weights]
    data = tf.data.Dataset.from_tensors((tf.random.uniform((16, 28, 28, 1)), tf.zeros(16, tf.int32))).repeat()
    losses = lesson.train_for(gan, data, 2, every=2)
    after = [w.numpy() for w in gan.generator.weights], [w.numpy() for w in gan.discriminator.weights]
    for old, new in zip(before, after, strict=True):
        assert any(not np.array_equal(a, b) for a, b in zip(old, new, strict=True))
    assert gan.generator_optimizer is not gan.discriminator_optimizer
    assert set(losses) == {"discriminator loss", "generator loss"}
    assert gan.sample(5, 0).shape == (5, 28, 28, 1) and 0 <= gan.sample(5, 0).min() <= gan.sample(5, 0).max() <= 1


@pytest.fixture(scope="module")
def diffusion() -> lesson.Diffusion:
    keras.utils.set_random_seed(0)
    return lesson.new_diffusion(lesson.generative_plan("fast"), 0)


def test_guidance_zero_is_the_conditional_prediction_and_w_extrapolates(diffusion) -> None:
    noisy = tf.random.normal((4, 28, 28, 1), seed=1)
    labels = tf.constant([0, 1, 2, 3])
    t = tf.constant(50)
    plain = diffusion.network([noisy, tf.fill((4,), t), labels])
    free = diffusion.network([noisy, tf.fill((4,), t), tf.fill((4,), 10)])
    assert np.allclose(lesson.guided_prediction(diffusion.network, noisy, t, labels, 0.0), plain, atol=1e-5)
    assert np.allclose(lesson.guided_prediction(diffusion.network, noisy, t, labels, 2.0), plain + 2 * (plain - free),
                       atol=1e-4)  # fmt: skip


def test_both_samplers_give_pixels_and_ddim_is_deterministic(diffusion) -> None:
    labels = lesson.balanced_labels(6)
    images, chain = lesson.denoise(diffusion, labels, 5, 1.0, seed=3, keep=2)
    again, _ = lesson.denoise(diffusion, labels, 5, 1.0, seed=3)
    assert images.shape == (6, 28, 28, 1) and images.min() >= 0 and images.max() <= 1
    assert np.array_equal(images, again) and len(chain) == 6 and chain[0].shape == (2, 28, 28, 1)
    ancestral, chain = lesson.denoise(diffusion, labels, 0, 0.0, seed=3, ancestral=True, keep=1)
    assert ancestral.shape == images.shape and len(chain) == 201


def test_a_diffusion_training_step_lowers_the_noise_prediction_loss(diffusion) -> None:
    digits = np.zeros((64, 28, 28, 1), np.float32)
    digits[:, 8:20, 12:16] = 1.0  # one stroke: an easy distribution
    data = lesson.pixels_dataset(digits, np.zeros(64, np.int64), 32, 0)
    history = lesson.train_for(diffusion, data, 60, every=20)
    assert history["loss"][-1] < 0.7 * history["loss"][0], history
