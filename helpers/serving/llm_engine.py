"""The LLM the server runs: notebook 10's Llama, tokenizer and cached decoder, loaded from a GGUF file."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from pathlib import Path

import numpy as np

from helpers.serving.adapters import merge_lora, read_lora
from helpers.serving.batching import ContinuousBatcher, padded_size


class GgufChatModel:
    """A chat model from a GGUF file (SmolLM2-135M-Instruct in the course), ready to generate for up to
    ``slots`` requests at once, decoded together (:class:`helpers.serving.batching.ContinuousBatcher`).

    ``adapter``: a LoRA adapter file (:mod:`helpers.serving.adapters`) merged into the weights at load.
    ``xla`` compiles prefill and decoding with XLA (about twice as fast on a CPU); ``warm_up``
    compiles the shortest prompt bucket and the decoding step for every number of running
    sequences (1, 2, 4, ... up to ``slots``) now rather than at the first requests.
    """

    def __init__(
        self,
        path: Path | str,
        name: str,
        *,
        adapter: Path | str | None = None,
        xla: bool = True,
        warm_up: bool = True,
        slots: int = 8,
    ) -> None:
        from helpers.lessons import llm

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"no model file at {path}; fetch it with:"
                " python -m helpers.datasets prefetch smollm2_135m_instruct_q4_1"
            )
        started = time.perf_counter()
        smollm = llm.read_gguf(path)
        self.tokenizer = llm.gguf_tokenizer(smollm)
        self.model = llm.Llama(smollm.config)
        llm.load_gguf_weights(self.model, smollm.weights)
        if adapter is not None:  # a LoRA adapter, merged into the kernels once
            merge_lora(self.model, read_lora(adapter))
        del smollm  # the float32 copy of every weight: the model now holds them
        self.decoder = llm.CachedDecoder(self.model, xla=xla)
        self.batcher = ContinuousBatcher(self.decoder, slots)
        self.slots = slots
        self.end_of_turn = self.tokenizer.ids[llm.END_OF_TURN]
        self.name = name
        self.max_prompt_tokens = llm.PROMPT_BUCKETS[-1]
        self._chat_prompt = llm.chat_prompt
        if warm_up:
            self.warm_up()
        self.load_seconds = time.perf_counter() - started

    def warm_up(self) -> None:
        """Compile the shapes of short requests: prefill and decode for 1, 2, 4, ... ``slots`` sequences."""
        import tensorflow as tf

        from helpers.lessons import llm

        rows = self.decoder.cache_rows(llm.PROMPT_BUCKETS[0], 1)
        for sequences in sorted({padded_size(n) for n in range(1, self.slots + 1)}):
            ids = tf.zeros((sequences, llm.PROMPT_BUCKETS[0]), tf.int32)
            _, keys, values = self.decoder.prefill(ids, rows)
            self.decoder.step(ids[:, 0], ids[:, 0], keys, values)

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text)

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids)

    def chat_prompt(self, messages: list[dict[str, str]]) -> str:
        """ChatML, with SmolLM2's default system line unless the messages start with their own."""
        return self._chat_prompt(messages)

    def generate(
        self, prompt: list[int], max_new_tokens: int, pick: Callable[[np.ndarray], int]
    ) -> Generator[int, None, None]:
        """New token ids until the end of the turn (``<|im_end|>``, not yielded) or ``max_new_tokens``,
        decoded with the other running requests; closing the generator frees the request's slot."""
        return self.batcher.generate(prompt, max_new_tokens, pick, stop=(self.end_of_turn,))
