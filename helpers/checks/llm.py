"""Exercise checks of notebook 10 (a small LLM): RMSNorm, one rotary step, the stop-sequence rule.

Each check runs the learner's answer on inputs of its own and compares the behaviour with what it
must be (computed here, in plain NumPy); known mistakes get a sentence of their own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises import ExerciseIncorrect, call_answer, expect, expect_close, passed


def check_rms_norm(answer: Any) -> str:
    """Exercise 1: ``answer(x, scale, epsilon)`` = x / sqrt(mean(x²) + ε) × scale over the last axis."""
    exercise = "Exercise 1 (RMSNorm)"
    rng = np.random.default_rng(12)
    x = rng.normal(size=(2, 3, 8)) * np.array([[[0.01]], [[50.0]]]) + 3.0  # tiny and huge rows, not centred
    scale, epsilon = rng.uniform(0.5, 2.0, size=8), 1e-5
    result = np.asarray(call_answer(answer, exercise, "x (2, 3, 8), scale (8,) and epsilon 1e-5", x, scale, epsilon))
    expect(result.shape == x.shape, f"{exercise}: the output has the input's shape {x.shape}; yours is {result.shape}.")
    root_mean_square = np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + epsilon)
    expected = x / root_mean_square * scale
    centred = x - x.mean(axis=-1, keepdims=True)
    layer_norm = centred / np.sqrt(np.mean(centred**2, axis=-1, keepdims=True) + epsilon) * scale
    expect(not np.allclose(result, layer_norm), f"{exercise}: this is LayerNorm: RMSNorm does not subtract the mean.")
    expect(
        not np.allclose(result, x / root_mean_square),
        f"{exercise}: the normalisation is right; now multiply by scale.",
    )
    overall = x / np.sqrt(np.mean(x**2) + epsilon) * scale
    expect(
        not np.allclose(result, overall),
        f"{exercise}: you took one mean over the whole array: each row (the last axis) gets its own.",
    )
    expect(
        not np.allclose(result, x / np.sqrt(np.mean(np.abs(x), axis=-1, keepdims=True) + epsilon) * scale),
        f"{exercise}: the root of the mean of the SQUARES, not of the absolute values.",
    )
    expect_close(result, expected, f"{exercise}: the normalised rows", rtol=1e-6, atol=1e-9)
    return passed(exercise)


def rotate(x: np.ndarray, position: float, base: float) -> np.ndarray:
    """The reference rotary step: pair i is (dimension i, dimension i + half), angle position × base^(-2i/d)."""
    half = len(x) // 2
    angles = position * base ** (-2 * np.arange(half) / len(x))
    first, second = x[:half], x[half:]
    return np.concatenate(
        [first * np.cos(angles) - second * np.sin(angles), second * np.cos(angles) + first * np.sin(angles)]
    )


def check_rotary_step(answer: Any) -> str:
    """Exercise 2: ``answer(x, position, base)``: x rotated for ``position``, pairs (i, i + half)."""
    exercise = "Exercise 2 (one rotary step)"
    rng = np.random.default_rng(13)
    width, base = 16, 100.0
    query, key = rng.normal(size=width), rng.normal(size=width)

    def rotated(x: np.ndarray, position: int) -> np.ndarray:
        result = np.asarray(
            call_answer(answer, exercise, f"a vector ({width},), position {position}, base 100", x, position, base),
            float,
        )
        expect(result.shape == (width,), f"{exercise}: return a vector of shape ({width},); yours is {result.shape}.")
        return result

    expect_close(rotated(query, 0), query, f"{exercise}: at position 0 nothing turns: the vector itself")
    at_5 = rotated(query, 5)
    expect(
        np.isclose(np.linalg.norm(at_5), np.linalg.norm(query)),
        f"{exercise}: a rotation keeps the length of the vector; yours changed it from {np.linalg.norm(query):.3f} "
        f"to {np.linalg.norm(at_5):.3f} (a cos or a sin in the wrong place?).",
    )
    half = width // 2
    angles = 5 * base ** (-2 * np.arange(half) / width)
    adjacent = query.copy()
    adjacent[0::2], adjacent[1::2] = (
        query[0::2] * np.cos(angles) - query[1::2] * np.sin(angles),
        query[1::2] * np.cos(angles) + query[0::2] * np.sin(angles),
    )
    expect(
        not np.allclose(at_5, adjacent),
        f"{exercise}: you paired neighbouring dimensions (0, 1), (2, 3), ...: this model pairs dimension i with "
        f"i + {half} (the layout of the original checkpoint).",
    )
    expect(
        not np.allclose(at_5, rotate(query, -5, base)),
        f"{exercise}: you rotated the wrong way: the first half gets x₁ cos − x₂ sin, the second x₂ cos + x₁ sin.",
    )
    expect_close(at_5, rotate(query, 5, base), f"{exercise}: the rotated vector at position 5", rtol=1e-6, atol=1e-9)
    products = [rotated(query, m) @ rotated(key, m - 3) for m in (3, 10, 40)]
    if not np.allclose(products, products[0]):
        raise ExerciseIncorrect(
            f"{exercise}: the dot product of a query and a key 3 positions apart should not depend on where they "
            f"are; yours gives {np.round(products, 4).tolist()}."
        )
    return passed(exercise)


def check_stop_rule(answer: Any) -> str:
    """Exercise 3: ``answer(text, stops)`` = (the part of ``text`` that can be sent now, whether it ended)."""
    exercise = "Exercise 3 (the stop-sequence rule)"

    def verdict(text: str, stops: list[str]) -> tuple[str, bool]:
        result = call_answer(answer, exercise, f"text {text!r} and stops {stops}", text, stops)
        expect(
            isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], str),
            f"{exercise}: return a pair (text to send, ended), e.g. ('Hello ', False); yours returned {result!r}.",
        )
        return result[0], bool(result[1])

    cases = [
        ("Hello world, and more", ["world"], ("Hello ", True), "the text before the stop sequence, which is not sent"),
        ("plain text", [], ("plain text", False), "without stop sequences everything can be sent"),
        ("plain text", ["\nHuman:"], ("plain text", False), "nothing here can grow into the stop sequence"),
    ]
    for text, stops, expected, why in cases:
        got = verdict(text, stops)
        expect(got == expected, f"{exercise}: for {text!r} with stops {stops} expected {expected} ({why}); got {got}.")
    held = verdict("Bye.\nHum", ["\nHuman:"])
    expect(
        held != ("Bye.\nHum", False),
        f"{exercise}: 'Bye.\\nHum' may be the start of the stop sequence '\\nHuman:': if you send it now and the "
        "next token is 'an:', the client has already seen part of the stop sequence. Hold back the end of the "
        "text that is the start of a stop sequence.",
    )
    expect(
        held == ("Bye.", False),
        f"{exercise}: for 'Bye.\\nHum' expected ('Bye.', False): send what cannot become '\\nHuman:'; got {held}.",
    )
    for text, stops in (("ab", ["bx", "abc"]), ("xaba", ["abab"])):
        longest = verdict(text, stops)
        expected = text[: text.index("a")]
        expect(
            longest == (expected, False),
            f"{exercise}: hold back the LONGEST end of the text that starts a stop sequence: for {text!r} with "
            f"stops {stops} expected ({expected!r}, False), got {longest}.",
        )
    first = verdict("one. two! three", ["!", "."])
    expect(
        first == ("one", True),
        f"{exercise}: cut at the EARLIEST stop sequence in the text, whichever of the list it is: for "
        f"'one. two! three' with ['!', '.'] expected ('one', True), got {first}.",
    )
    inside = verdict("Nick is here", ["k i"])
    expect(
        inside == ("Nic", True),
        f"{exercise}: a stop sequence may begin inside a word; expected ('Nic', True), got {inside}.",
    )
    return passed(exercise)
