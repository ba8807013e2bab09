"""Notebook 03's MNIST models, recipe and input pipeline (exported to helpers.lessons.mnist), on small data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers.lessons import mnist


def test_recipes_by_mode_and_kind() -> None:
    for kind in mnist.MODEL_KINDS:
        fast, full = mnist.mnist_recipe(kind, "fast"), mnist.mnist_recipe(kind, "full")
        assert full.train_size == 60_000 and fast.train_size < full.train_size
        assert fast.epochs < full.epochs
        assert (fast.batch_size, fast.learning_rate) == (full.batch_size, full.learning_rate)
    recipe = mnist.mnist_recipe("mlp", "full")
    assert recipe.total_steps(1000) == -(-1000 // recipe.batch_size) * recipe.epochs
    with pytest.raises(ValueError, match="Unknown MNIST model kind 'rnn'"):
        mnist.mnist_recipe("rnn", "full")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Unknown course mode"):
        mnist.mnist_recipe("mlp", "quick")


def test_model_path_follows_the_artifacts_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COURSE_ARTIFACTS_DIR", str(tmp_path))
    assert mnist.mnist_model_path("cnn") == tmp_path / "models" / "mnist_cnn.keras"
    assert (tmp_path / "models").is_dir()
    with pytest.raises(ValueError, match="use one of"):
        mnist.mnist_model_path("vit")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", mnist.MODEL_KINDS)
def test_models_take_raw_pixels_and_give_probabilities(kind: str) -> None:
    model = mnist.build_mnist_model(kind)
    pixels = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    probabilities = np.asarray(model(pixels, training=False))
    assert probabilities.shape == (3, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert model.name == f"mnist_{kind}" and not model.compiled  # compile_mnist_model compiles


def test_cnn_layers_the_notebook_looks_inside() -> None:
    cnn = mnist.build_mnist_model("cnn")
    shapes = {name: cnn.get_layer(name).output.shape[1:] for name in ("conv1", "pool1", "conv2", "pool2")}
    assert shapes == {"conv1": (24, 24, 32), "pool1": (12, 12, 32), "conv2": (8, 8, 64), "pool2": (4, 4, 64)}
    assert mnist.build_mnist_model("mlp").get_layer("hidden1").units == 512


def test_learning_rate_decays_along_a_cosine_to_zero() -> None:
    constant = mnist.compile_mnist_model(mnist.build_mnist_model("mlp"))
    assert float(constant.optimizer.learning_rate) == pytest.approx(mnist.PEAK_LEARNING_RATE)
    decaying = mnist.compile_mnist_model(mnist.build_mnist_model("mlp"), decay_steps=100, learning_rate=0.01)
    schedule = decaying.optimizer._learning_rate
    rates = [float(schedule(step)) for step in (0, 50, 100)]
    assert rates == pytest.approx([0.01, 0.005, 0.0], abs=1e-7)


def test_dataset_batches_shuffles_each_epoch_and_keeps_order_without_a_seed() -> None:
    images = np.arange(100, dtype=np.uint8).repeat(28 * 28).reshape(100, 28, 28)
    labels = np.arange(100)
    shuffled = mnist.mnist_dataset(images, labels, batch_size=32, shuffle_seed=0)
    epochs = [np.concatenate([batch_labels for _, batch_labels in shuffled.as_numpy_iterator()]) for _ in range(2)]
    assert [len(batch) for _, batch in shuffled.as_numpy_iterator()] == [32, 32, 32, 4]
    assert sorted(epochs[0]) == list(labels) and sorted(epochs[1]) == list(labels)
    assert not np.array_equal(epochs[0], labels) and not np.array_equal(epochs[0], epochs[1])
    ordered = mnist.mnist_dataset(images, labels, batch_size=32)
    images_out, labels_out = zip(*ordered.as_numpy_iterator(), strict=True)
    assert np.array_equal(np.concatenate(labels_out), labels)
    assert np.array_equal(np.concatenate(images_out)[:, 0, 0], labels)
    with pytest.raises(ValueError, match="100 images but 99 labels"):
        mnist.mnist_dataset(images, labels[:99], batch_size=32)
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        mnist.mnist_dataset(images, labels, batch_size=0)


@pytest.fixture
def small_mnist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mnist_source: Path):
    """Real MNIST cut to 1200 training and 500 test images, a 5-epoch recipe, artifacts in tmp_path."""
    with np.load(mnist_source) as arrays:
        train = (arrays["x_train"][:1200], arrays["y_train"][:1200])
        test = (arrays["x_test"][:500], arrays["y_test"][:500])
    monkeypatch.setattr(mnist, "load_mnist", lambda: (train, test))
    real_recipe = mnist.mnist_recipe

    def small_recipe(kind: str, mode: str) -> mnist.MnistRecipe:
        recipe = real_recipe(kind, mode)  # keeps the checks on kind and mode
        return mnist.MnistRecipe(kind, 1200, 5, recipe.batch_size, recipe.learning_rate)

    monkeypatch.setattr(mnist, "mnist_recipe", small_recipe)
    monkeypatch.setenv("COURSE_ARTIFACTS_DIR", str(tmp_path))
    return train, test


def test_fit_learns_reports_time_and_holds_out_validation(small_mnist) -> None:
    import keras

    _, (x_test, y_test) = small_mnist
    keras.utils.set_random_seed(0)
    seen_epochs: list[int] = []
    counter = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen_epochs.append(epoch))
    run = mnist.fit_mnist_model("mlp", "fast", validation_size=200, callbacks=[counter])
    assert run.train_samples == 1000 and run.epochs_run == 5 and seen_epochs == [0, 1, 2, 3, 4]
    assert set(run.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert run.history["loss"][-1] < run.history["loss"][0]
    assert run.seconds > 0 and run.samples_per_second == pytest.approx(5000 / run.seconds)
    accuracy = run.model.evaluate(mnist.mnist_dataset(x_test, y_test, batch_size=500), verbose=0)[1]
    assert accuracy > 0.8, f"an MLP trained on 1000 MNIST images should exceed 80 %, got {accuracy:.3f}"
    with pytest.raises(ValueError, match="validation_size must be between 0 and 1199"):
        mnist.fit_mnist_model("mlp", "fast", validation_size=1200)


def test_cnn_trains_without_validation(small_mnist) -> None:
    run = mnist.fit_mnist_model("cnn", "fast")
    assert run.train_samples == 1200 and "val_loss" not in run.history
    assert run.history["accuracy"][-1] > run.history["accuracy"][0]


def test_load_or_train_trains_once_then_loads_the_same_model(small_mnist) -> None:
    _, (x_test, y_test) = small_mnist
    test = mnist.mnist_dataset(x_test, y_test, batch_size=500)
    model, origin = mnist.load_or_train_mnist("mlp", "fast")
    assert origin.startswith("trained here in fast mode") and mnist.mnist_model_path("mlp").is_file()
    again, origin_again = mnist.load_or_train_mnist("mlp", "fast")
    assert origin_again.startswith("loaded")
    np.testing.assert_array_equal(again.predict(test, verbose=0), model.predict(test, verbose=0))
