"""Continuous batching: the answers of several requests decoded together, one compiled step for all.

Decoding one token reads every weight of the model once, whatever the number of sequences in the
step: on a CPU (as on a GPU) that read, not the arithmetic, sets the speed. A server that decodes
its users' sequences together therefore writes several answers in little more than the time of one.
**Continuous batching** (Orca, 2022; vLLM, TGI, llama.cpp's parallel slots) lets a request join the
running batch at the next step instead of waiting for the batch to finish:

* every running sequence holds a **slot**: one row of the batched KV cache (blocks, slots, kv_heads,
  rows, head_width) and its own position;
* a new request is **prefilled** (its prompt through the model at once, notebook 10's ``prefill``;
  requests that arrive together are prefilled together) and its keys and values are copied into a
  free slot; from the next step it decodes with the others;
* each step runs notebook 10's ``decode_step`` on every slot's last token at its own position, and
  each sequence picks its next token from its own logits with its own sampler (its seed included),
  so a request gets the same text alone or in a batch;
* a sequence that ends (its stop token, ``max_new_tokens``, or a client that left) frees its slot
  at once.

The number of slots and the cache's rows are padded to a few sizes (powers of two; the decoder's
cache lengths) so that XLA compiles a handful of shapes, not one per batch.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf

    from helpers.lessons.llm import CachedDecoder

Picker = Callable[[np.ndarray], int]


@dataclass(eq=False)
class Sequence:
    """One request's generation inside the batcher: its prompt and rules, and the tokens it has made."""

    prompt: list[int]
    max_new_tokens: int
    pick: Picker
    stop: tuple[int, ...]
    tokens: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)  # new token ids, then None (or an error)
    cancelled: threading.Event = field(default_factory=threading.Event)
    rows: int = 0  # the cache rows this sequence needs (its prompt's bucket and max_new_tokens)
    made: int = 0  # tokens picked so far
    position: int = 0  # the cache row of the last picked token, which the next step reads
    last: int = 0  # the last picked token


def padded_size(count: int) -> int:
    """The smallest power of two that holds ``count`` (1, 2, 4, 8, ...)."""
    return 1 << max(count - 1, 0).bit_length()


