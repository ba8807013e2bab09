"""Data the course reads: the registry of downloaded files and one loader per data source.

* :mod:`~helpers.datasets.registry`: every file the course downloads, found locally first, checked
  against its checksum, cached (``python -m helpers.datasets prefetch``, ``... status``); MNIST;
* loaders built on it: :mod:`~helpers.datasets.digit_tasks` (04's tasks made of some MNIST digits),
  :mod:`~helpers.datasets.text` (07's Reuters R8, 20 Newsgroups and GloVe),
  :mod:`~helpers.datasets.shakespeare` (08's plays as one character stream),
  :mod:`~helpers.datasets.chatbot` (09's question/answer pairs and paraphrases).

A data module never imports lesson code (:mod:`helpers.lessons`) or the servers (:mod:`helpers.serving`):
lessons import data, not the other way round. Importing it downloads nothing.
"""
