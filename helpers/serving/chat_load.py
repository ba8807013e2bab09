"""Concurrent chat clients against an OpenAI-compatible server: what each user waits and what all get.

``concurrent_chats`` starts ``clients`` threads together, each streaming one chat answer through the
``openai`` client, and measures each client's time to its first token and its tokens; the round's
aggregate tokens per second is every client's tokens over the wall time from the start to the last
answer. Used by ``benchmarks/llm_serving.py`` and notebook 10.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import openai


@dataclass(frozen=True)
class ChatRound:
    """One round of concurrent chats: each client's time to first token and tokens, refusals, wall time."""

    first_token_s: list[float]  # one per answered client
    tokens: list[int]  # completion tokens, one per answered client
    refused: int  # clients answered with a 429 (the queue was full)
    seconds: float  # from the start to the last answer

    @property
    def tokens_per_s(self) -> float:
        """Every client's tokens over the round's wall time."""
        return sum(self.tokens) / self.seconds


def stream_chat(client: openai.OpenAI, model: str, question: str, max_tokens: int) -> tuple[float, int]:
    """One greedy streamed chat answer: the seconds to its first piece of text, and its completion tokens."""
    sent = time.perf_counter()
    first = None
    tokens = 0
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": question}],
        max_tokens=max_tokens,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter() - sent
        if chunk.usage is not None:
            tokens = chunk.usage.completion_tokens
    return (first if first is not None else float("inf")), tokens


def concurrent_chats(url: str, model: str, questions: list[str], max_tokens: int) -> ChatRound:
    """One client per question, all sent together; their answers streamed from the server at ``url``."""
    start = threading.Barrier(len(questions))
    clients = [openai.OpenAI(base_url=f"{url}/v1", api_key="local", max_retries=0, timeout=300) for _ in questions]

    def one(index: int) -> tuple[float, int] | None:
        start.wait()
        try:
            return stream_chat(clients[index], model, questions[index], max_tokens)
        except openai.RateLimitError:
            return None

    started = time.perf_counter()
    with ThreadPoolExecutor(len(questions)) as pool:
        answers = list(pool.map(one, range(len(questions))))
    seconds = time.perf_counter() - started
    served = [answer for answer in answers if answer is not None]
    return ChatRound(
        first_token_s=[first for first, _ in served],
        tokens=[tokens for _, tokens in served],
        refused=len(answers) - len(served),
        seconds=seconds,
    )
