"""The LLM server's chat page (``GET /``) in headless Chromium: a question typed, its answer streamed in,
Stop pressed mid-answer (the server frees the slot at once), the conversation kept for the next question.

The server runs a scripted model (tests/test_llm_server.py) writing a token every 0.1 s, so that the
page can be stopped mid-answer at a known pace.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from helpers.serving.openai_app import LlmLimits
from tests.test_llm_server import ANSWER, NAME, ScriptedModel, ThreadServer

ANSWER_TEXT = ".assistant .text"


@pytest.fixture
def slow_server() -> Iterator[ThreadServer]:
    with ThreadServer(ScriptedModel(seconds_per_token=0.1, slots=2), LlmLimits(max_tokens=100)) as server:
        server.client().completions.create(model=NAME, prompt="Hi", max_tokens=1)  # imports the sampler's modules
        yield server


def running_requests(server: ThreadServer) -> float:
    metrics = httpx.get(f"{server.url}/metrics").text
    return float(re.search(r"^llm_running_requests (\S+)$", metrics, re.MULTILINE).group(1))


def ask(page: Any, question: str) -> None:
    page.fill("#question", question)
    page.click("#send")


def test_the_page_is_self_contained_html() -> None:
    from helpers.serving.chat_page import CHAT_PAGE

    assert CHAT_PAGE.startswith("<!doctype html>")
    assert not re.search(r"(src|href)=\"(https?:)?//", CHAT_PAGE), "no script, style or font from another host"
    assert "innerHTML" not in CHAT_PAGE, "the model's text is set as text, never parsed as HTML"


def test_a_question_streams_in_and_stop_frees_the_slot(browser_context: Any, slow_server: ThreadServer) -> None:
    page = browser_context.new_page()
    page.goto(f"{slow_server.url}/")
    page.wait_for_function("() => document.getElementById('model').value === " + repr(NAME))
    ask(page, "What is the capital of France?")
    page.wait_for_function(f"() => document.querySelector('{ANSWER_TEXT}')?.textContent.length >= 8", timeout=10_000)
    assert running_requests(slow_server) == 1, "the answer holds a slot while it streams"
    page.click("#stop")
    page.wait_for_selector(".assistant[data-state='stopped']", timeout=5_000)
    partial = page.text_content(ANSWER_TEXT)
    assert 8 <= len(partial) < len(ANSWER) and ANSWER.startswith(partial), partial
    deadline = time.monotonic() + 2
    while running_requests(slow_server) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running_requests(slow_server) == 0, "Stop should free the slot at once"
    assert slow_server.model.running == 0, "the server stopped generating"
    assert re.search(r"first token after \d+\.\d+ s, \d+\.\d tokens/s", page.text_content("#status"))

    ask(page, "And of Italy?")
    page.wait_for_selector(".assistant[data-state='stop']", timeout=15_000)
    answers = page.locator(ANSWER_TEXT).all_text_contents()
    assert answers == [partial, ANSWER], answers
    assert f"<assistant>{partial}<user>And of Italy?" in slow_server.model.prompts[-1], "the conversation is kept"
    page.close()


def test_an_error_from_the_server_is_shown(browser_context: Any, slow_server: ThreadServer) -> None:
    page = browser_context.new_page()
    page.goto(f"{slow_server.url}/")
    page.wait_for_function("() => document.getElementById('model').value === " + repr(NAME))
    ask(page, "x" * 300)  # longer than the scripted model reads
    page.wait_for_selector(".assistant[data-state='error']", timeout=5_000)
    assert "tokens long" in page.text_content("#status")
    page.close()
