"""Companion package of the hands-on deep-learning course: what is *not* a notebook's lesson.

Where things are::

    helpers/
      lessons/     lesson code, exported from the notebooks' cells tagged `export` (make export)
      checks/      exercise checks, one module per notebook (checks.setup is notebook 00's, ...)
      datasets/    the registry of downloaded files (python -m helpers.datasets) and one loader per source
      figures/     drawing primitives, shared plots, one module of figures per notebook or topic
      processes/   what starts and watches other processes: servers, training workers
      serving/     the model server and the OpenAI-compatible LLM server (python -m helpers.serving)
      mode, paths, seeding, timing, profiling, exercises, metrics, environment, litert,
      imagenet, minilm_numpy: small modules that several notebooks share

Imports run one way: ``lessons`` may use ``datasets``, ``figures`` and the small modules; ``datasets``
and ``figures`` never import ``lessons`` or ``serving`` (``imagenet`` uses 04's lesson code, so it stays
out of ``datasets``). Importing ``helpers`` (or any of its modules) has no side effects: no TensorFlow
ops, no seeding, no downloads. Submodules are imported explicitly, e.g.
``from helpers.datasets.registry import load_mnist`` or ``from helpers.figures import gpt as gpt_figures``.
"""

__version__ = "0.1.0"
