"""The LLM the server runs: notebook 10's Llama, tokenizer and cached decoder, loaded from a GGUF file."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np


class GgufChatModel:
    """A chat model from a GGUF file (SmolLM2-135M-Instruct in the course), ready to generate.

    ``xla`` compiles prefill and decoding with XLA (about twice as fast on a CPU); ``warm_up``
    compiles the shortest prompt bucket and the decoding step now rather than at the first request.
    """

    def __init__(self, path: Path | str, name: str, *, xla: bool = True, warm_up: bool = True) -> None:
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
        del smollm  # the float32 copy of every weight: the model now holds them
        self.decoder = llm.CachedDecoder(self.model, xla=xla)
        self.end_of_turn = self.tokenizer.ids[llm.END_OF_TURN]
        self.name = name
        self.max_prompt_tokens = llm.PROMPT_BUCKETS[-1]
        self._chat_prompt = llm.chat_prompt
        if warm_up:
            list(self.decoder.generate(self.encode("Hi"), 2, lambda logits: 0, stop=()))
        self.load_seconds = time.perf_counter() - started

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text)

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids)

    def chat_prompt(self, messages: list[dict[str, str]]) -> str:
        """ChatML, with SmolLM2's default system line unless the messages start with their own."""
        return self._chat_prompt(messages)

    def generate(self, prompt: list[int], max_new_tokens: int, pick: Callable[[np.ndarray], int]) -> Iterator[int]:
        """New token ids until the end of the turn (``<|im_end|>``, not yielded) or ``max_new_tokens``."""
        return self.decoder.generate(prompt, max_new_tokens, pick, stop=(self.end_of_turn,))
