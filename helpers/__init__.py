"""Companion package of the hands-on deep-learning course.

Each notebook imports what is *not* its lesson from here: data loading, modes, plots, timing,
serving and exercise checks. Importing ``helpers`` (or any of its modules) has no side effects:
no TensorFlow ops, no seeding, no downloads. Submodules are imported explicitly, e.g.
``from helpers import data, mode``.
"""

__version__ = "0.1.0"
