"""Exercise checks of notebook 16 (generative models of images): build exercise 1, a class-conditional generator
written by the learner (a conditional VAE or GAN).

The check calls the learner's ``generate(labels, seed)`` and judges the digits it returns with the notebook's
classifier: the shape and the pixel range, that the digits are the classes asked for (conditional accuracy), that
the digits of one class differ from one another (not one image per class), and that another seed gives other
digits. Known mistakes get a sentence of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from helpers.exercises import call_answer, expect, passed, require_answer

CONDITIONAL = "Build exercise 1 (a class-conditional generator)"
# the reference answer, a dense conditional VAE (2 code numbers, 600 steps): 0.961-0.972 (seeds 42, 1, 2)
MIN_CONDITIONAL_ACCURACY = 0.8
MIN_SPREAD = 0.05  # mean pixel standard deviation within a class; the real test digits: 0.154
SAMPLES = 1000


def generated(generate: Callable, labels: np.ndarray, seed: int) -> np.ndarray:
    """``generate(labels, seed)`` as (N, 28, 28) pixels, checked for shape, finiteness and range."""
    images = np.asarray(call_answer(generate, CONDITIONAL, f"{len(labels)} labels, seed {seed}", labels, seed))
    expect(
        images.shape in ((len(labels), 28, 28), (len(labels), 28, 28, 1)),
        f"{CONDITIONAL}: return one 28×28 digit per label, shape ({len(labels)}, 28, 28) or ({len(labels)}, 28, 28, "
        f"1); got {images.shape}.",
    )
    images = images.reshape(len(labels), 28, 28).astype(np.float64)
    expect(bool(np.all(np.isfinite(images))), f"{CONDITIONAL}: some pixels are NaN or infinite.")
    expect(
        images.min() >= -1e-3 and images.max() <= 1 + 1e-3,
        f"{CONDITIONAL}: pixels should be in [0, 1] (the notebook's scale); got {images.min():.3g} to "
        f"{images.max():.3g}."
        + (" Divide by 255." if images.max() > 2 else " End with a sigmoid, or map tanh's [−1, 1] to [0, 1]."),
    )
    return images


def check_conditional_generator(generate: Any, classify: Callable[[np.ndarray], np.ndarray]) -> str:
    """Build exercise 1: ``generate(labels, seed)`` returns one digit of each class in ``labels`` (int array),
    pixels in [0, 1]. ``classify(images)`` (the notebook's CNN) must find the class asked for in at least
    :data:`MIN_CONDITIONAL_ACCURACY` of :data:`SAMPLES` digits, the digits of a class must differ (pixel spread
    at least :data:`MIN_SPREAD`), and another seed must give other digits."""
    require_answer(generate, CONDITIONAL)
    labels = (np.arange(SAMPLES) % 10).astype(np.int32)
    images = generated(generate, labels, seed=0)
    found = np.asarray(classify(images))
    accuracy = float(np.mean(found == labels))
    expect(
        accuracy >= MIN_CONDITIONAL_ACCURACY,
        f"{CONDITIONAL}: the classifier finds the class asked for in {accuracy:.1%} of the digits, below "
        f"{MIN_CONDITIONAL_ACCURACY:.0%}."
        + (
            " That is chance: the generator ignores the label. Feed it (one-hot or an embedding) to the decoder"
            " (and, for a VAE, to the encoder too)."
            if accuracy < 0.2
            else " Train longer, or check that each label reaches the decoder with its own code."
        ),
    )
    spread = float(np.mean([images[labels == k].std(axis=0).mean() for k in range(10)]))
    expect(
        spread >= MIN_SPREAD,
        f"{CONDITIONAL}: the digits of a class hardly differ (mean pixel spread {spread:.3f}, below {MIN_SPREAD}): "
        "one image per class is not a generator. Draw a new random code for every digit.",
    )
    again = generated(generate, labels, seed=1)
    expect(
        float(np.abs(again - images).mean()) > 1e-3,
        f"{CONDITIONAL}: seed 1 gives the same digits as seed 0. Draw the codes from a generator seeded with `seed`.",
    )
    shares = np.bincount(found, minlength=10) / len(found)
    print(f"conditional accuracy {accuracy:.1%}; pixel spread within a class {spread:.3f}; classes found: "
          f"{shares.min():.1%} to {shares.max():.1%} of the digits")  # fmt: skip
    return passed(CONDITIONAL)