class ContinuousBatcher:
    """Generation for many concurrent requests from one :class:`helpers.lessons.llm.CachedDecoder`.

    ``generate`` has the decoder's interface and may be called from any number of threads; one
    worker thread (started at the first request) owns the model and the batched cache. At most
    ``slots`` sequences decode together; a caller must not start more at once (the server's
    admission control sees to it), or the extra wait for a free slot.
    """

    def __init__(self, decoder: CachedDecoder, slots: int = 8) -> None:
        if slots < 1:
            raise ValueError(f"slots must be at least 1, got {slots}")
        self.decoder, self.slots = decoder, slots
        self.arrivals: queue.SimpleQueue[Sequence] = queue.SimpleQueue()
        self.running: list[Sequence | None] = []  # one entry per slot of the cache; None: a free slot
        self.keys: tf.Tensor | None = None  # the batched cache, (blocks, slots, kv_heads, rows, head_width)
        self.values: tf.Tensor | None = None
        self.steps = 0  # decode steps run (each for every running sequence)
        self.lock = threading.Lock()
        self.worker: threading.Thread | None = None

    @property
    def active(self) -> int:
        """How many sequences are decoding now."""
        return sum(sequence is not None for sequence in self.running)

    def generate(
        self, prompt: list[int], max_new_tokens: int, pick: Picker, stop: tuple[int, ...] = (2,)
    ) -> Generator[int, None, None]:
        """New token ids one by one, until a ``stop`` id (not yielded), ``max_new_tokens`` or the end of
        the cache; closing the iterator early (a client that left) frees the sequence's slot."""
        self.decoder.bucket(len(prompt))  # a prompt too long for every bucket is refused here, in the caller
        sequence = Sequence(list(prompt), max_new_tokens, pick, tuple(stop))
        self.arrivals.put(sequence)
        self.start()
        try:
            while (item := sequence.tokens.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            sequence.cancelled.set()

    def start(self) -> None:
        with self.lock:
            if self.worker is None:
                self.worker = threading.Thread(target=self.serve, name="continuous-batcher", daemon=True)
                self.worker.start()

    def serve(self) -> None:
        """The worker: admit arrivals into free slots, run one step for every running sequence, repeat."""
        while True:
            waiting = [self.arrivals.get()] if not self.active else []  # nothing running: sleep until a request
            while len(waiting) < self.slots - self.active:
                try:
                    waiting.append(self.arrivals.get_nowait())
                except queue.Empty:
                    break
            try:
                self.admit([sequence for sequence in waiting if not sequence.cancelled.is_set()])
                self.release_finished()
                if self.active:
                    self.step()
                    self.release_finished()
            except Exception as error:  # every running request learns of it; the worker goes on
                for sequence in [*waiting, *(s for s in self.running if s is not None)]:
                    sequence.tokens.put(error)
                self.running, self.keys, self.values = [], None, None

    def emit(self, sequence: Sequence, logits: np.ndarray, row: int) -> None:
        """Pick ``sequence``'s next token from its logits (the prediction for cache row ``row``)."""
        token = sequence.pick(logits)
        sequence.made += 1
        if token in sequence.stop:
            sequence.cancelled.set()
            return
        sequence.tokens.put(token)
        sequence.position, sequence.last = row, token
        if sequence.made >= sequence.max_new_tokens or row + 1 >= sequence.rows:
            sequence.cancelled.set()  # done: the slot is freed by release_finished

    def admit(self, arrivals: list[Sequence]) -> None:
        """Prefill ``arrivals`` together (padded to one bucket) and move their caches into free slots."""
        import tensorflow as tf

        if not arrivals:
            return
        buckets = [self.decoder.bucket(len(sequence.prompt)) for sequence in arrivals]
        for sequence, bucket in zip(arrivals, buckets, strict=True):
            sequence.rows = self.decoder.cache_rows(bucket, sequence.max_new_tokens)
        rows = max(sequence.rows for sequence in arrivals)
        ids = np.zeros((padded_size(len(arrivals)), max(buckets)), dtype=np.int32)
        for index, sequence in enumerate(arrivals):
            ids[index, : len(sequence.prompt)] = sequence.prompt
        logits, keys, values = self.decoder.prefill(tf.constant(ids), rows)
        last = logits.numpy()[np.arange(len(arrivals)), [len(sequence.prompt) - 1 for sequence in arrivals]]
        for index, sequence in enumerate(arrivals):
            self.emit(sequence, last[index], len(sequence.prompt))
        self.place(arrivals, keys[:, : len(arrivals)], values[:, : len(arrivals)])

    def place(self, arrivals: list[Sequence], keys: tf.Tensor, values: tf.Tensor) -> None:
        """Put the arrivals' caches into free slots, growing the cache's slots or rows as needed."""
        import tensorflow as tf

        if self.keys is None:
            self.running, self.keys, self.values = [], keys[:, :0], values[:, :0]
        rows = max(self.keys.shape[3], keys.shape[3])
        self.keys, keys = (self.pad(cache, rows) for cache in (self.keys, keys))
        self.values, values = (self.pad(cache, rows) for cache in (self.values, values))
        self.grow_slots(padded_size(self.active + len(arrivals)))
        chosen = [slot for slot, sequence in enumerate(self.running) if sequence is None][: len(arrivals)]
        where = tf.constant([[slot] for slot in chosen])
        self.keys = self.scatter_slots(self.keys, where, keys)
        self.values = self.scatter_slots(self.values, where, values)
        for slot, sequence in zip(chosen, arrivals, strict=True):
            self.running[slot] = sequence

    def grow_slots(self, total: int) -> None:
        """Append empty slots to the cache until it has ``total``."""
        import tensorflow as tf

        extra = total - len(self.running)
        if extra > 0:
            shape = [self.keys.shape[0], extra, *self.keys.shape[2:]]
            self.keys = tf.concat([self.keys, tf.zeros(shape)], axis=1)
            self.values = tf.concat([self.values, tf.zeros(shape)], axis=1)
            self.running += [None] * extra

    @staticmethod
    def pad(cache: tf.Tensor, rows: int) -> tf.Tensor:
        import tensorflow as tf

        return tf.pad(cache, [[0, 0], [0, 0], [0, 0], [0, rows - cache.shape[3]], [0, 0]])

    @staticmethod
    def scatter_slots(cache: tf.Tensor, where: tf.Tensor, update: tf.Tensor) -> tf.Tensor:
        """``cache`` with the slots ``where`` (n, 1) replaced by ``update``'s n sequences."""
        import tensorflow as tf

        moved = tf.transpose(cache, (1, 0, 2, 3, 4))  # slots first, for the scatter
        moved = tf.tensor_scatter_nd_update(moved, where, tf.transpose(update, (1, 0, 2, 3, 4)))
        return tf.transpose(moved, (1, 0, 2, 3, 4))

    def step(self) -> None:
        """One decode step for every running sequence (free slots decode a dummy token, ignored)."""
        import tensorflow as tf

        tokens = np.array([0 if s is None else s.last for s in self.running], dtype=np.int32)
        positions = np.array([0 if s is None else s.position for s in self.running], dtype=np.int32)
        logits, self.keys, self.values = self.decoder.step(
            tf.constant(tokens), tf.constant(positions), self.keys, self.values
        )
        logits = logits.numpy()
        self.steps += 1
        for slot, sequence in enumerate(self.running):
            if sequence is not None and not sequence.cancelled.is_set():
                self.emit(sequence, logits[slot], sequence.position + 1)

    def release_finished(self) -> None:
        """Free the slots of finished or abandoned sequences; shrink the cache when half of it is free."""
        import tensorflow as tf

        for slot, sequence in enumerate(self.running):
            if sequence is not None and sequence.cancelled.is_set():
                sequence.tokens.put(None)
                self.running[slot] = None
        kept = [slot for slot, sequence in enumerate(self.running) if sequence is not None]
        if not kept:
            self.running, self.keys, self.values = [], None, None
            return
        rows = max(self.running[slot].rows for slot in kept)
        if rows < self.keys.shape[3]:  # the longest sequences have left: a shorter cache is faster to read
            self.keys, self.values = self.keys[:, :, :, :rows], self.values[:, :, :, :rows]
        if padded_size(len(kept)) < len(self.running):
            self.keys = tf.gather(self.keys, kept, axis=1)
            self.values = tf.gather(self.values, kept, axis=1)
            self.running = [self.running[slot] for slot in kept]
            self.grow_slots(padded_size(len(kept)))  # back to a power of two
