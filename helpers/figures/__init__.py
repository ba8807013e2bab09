"""Figures the notebooks show: drawing primitives, shared plots, and one module per notebook or topic.

* :mod:`~helpers.figures.primitives`: a canvas, rounded boxes, labelled arrows and a chain of boxes;
  every architecture figure is built from these;
* shared plots: :mod:`~helpers.figures.images` (image grids), :mod:`~helpers.figures.training`
  (learning curves, feature maps), :mod:`~helpers.figures.transfer` (comparisons, label efficiency),
  :mod:`~helpers.figures.metrics` (confusion matrices, ROC and PR curves, reliability diagrams);
* per notebook: :mod:`~helpers.figures.architectures` (00-06), :mod:`~helpers.figures.fundamentals`
  (01-02), :mod:`~helpers.figures.text` (07), :mod:`~helpers.figures.gpt` (08),
  :mod:`~helpers.figures.encoder_decoder` (08b), :mod:`~helpers.figures.encoders` (09),
  :mod:`~helpers.figures.llm` (10), :mod:`~helpers.figures.graphs` (11), :mod:`~helpers.figures.rl` (12),
  :mod:`~helpers.figures.scaling` (13), :mod:`~helpers.figures.llm_adaptation` (14),
  :mod:`~helpers.figures.compression` (15), :mod:`~helpers.figures.generative` (16).

A figure module draws what it is given; it never imports lesson code (:mod:`helpers.lessons`) or the
servers (:mod:`helpers.serving`). Matplotlib is imported when a figure is drawn, not on import.
"""
