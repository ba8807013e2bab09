"""Fast and full mode: one environment variable, read in one place.

``COURSE_MODE=fast`` runs every notebook with smaller data and fewer epochs (about a minute on a
2-core CPU, what CI uses); ``COURSE_MODE=full`` (the default) reproduces the published results.
"""

from __future__ import annotations

import os
from typing import Literal, TypeVar

MODE_VARIABLE = "COURSE_MODE"
MODES = ("fast", "full")
DEFAULT_MODE = "full"

Mode = Literal["fast", "full"]
T = TypeVar("T")


def check_mode(mode: str) -> Mode:
    """Return ``mode`` normalised to ``"fast"`` or ``"full"``; raise a clear error otherwise."""
    normalised = mode.strip().lower()
    if normalised not in MODES:
        raise ValueError(
            f"Unknown course mode {mode!r}: use 'fast' (small data, about a minute per notebook) "
            f"or 'full' (the real results), e.g. `export {MODE_VARIABLE}=fast`."
        )
    return normalised  # type: ignore[return-value]


def course_mode() -> Mode:
    """The mode named by the ``COURSE_MODE`` environment variable (default ``full``)."""
    return check_mode(os.environ.get(MODE_VARIABLE, DEFAULT_MODE) or DEFAULT_MODE)


def by_mode(mode: str, *, fast: T, full: T) -> T:
    """Pick the value for ``mode``: ``by_mode(MODE, fast=2, full=20)`` for epochs, sizes, bounds."""
    return fast if check_mode(mode) == "fast" else full
