"""The LLM server (OpenAI's API, helpers.serving.openai_app) over real HTTP, driven by the real ``openai`` client.

Most tests serve a scripted model (bytes as tokens, a fixed answer, optionally slow) in a uvicorn
thread, so that every rule is checked exactly and fast; the last ones start the real server
process on SmolLM2-135M-Instruct.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openai
import pytest
import uvicorn

from helpers.datasets.registry import smollm2_file
from helpers.processes.server import free_port, start_llm_server
from helpers.serving.openai_app import LlmLimits, create_openai_app
from helpers.serving.openai_protocol import ApiError, parse_chat, parse_completion, releasable_text

ANSWER = "The capital of France is Paris. Café ☕ au lait."
NAME = "scripted"


class ScriptedModel:
    """Bytes as tokens; always answers ``ANSWER`` (then ends its turn), ``seconds_per_token`` each."""

    name = NAME
    max_prompt_tokens = 200

    def __init__(self, seconds_per_token: float = 0.0, slots: int = 1, name: str = NAME) -> None:
        self.seconds_per_token, self.slots, self.name = seconds_per_token, slots, name
        self.prompts: list[str] = []
        self.running = self.most_running = 0  # generations under way at once
        self.lock = threading.Lock()

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def decode(self, ids: list[int]) -> str:
        return bytes(ids).decode("utf-8", errors="replace")

    def chat_prompt(self, messages: list[dict[str, str]]) -> str:
        return "".join(f"<{m['role']}>{m['content']}" for m in messages) + "<assistant>"

    def generate(self, prompt: list[int], max_new_tokens: int, pick: Callable[[np.ndarray], int]) -> Iterator[int]:
        self.prompts.append(self.decode(prompt))
        with self.lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            for token in list(ANSWER.encode("utf-8"))[:max_new_tokens]:
                time.sleep(self.seconds_per_token)
                yield token
        finally:
            with self.lock:
                self.running -= 1


class ThreadServer:
    """The app on a free port in a background thread (real HTTP, in this process)."""

    def __init__(self, model: ScriptedModel | list[ScriptedModel], limits: LlmLimits | None = None) -> None:
        self.model = model
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_openai_app(model, limits), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the test server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key="not-needed", max_retries=0, timeout=30)


@pytest.fixture(scope="module")
def scripted() -> Iterator[ThreadServer]:
    with ThreadServer(ScriptedModel(), LlmLimits(max_tokens=100, max_body_bytes=8192)) as server:
        yield server


def test_the_stop_rule_holds_back_what_could_become_a_stop_sequence() -> None:
    assert releasable_text("Hello wor", ["world"]) == ("Hello ", False), "'wor' may become 'world'"
    assert releasable_text("Hello world, again", ["world"]) == ("Hello ", True)
    assert releasable_text("a\nb", ["\n\n", "b"]) == ("a\n", True), "the first occurrence of any stop wins"
    assert releasable_text("Caf\ufffd", []) == ("Caf", False), "a character still incomplete is held back"
    assert releasable_text("no stops here", []) == ("no stops here", False)
    assert releasable_text("end.", ["x"]) == ("end.", False)


@pytest.mark.parametrize(
    ("payload", "param"),
    [
        ({"prompt": "Hi"}, "model"),
        ({"model": "gpt-4", "prompt": "Hi"}, "model"),
        ({"model": NAME}, "prompt"),
        ({"model": NAME, "prompt": ""}, "prompt"),
        ({"model": NAME, "prompt": [1, 2, 3]}, "prompt"),
        ({"model": NAME, "prompt": ["a", "b"]}, "prompt"),
        ({"model": NAME, "prompt": "Hi", "max_tokens": 101}, "max_tokens"),
        ({"model": NAME, "prompt": "Hi", "max_tokens": 0}, "max_tokens"),
        ({"model": NAME, "prompt": "Hi", "max_tokens": "10"}, "max_tokens"),
        ({"model": NAME, "prompt": "Hi", "max_tokens": True}, "max_tokens"),
        ({"model": NAME, "prompt": "Hi", "temperature": "hot"}, "temperature"),
        ({"model": NAME, "prompt": "Hi", "temperature": 2.5}, "temperature"),
        ({"model": NAME, "prompt": "Hi", "top_p": 0}, "top_p"),
        ({"model": NAME, "prompt": "Hi", "n": 2}, "n"),
        ({"model": NAME, "prompt": "Hi", "stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"model": NAME, "prompt": "Hi", "stop": [""]}, "stop"),
        ({"model": NAME, "prompt": "Hi", "stream": "yes"}, "stream"),
        ({"model": NAME, "prompt": "Hi", "stream_options": {"include_usage": True}}, "stream_options"),
        ({"model": NAME, "prompt": "Hi", "logprobs": 5}, "logprobs"),
        ({"model": NAME, "prompt": "Hi", "max_token": 5}, "max_token"),
        ({"model": NAME, "prompt": "Hi", "seed": 1.5}, "seed"),
    ],
)
def test_every_bad_completion_request_names_its_fault(payload: dict[str, Any], param: str) -> None:
    with pytest.raises(ApiError) as refused:
        parse_completion(payload, NAME, max_tokens=100)
    assert refused.value.param == param, refused.value.message
    assert 400 <= refused.value.status < 500


@pytest.mark.parametrize(
    ("messages", "fault"),
    [
        (None, "messages"),
        ([], "messages"),
        (["Hi"], "messages[0]"),
        ([{"role": "robot", "content": "Hi"}], "messages[0]"),
        ([{"role": "user"}], "messages[0]"),
        ([{"role": "user", "content": "Hi"}, {"role": "user", "content": 3}], "messages[1]"),
        ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}], "messages[0]"),
    ],
)
def test_every_bad_chat_request_names_its_fault(messages: Any, fault: str) -> None:
    with pytest.raises(ApiError) as refused:
        parse_chat({"model": NAME, "messages": messages}, NAME, max_tokens=100)
    assert refused.value.param == fault and refused.value.status == 400, refused.value.message


def test_chat_content_may_come_in_text_parts() -> None:
    parts = [{"type": "text", "text": "Hello, "}, {"type": "text", "text": "there"}]
    parsed = parse_chat({"model": NAME, "messages": [{"role": "user", "content": parts}]}, NAME, max_tokens=100)
    assert parsed.messages == ({"role": "user", "content": "Hello, there"},)
    assert parsed.max_tokens == 100, "chat answers may use the server's whole budget by default"


def test_completions_whole_and_streamed_through_the_openai_client(scripted: ThreadServer) -> None:
    client = scripted.client()
    whole = client.completions.create(model=NAME, prompt="Q: capital of France?\nA:", max_tokens=100)
    assert whole.choices[0].text == ANSWER and whole.choices[0].finish_reason == "stop"
    assert whole.usage.prompt_tokens == len(b"Q: capital of France?\nA:")
    assert whole.usage.completion_tokens == len(ANSWER.encode())
    short = client.completions.create(model=NAME, prompt="Q:", max_tokens=10, temperature=0.7)
    assert short.choices[0].text == ANSWER[:10] and short.choices[0].finish_reason == "length"
    assert client.completions.create(model=NAME, prompt="Q:").usage.completion_tokens == 16, "OpenAI's default"
    pieces = [
        chunk.choices[0].text
        for chunk in client.completions.create(model=NAME, prompt="Q:", max_tokens=100, stream=True)
    ]
    assert "".join(pieces) == ANSWER and len(pieces) > 10, "streamed piece by piece, the same text"
    assert not any("\ufffd" in piece for piece in pieces), "no half characters sent"


def test_chat_streaming_with_usage_and_stop_sequences(scripted: ThreadServer) -> None:
    client = scripted.client()
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}]
    chunks = list(
        client.chat.completions.create(
            model=NAME, messages=messages, stream=True, stream_options={"include_usage": True}, stop=["Paris"]
        )
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == "The capital of France is ", "the answer ends before the stop sequence, which is not sent"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens >= len(b"The capital of France is P")
    whole = client.chat.completions.create(model=NAME, messages=messages, max_tokens=100)
    assert whole.choices[0].message.content == ANSWER and whole.choices[0].message.role == "assistant"
    assert client.models.list().data[0].id == NAME


def test_the_openai_client_sees_openai_shaped_errors(scripted: ThreadServer) -> None:
    client = scripted.client()
    with pytest.raises(openai.BadRequestError) as too_many:
        client.completions.create(model=NAME, prompt="Hi", max_tokens=1000)
    assert too_many.value.body["param"] == "max_tokens" and "between 1 and 100" in too_many.value.body["message"]
    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    assert unknown.value.body["code"] == "model_not_found" and NAME in unknown.value.body["message"]
    with pytest.raises(openai.BadRequestError) as long_prompt:
        client.completions.create(model=NAME, prompt="x" * 300)
    assert long_prompt.value.body["code"] == "context_length_exceeded"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 400),
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (b'"a string"', 400),
        (b"[" * 2000 + b"]" * 2000, 400),
        (b'{"model": "scripted", "prompt": "' + b"x" * 9000 + b'"}', 413),
        (b"\xff\xfe\x00garbage", 400),
        (json.dumps({"model": NAME, "prompt": "Hi", "temperature": float("nan")}).encode(), 400),
        (b'{"model": "scripted", "prompt": "Hi", "max_tokens": 1' + b"0" * 5000 + b"}", 400),  # too long to read
        (b'{"model": "scripted", "prompt": "Hi", "seed": 1' + b"0" * 4000 + b"}", 400),  # read, but out of range
        (b'{"model": "scripted", "prompt": "Hi", "max_tokens": 1e999}', 400),  # infinity
        (b'{"model": "scripted", "messages": [{"role": "user", "content": "\\ud800"}]}', 400),  # a lone surrogate
        (b'{"model": "scripted", "prompt": "\\udc00 and more"}', 400),
        (b'{"model": "\\ud83d", "prompt": "Hi"}', 400),
        (b'{"model": "scripted", "prompt": "Hi", "stop": ["\\ud800"]}', 400),
    ],
)
def test_hostile_bodies_get_a_json_4xx_and_the_server_goes_on(scripted: ThreadServer, body: bytes, status: int) -> None:
    answer = httpx.post(f"{scripted.url}/v1/completions", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["message"] and error["type"] == "invalid_request_error"
    assert httpx.get(f"{scripted.url}/healthz").status_code == 200


def test_unknown_routes_and_methods_answer_in_the_same_shape(scripted: ThreadServer) -> None:
    assert httpx.get(f"{scripted.url}/v1/completions").status_code == 405
    missing = httpx.post(f"{scripted.url}/v1/engines/davinci/completions", json={})
    assert missing.status_code == 404 and "/v1/chat/completions" in missing.json()["error"]["message"]
    assert httpx.get(f"{scripted.url}/v1/models/{NAME}").json()["id"] == NAME
    assert httpx.get(f"{scripted.url}/v1/models/text-davinci-002").status_code == 404


def test_metrics_count_tokens_and_requests(scripted: ThreadServer) -> None:
    def counter(name: str) -> float:
        text = httpx.get(f"{scripted.url}/metrics").text
        return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " "))

    before = counter("llm_completion_tokens_total")
    scripted.client().completions.create(model=NAME, prompt="Hi", max_tokens=7)
    assert counter("llm_completion_tokens_total") == before + 7
    assert counter("llm_time_to_first_token_seconds_count") >= 1


def one_then_more(server: ThreadServer, body: dict[str, Any], more: int) -> list[httpx.Response]:
    """POST ``body`` once and, as soon as the model is generating its answer, ``more`` times together."""

    async def send() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            first = asyncio.create_task(client.post("/v1/completions", json=body))
            while not server.model.prompts:  # the first request has the model
                await asyncio.sleep(0.005)
            others = [asyncio.create_task(client.post("/v1/completions", json=body)) for _ in range(more)]
            return [await first, *[await task for task in others]]

    return asyncio.run(send())


def test_requests_queue_for_the_one_model_and_a_full_queue_is_refused() -> None:
    limits = LlmLimits(max_tokens=100, max_waiting=1, time_limit_s=30)
    with ThreadServer(ScriptedModel(seconds_per_token=0.05), limits) as server:
        answers = one_then_more(server, {"model": NAME, "prompt": "Hi", "max_tokens": 20}, more=3)
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [200, 200, 429, 429], f"one running, one waiting, the rest refused: {codes}"
    refused = next(a for a in answers if a.status_code == 429).json()["error"]
    assert refused["code"] == "queue_full" and "retry" in refused["message"]
    assert all(a.json()["choices"][0]["text"] == ANSWER[:20] for a in answers if a.status_code == 200)


def test_sixteen_clients_at_once_share_the_slots_and_none_is_refused() -> None:
    model = ScriptedModel(seconds_per_token=0.01, slots=8)
    with ThreadServer(model, LlmLimits(max_tokens=100, max_waiting=8, time_limit_s=30)) as server:
        answers = one_then_more(server, {"model": NAME, "prompt": "Hi", "max_tokens": 20}, more=15)
    assert [answer.status_code for answer in answers] == [200] * 16, [a.text for a in answers if a.status_code != 200]
    assert all(answer.json()["choices"][0]["text"] == ANSWER[:20] for answer in answers)
    assert model.most_running == 8, "eight generations at once, the other eight waiting for a slot"


def test_a_base_model_and_an_adapted_one_are_served_side_by_side(tmp_path: Path, capsys, server_command_line) -> None:
    base, adapted = ScriptedModel(), ScriptedModel(name="scripted-lora")
    with ThreadServer([base, adapted]) as server:
        client = server.client()
        assert [card.id for card in client.models.list().data] == [NAME, "scripted-lora"]
        client.completions.create(model="scripted-lora", prompt="to the adapter", max_tokens=2)
        client.completions.create(model=NAME, prompt="to the base", max_tokens=2)
        with pytest.raises(openai.NotFoundError, match="'scripted', 'scripted-lora'"):
            client.completions.create(model="scripted-lora-2", prompt="Hi")
    assert (base.prompts, adapted.prompts) == (["to the base"], ["to the adapter"])

    from helpers.serving import cli

    (tmp_path / "bad.npz").write_text("not an adapter")
    arguments = ["--llm", f"m={tmp_path / 'missing.gguf'}", "--lora", f"m-tuned={tmp_path / 'bad.npz'}"]
    assert cli.main(arguments) == 1
    assert "cannot serve m-tuned" in capsys.readouterr().err, "the bad adapter is reported before the model loads"


def test_the_time_limit_stops_a_generation_and_refuses_a_request_left_waiting() -> None:
    limits = LlmLimits(max_tokens=100, max_waiting=4, time_limit_s=0.3)
    with ThreadServer(ScriptedModel(seconds_per_token=0.5), limits) as server:
        # the first request's first token takes longer than its whole time: it ends after that token,
        # 0.5 s after it began, while the second, sent meanwhile, has waited past its own 0.3 s
        cut, waited = one_then_more(server, {"model": NAME, "prompt": "Hi", "max_tokens": 100}, more=1)
        metrics = httpx.get(f"{server.url}/metrics").text
    choice = cut.json()["choices"][0]
    assert choice["finish_reason"] == "length" and choice["text"] == ANSWER[:1], choice
    assert waited.status_code == 503 and waited.json()["error"]["code"] == "timeout", waited.text
    assert "llm_time_limited_requests_total 1.0" in metrics


def test_a_client_that_leaves_mid_stream_frees_the_model() -> None:
    model = ScriptedModel(seconds_per_token=0.02)
    with ThreadServer(model, LlmLimits(max_tokens=100, max_waiting=1, time_limit_s=20)) as server:
        body = {"model": NAME, "prompt": "Hi", "max_tokens": 100, "stream": True}
        with httpx.stream("POST", f"{server.url}/v1/completions", json=body) as events:
            next(events.iter_lines())  # the first event, then hang up
        started = time.monotonic()
        answer = httpx.post(f"{server.url}/v1/completions", json={**body, "stream": False, "max_tokens": 3}, timeout=20)
    assert answer.status_code == 200 and answer.json()["choices"][0]["text"] == ANSWER[:3]
    assert time.monotonic() - started < 2, "the abandoned generation should stop, not run to its end"


def test_the_command_line_serves_one_kind_and_reports_a_missing_model_file(
    tmp_path, capsys, server_command_line
) -> None:
    from helpers.serving import cli

    arguments = cli.build_parser().parse_args(["--llm", "tiny=model.gguf", "--max-tokens", "32"])
    assert arguments.llm == ("tiny", Path("model.gguf")) and arguments.max_tokens == 32 and arguments.model is None
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["--llm", "a=b.gguf", "--model", "mnist=models/mnist"])
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["--llm", "a=b.gguf", "--time-limit-s", "0"])
    assert cli.main(["--llm", f"tiny={tmp_path / 'missing.gguf'}"]) == 1
    assert "prefetch smollm2_135m_instruct_q4_1" in capsys.readouterr().err, "the error says how to get the file"


@pytest.fixture(scope="module")
def smollm() -> Iterator[openai.OpenAI]:
    model_file = smollm2_file()
    with start_llm_server("SmolLM2-135M-Instruct", model_file, timeout_s=300) as server:
        yield openai.OpenAI(base_url=f"{server.url}/v1", api_key="not-needed", max_retries=0, timeout=120)


def test_the_real_model_answers_through_the_openai_client(smollm: openai.OpenAI) -> None:
    question = [{"role": "user", "content": "What is the capital of France?"}]
    whole = smollm.chat.completions.create(
        model="SmolLM2-135M-Instruct", messages=question, temperature=0, max_tokens=24
    )
    assert "Paris" in whole.choices[0].message.content, whole
    stream = smollm.chat.completions.create(
        model="SmolLM2-135M-Instruct", messages=question, temperature=0, max_tokens=24, stream=True
    )
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert streamed == whole.choices[0].message.content, "streamed and whole greedy answers should be identical"


def test_the_articles_completion_call_runs_on_the_current_client(smollm: openai.OpenAI) -> None:
    prompt = "The following is a conversation with an AI assistant.\nHuman: Hello, who are you?\nAI:"
    answer = smollm.completions.create(
        model="SmolLM2-135M-Instruct", prompt=prompt, max_tokens=12, temperature=0.7, seed=1
    )
    again = smollm.completions.create(
        model="SmolLM2-135M-Instruct", prompt=prompt, max_tokens=12, temperature=0.7, seed=1
    )
    assert answer.choices[0].text.strip() and answer.usage.completion_tokens <= 12
    assert again.choices[0].text == answer.choices[0].text, "the same seed samples the same answer"


def test_a_seed_gives_the_same_text_alone_and_in_a_batch_of_eight(smollm: openai.OpenAI) -> None:
    def ask(seed: int) -> str:
        return (
            smollm.chat.completions.create(
                model="SmolLM2-135M-Instruct",
                messages=[{"role": "user", "content": f"Tell me a fact about the number {seed}."}],
                temperature=0.8,
                max_tokens=16,
                seed=seed,
            )
            .choices[0]
            .message.content
        )

    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(ask, range(8)))
    alone = [ask(seed) for seed in range(8)]
    assert together == alone
    assert len(set(alone)) > 4, "different seeds and questions, different answers"
