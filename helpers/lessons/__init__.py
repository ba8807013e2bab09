"""Lesson code exported from the notebooks (generated; do not edit).

Each module here is written by ``make export`` from the cells tagged ``export`` of one notebook:
``helpers.lessons.mnist`` from ``notebooks/03_mnist.ipynb``, and so on. Edit the notebook, then run
``make export``; a test fails when a module is older than its notebook.
"""
