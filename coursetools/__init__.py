"""Maintainers' and teachers' tools: student edition, progress, Colab cells, teacher guide, workshop pack,
notebook hygiene, timing report and lesson export. Called by the make targets; no notebook imports them."""
