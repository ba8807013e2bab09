"""The course's LLM server: OpenAI's completions API in front of a local language model.

Routes:

* ``POST /v1/completions`` and ``POST /v1/chat/completions`` (see :mod:`helpers.serving.openai_protocol`),
  answered whole or, with ``"stream": true``, as server-sent events ending with ``data: [DONE]``;
* ``GET /v1/models`` and ``/v1/models/ID``: the served models;
* ``GET /``: a chat page (:mod:`helpers.serving.chat_page`) that streams its answers from the chat route;
* ``GET /healthz``, ``/readyz`` and ``/metrics`` (requests, tokens, time to first token, running and
  waiting requests).

One model (or a base model and its LoRA-adapted versions, each under its own name, ``--lora``), each
running up to ``slots`` generations at a time, decoded together (continuous batching,
:mod:`helpers.serving.batching`): further requests wait for a free slot in a queue of at most
``LlmLimits.max_waiting`` (one more is refused with a 429). Each request has ``time_limit_s`` from
its arrival: a request still waiting then gets a 503, a generation still running then stops with
``finish_reason: "length"`` (as at ``max_tokens``) and is counted in
``llm_time_limited_requests_total``. Every refused request gets OpenAI's error shape.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
import numpy as np
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, StreamingResponse
from starlette.exceptions import HTTPException

from helpers.serving.app import (
    HEALTH_PATH,
    METRICS_PATH,
    READY_PATH,
    Metrics,
    ObserveRequests,
    json_response,
    read_body,
    routing_error_message,
)
from helpers.serving.chat_page import CHAT_PAGE
from helpers.serving.openai_protocol import (
    REQUEST_EXAMPLE,
    ApiError,
    GenerationRequest,
    chat_body,
    chat_chunk,
    completion_body,
    envelope,
    new_id,
    parse_chat,
    parse_completion,
    releasable_text,
    server_sent_event,
)
from helpers.serving.protocol import RequestError, decode_json

FIRST_TOKEN_BUCKETS_S = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


class TextGenerator(Protocol):
    """What the server needs of a language model (:class:`helpers.serving.llm_engine.GgufChatModel` is one)."""

    name: str
    max_prompt_tokens: int
    slots: int  # generations that may run at once

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: list[int]) -> str: ...

    def chat_prompt(self, messages: list[dict[str, str]]) -> str: ...

    def generate(
        self, prompt: list[int], max_new_tokens: int, pick: Callable[[np.ndarray], int]
    ) -> Generator[int, None, None]:
        """New token ids one by one, until the end of the model's turn or ``max_new_tokens``; closing
        the generator stops the generation."""
        ...


@dataclass(frozen=True)
class LlmLimits:
    """What the LLM server accepts: request bodies, new tokens, waiting requests, seconds per request."""

    max_body_bytes: int = 1024 * 1024
    max_tokens: int = 256
    max_waiting: int = 8
    time_limit_s: float = 60.0

    def __post_init__(self) -> None:
        if min(self.max_body_bytes, self.max_tokens, self.max_waiting) < 1 or self.time_limit_s <= 0:
            raise ValueError(f"limits must be positive, got {self}")


class LlmMetrics(Metrics):
    """The model server's request metrics, and the LLM's: tokens, time to first token, queue."""

    def __init__(self) -> None:
        super().__init__()
        from prometheus_client import Counter, Gauge, Histogram

        self.prompt_tokens = Counter("llm_prompt_tokens_total", "Prompt tokens read", registry=self.registry)
        self.completion_tokens = Counter("llm_completion_tokens_total", "Tokens generated", registry=self.registry)
        self.first_token = Histogram(
            "llm_time_to_first_token_seconds",
            "From a request's arrival to its first generated token",
            buckets=FIRST_TOKEN_BUCKETS_S,
            registry=self.registry,
        )
        self.waiting = Gauge("llm_waiting_requests", "Requests waiting for the model", registry=self.registry)
        self.running = Gauge("llm_running_requests", "Generations running (slots in use)", registry=self.registry)
        self.time_limited = Counter(
            "llm_time_limited_requests_total", "Generations stopped by the time limit", registry=self.registry
        )


def sampler(request: GenerationRequest) -> Callable[[np.ndarray], int]:
    """Greedy at temperature 0; otherwise a sample at ``temperature`` from the ``top_p`` nucleus (08's rule)."""
    from helpers.lessons.gpt import make_picker

    if request.temperature == 0:
        return make_picker()
    rng = np.random.default_rng(None if request.seed is None else request.seed % 2**63)
    return make_picker(rng, temperature=request.temperature, top_p=None if request.top_p >= 1 else request.top_p)


class Generation:
    """One request's generation: new text pieces as the stop rule releases them, and how it ended."""

    def __init__(self, generator: TextGenerator, request: GenerationRequest, deadline: float) -> None:
        self.generator, self.request, self.deadline = generator, request, deadline
        prompt = request.prompt if request.messages is None else generator.chat_prompt(list(request.messages))
        self.prompt_ids = generator.encode(prompt)
        if len(self.prompt_ids) > generator.max_prompt_tokens:
            raise ApiError(
                400,
                f"the prompt is {len(self.prompt_ids)} tokens long; this model reads at most "
                f"{generator.max_prompt_tokens}: shorten it (or the conversation)",
                param="messages" if request.messages is not None else "prompt",
                code="context_length_exceeded",
            )
        self.ids: list[int] = []
        self.sent = ""
        self.finish_reason: str | None = None
        self.time_limited = False
        self.first_token_at: float | None = None  # time.monotonic() when the first token was ready
        self._tokens: Generator[int, None, None] = generator.generate(
            self.prompt_ids, request.max_tokens, sampler(request)
        )

    def next_piece(self) -> str | None:
        """Generate one token (blocking: call it in a worker thread); the text it releases, ``None`` at the end."""
        if self.finish_reason is not None:
            return None
        token = next(self._tokens, None)
        if token is not None:
            self.ids.append(token)
            self.first_token_at = self.first_token_at or time.monotonic()
        text, stopped = releasable_text(self.generator.decode(self.ids), self.request.stop)
        if token is None or stopped:
            self.finish_reason = "stop" if stopped or len(self.ids) < self.request.max_tokens else "length"
        elif time.monotonic() > self.deadline:
            self.finish_reason, self.time_limited = "length", True
        if self.finish_reason is not None:
            self.close()
            if not stopped:
                text = self.generator.decode(self.ids)  # the end: nothing more is held back
        piece, self.sent = text[len(self.sent) :], text
        return piece

    def close(self) -> None:
        """Stop generating (the model's slot is freed), whether the answer ended or its client left."""
        self._tokens.close()


class ModelTurn:
    """A slot of the model (the right to generate), given back exactly once (by whichever of its holders
    ends first); ``running`` counts the slots in use."""

    def __init__(self, turns: anyio.Semaphore, running: Any) -> None:
        self.turns, self.running, self.held = turns, running, True
        running.inc()

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self.running.dec()
            self.turns.release()


class StreamingWhileHeld(StreamingResponse):
    """A streamed answer that gives the model back when it ends, however it ends (a client gone included)."""

    def __init__(self, content: AsyncIterator[bytes], turn: ModelTurn, on_end: Callable[[], None]) -> None:
        super().__init__(content, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        self.turn, self.on_end = turn, on_end

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.turn.give_back()
            self.on_end()


def create_openai_app(generators: TextGenerator | Sequence[TextGenerator], limits: LlmLimits | None = None) -> FastAPI:
    """The LLM server's FastAPI application for loaded ``generators`` (one, or several under different
    names: a base model and its LoRA-adapted versions), each with its own slots; one queue for all."""
    served = {generator.name: generator for generator in ([generators] if hasattr(generators, "name") else generators)}
    limits = limits or LlmLimits()
    metrics = LlmMetrics()
    turns = {name: anyio.Semaphore(generator.slots) for name, generator in served.items()}  # generations at once
    state = {"waiting": 0, "shutting_down": False, "created": int(time.time())}
    model_cards = {
        name: {"id": name, "object": "model", "created": state["created"], "owned_by": "course"} for name in served
    }

    app = FastAPI(title="Course LLM server", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.metrics = metrics

    def refuse(request: Request, error: ApiError) -> Response:
        request.state.log = {**getattr(request.state, "log", {}), "error": error.message}
        return json_response(error.body(), error.status)

    @app.exception_handler(ApiError)
    async def refused(request: Request, error: ApiError) -> Response:
        return refuse(request, error)

    @app.exception_handler(RequestError)
    async def bad_body(request: Request, error: RequestError) -> Response:
        return refuse(request, ApiError(error.status, error.message))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        routes = "POST /v1/completions, POST /v1/chat/completions, GET /v1/models, GET / (a chat page)"
        return refuse(request, ApiError(error.status_code, routing_error_message(request, error, routes)))

    @app.exception_handler(Exception)
    async def crashed(request: Request, error: Exception) -> Response:
        request.state.log = {"error": f"{type(error).__name__}: {error}"}
        message = f"internal error ({type(error).__name__}); the server log has the details"
        return json_response(ApiError(500, message).body(), 500)

    @app.get("/")
    async def chat_page() -> Response:
        return HTMLResponse(CHAT_PAGE)

    @app.get(HEALTH_PATH)
    async def health() -> Response:
        return json_response({"status": "alive"})

    @app.get(READY_PATH)
    async def ready() -> Response:
        return json_response({"status": "ready", "models": list(served)})

    @app.get(METRICS_PATH)
    async def prometheus_metrics() -> Response:
        content, media_type = metrics.exposition()
        return Response(content, media_type=media_type)

    @app.get("/v1/models")
    async def list_models() -> Response:
        return json_response({"object": "list", "data": list(model_cards.values())})

    @app.get("/v1/models/{model_id:path}")
    async def get_model(model_id: str) -> Response:
        if model_id not in served:
            raise ApiError(
                404,
                f"the model '{model_id}' does not exist; this server serves {', '.join(map(repr, served))}",
                param="model",
                code="model_not_found",
            )
        return json_response(model_cards[model_id])

    async def wait_for_model(name: str, deadline: float) -> ModelTurn:
        """A slot of model ``name``: at once if one is free, else after waiting in the queue; 429 if the queue
        is full, 503 at the time limit."""
        slots = turns[name]
        try:
            slots.acquire_nowait()  # no await: a free slot is taken before any other request runs
            return ModelTurn(slots, metrics.running)
        except anyio.WouldBlock:
            pass
        if state["waiting"] >= limits.max_waiting:
            raise ApiError(
                429,
                f"the server is busy: {state['waiting']} requests are already waiting for the model; retry later",
                code="queue_full",
                kind="rate_limit_error",
            )
        state["waiting"] += 1
        metrics.waiting.set(state["waiting"])
        try:
            with anyio.move_on_after(max(deadline - time.monotonic(), 0)):
                await slots.acquire()
                return ModelTurn(slots, metrics.running)
            raise ApiError(
                503,
                f"the request waited {limits.time_limit_s:g} s (the time limit) for the model; retry later",
                code="timeout",
            )
        finally:
            state["waiting"] -= 1
            metrics.waiting.set(state["waiting"])

    async def run(request: Request, chat: bool) -> Response:
        arrived = time.monotonic()
        deadline = arrived + limits.time_limit_s
        payload = decode_json(await read_body(request, limits.max_body_bytes), REQUEST_EXAMPLE)
        checked = (parse_chat if chat else parse_completion)(payload, list(served), limits.max_tokens)
        request.state.log = {"model": checked.model, "stream": checked.stream, "max_tokens": checked.max_tokens}
        generation = await anyio.to_thread.run_sync(Generation, served[checked.model], checked, deadline)
        request_id, model = new_id("chatcmpl" if chat else "cmpl"), checked.model

        def account() -> None:
            generation.close()
            metrics.prompt_tokens.inc(len(generation.prompt_ids))
            metrics.completion_tokens.inc(len(generation.ids))
            metrics.time_limited.inc(generation.time_limited)
            if generation.first_token_at is not None:
                metrics.first_token.observe(generation.first_token_at - arrived)
            request.state.log.update(
                prompt_tokens=len(generation.prompt_ids),
                completion_tokens=len(generation.ids),
                finish_reason=generation.finish_reason,
            )

        async def pieces() -> AsyncIterator[str]:
            """The text pieces (one per token, some empty: held back), each made in a worker thread."""
            while (piece := await anyio.to_thread.run_sync(generation.next_piece)) is not None:
                yield piece

        turn = await wait_for_model(checked.model, deadline)
        if not checked.stream:
            try:
                text = "".join([piece async for piece in pieces()])
            finally:
                turn.give_back()
                account()
            counts = (len(generation.prompt_ids), len(generation.ids))
            build = chat_body if chat else completion_body
            return json_response(build(request_id, model, text, generation.finish_reason, counts=counts))

        async def events() -> AsyncIterator[bytes]:
            if chat:
                yield server_sent_event(chat_chunk(request_id, model, {"role": "assistant", "content": ""}, None))
            try:
                async for piece in pieces():
                    if piece and chat:
                        yield server_sent_event(chat_chunk(request_id, model, {"content": piece}, None))
                    elif piece:
                        yield server_sent_event(completion_body(request_id, model, piece, None))
            except Exception as error:  # the answer has begun: the error goes in the stream
                request.state.log["error"] = f"{type(error).__name__}: {error}"
                message = f"internal error ({type(error).__name__}) while generating; the server log has the details"
                yield server_sent_event(ApiError(500, message).body())
                return
            finish = generation.finish_reason
            if chat:
                yield server_sent_event(chat_chunk(request_id, model, {}, finish))
            else:
                yield server_sent_event(completion_body(request_id, model, "", finish))
            if checked.include_usage:  # a last chunk with no choices: the usage
                counts = (len(generation.prompt_ids), len(generation.ids))
                kind = "chat.completion.chunk" if chat else "text_completion"
                yield server_sent_event(envelope(request_id, kind, model, [], counts))
            yield server_sent_event("[DONE]")

        try:
            return StreamingWhileHeld(events(), turn, account)
        except BaseException:
            turn.give_back()
            raise

    @app.post("/v1/completions")
    async def completions(request: Request) -> Response:
        return await run(request, chat=False)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        return await run(request, chat=True)

    app.add_middleware(ObserveRequests, metrics=metrics)
    return app
