"""helpers.serving.batching: continuous batching on a tiny random Llama gives every request the tokens it
gets alone, whoever shares its steps, and frees the slots of finished and abandoned requests."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import pytest

from helpers.lessons import llm
from helpers.lessons.gpt import make_picker
from helpers.serving.batching import ContinuousBatcher, padded_size
from tests.test_llm_lessons import tiny_llama

PROMPTS = [[1, 5, 7], [3] * 70, [4, 9, 11, 2, 8, 6, 10], [12], [20, 21, 22, 23, 24], [30, 31], [40] * 10, [5, 6]]


@pytest.fixture(scope="module")
def decoder() -> llm.CachedDecoder:
    return llm.CachedDecoder(tiny_llama(3), xla=False)


def sampler(seed: int) -> Callable[[np.ndarray], int]:
    return make_picker(np.random.default_rng(seed), temperature=0.9, top_p=0.95)


def together(batcher: ContinuousBatcher, requests: list[tuple[list[int], int, int]]) -> list[list[int]]:
    """Each (prompt, new tokens, seed) generated in its own thread, all at once."""
    results: list[list[int]] = [[] for _ in requests]
    start = threading.Barrier(len(requests))

    def run(index: int) -> None:
        prompt, new_tokens, seed = requests[index]
        start.wait()
        results[index] = list(batcher.generate(prompt, new_tokens, sampler(seed), stop=()))

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_padded_sizes_are_powers_of_two() -> None:
    assert [padded_size(n) for n in (1, 2, 3, 4, 5, 8, 9)] == [1, 2, 4, 4, 8, 8, 16]


def test_each_request_gets_its_own_tokens_alone_or_in_a_batch(decoder: llm.CachedDecoder) -> None:
    requests = [(prompt, 6 + 3 * index, 100 + index) for index, prompt in enumerate(PROMPTS)]
    alone = [list(decoder.generate(prompt, new, sampler(seed), stop=())) for prompt, new, seed in requests]
    batcher = ContinuousBatcher(decoder, slots=8)
    assert together(batcher, requests) == alone
    assert batcher.active == 0 and batcher.keys is None, "every slot is freed at the end"
    # a batch of 8 decodes in as many steps as its longest answer, not in the sum of them
    assert batcher.steps < sum(new for _, new, _ in requests) / 2


def test_a_request_arriving_mid_batch_joins_it_and_gets_its_own_tokens(decoder: llm.CachedDecoder) -> None:
    batcher = ContinuousBatcher(decoder, slots=4)
    first = batcher.generate(PROMPTS[0], 30, sampler(1), stop=())
    head = [next(first) for _ in range(5)]  # running alone
    late = list(batcher.generate(PROMPTS[2], 8, sampler(2), stop=()))  # joins the running batch
    rest = list(first)
    assert head + rest == list(decoder.generate(PROMPTS[0], 30, sampler(1), stop=()))
    assert late == list(decoder.generate(PROMPTS[2], 8, sampler(2), stop=()))


def test_a_closed_request_frees_its_slot_and_the_others_go_on(decoder: llm.CachedDecoder) -> None:
    batcher = ContinuousBatcher(decoder, slots=2)
    leaving = batcher.generate(PROMPTS[4], 50, make_picker(), stop=())
    staying = batcher.generate(PROMPTS[5], 20, make_picker(), stop=())
    next(leaving), next(staying)
    leaving.close()  # the client left
    tokens = list(staying)
    assert len(tokens) == 19
    assert batcher.active == 0


def test_a_stop_token_ends_a_sequence_without_being_yielded(decoder: llm.CachedDecoder) -> None:
    greedy = list(decoder.generate(PROMPTS[0], 10, make_picker(), stop=()))
    batcher = ContinuousBatcher(decoder)
    assert list(batcher.generate(PROMPTS[0], 10, make_picker(), stop=(greedy[3],))) == greedy[: greedy.index(greedy[3])]


def test_too_long_a_prompt_is_refused_in_the_callers_thread(decoder: llm.CachedDecoder) -> None:
    batcher = ContinuousBatcher(decoder)
    with pytest.raises(ValueError, match="too long"):
        next(batcher.generate([1] * (llm.PROMPT_BUCKETS[-1] + 1), 4, make_picker()))
    assert batcher.worker is None


def test_a_long_prompt_joins_short_ones_and_each_gets_its_own_tokens(decoder: llm.CachedDecoder) -> None:
    long_prompt = [int(token) for token in np.random.default_rng(4).integers(1, 50, size=1500)]  # bucket 2048
    requests = [(long_prompt, 5, 7), (PROMPTS[0], 12, 8), (PROMPTS[3], 9, 9)]
    alone = [list(decoder.generate(prompt, new, sampler(seed), stop=())) for prompt, new, seed in requests]
    batcher = ContinuousBatcher(decoder, slots=4)
    assert together(batcher, requests) == alone
    assert batcher.keys is None, "the cache is released when the last sequence ends"
