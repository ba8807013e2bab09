"""OpenAI's completions and chat completions API, as far as the course's LLM server speaks it.

Requests (JSON objects; every field OpenAI's API would accept but this server does not implement
is refused by name rather than silently ignored):

* ``POST /v1/completions``: ``model``, ``prompt`` (a string, or a list holding one string) and the
  shared settings below; the text is continued as it is, with no chat template;
* ``POST /v1/chat/completions``: ``model``, ``messages`` (``[{"role": "system" | "user" |
  "assistant", "content": "..."}]``, content a string or a list of ``{"type": "text", "text": ...}``
  parts) and the shared settings; the conversation is put in the model's chat template;
* shared settings: ``max_tokens`` (``max_completion_tokens`` in chat), ``temperature`` (0 to 2,
  0 greedy, default 1), ``top_p`` (above 0, at most 1), ``stop`` (a string or up to 4), ``seed``,
  ``stream``, ``stream_options.include_usage``, ``n`` (1 only), ``user`` (ignored).

Everything a client can get wrong raises :class:`ApiError` (a 4xx status and OpenAI's error shape:
``{"error": {"message", "type", "param", "code"}}``); the answers and the server-sent-event chunks
are built by the ``*_body`` and ``*_chunk`` functions.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_STOP_SEQUENCES = 4
MAX_STOP_LENGTH = 64  # characters in one stop sequence
CHAT_ROLES = ("system", "user", "assistant")
SETTINGS = ("model", "max_tokens", "temperature", "top_p", "stop", "seed", "stream", "stream_options", "n", "user")
COMPLETION_FIELDS = (*SETTINGS, "prompt")
CHAT_FIELDS = (*SETTINGS, "messages", "max_completion_tokens")
# OpenAI parameters this server does not implement: refused unless sent with their default value.
UNSUPPORTED_DEFAULTS: dict[str, Any] = {
    "echo": False,
    "logprobs": None,
    "top_logprobs": None,
    "best_of": 1,
    "suffix": None,
    "frequency_penalty": 0,
    "presence_penalty": 0,
    "logit_bias": None,
    "tools": None,
    "tool_choice": None,
    "response_format": None,
}


class ApiError(Exception):
    """A refused request: HTTP ``status``, a message for the client, the ``param`` at fault and a ``code``."""

    def __init__(
        self, status: int, message: str, *, param: str | None = None, code: str | None = None, kind: str | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code
        self.kind = kind or ("invalid_request_error" if status < 500 else "server_error")

    def body(self) -> dict[str, Any]:
        """OpenAI's error shape."""
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


@dataclass(frozen=True)
class GenerationRequest:
    """A checked request: the prompt (text, or chat messages) and how to continue it."""

    model: str
    prompt: str | None  # /v1/completions
    messages: tuple[dict[str, str], ...] | None  # /v1/chat/completions
    max_tokens: int
    temperature: float
    top_p: float
    stop: tuple[str, ...]
    seed: int | None
    stream: bool
    include_usage: bool


REQUEST_EXAMPLE = '{"model": "...", "prompt": "Once upon a time", "max_tokens": 20}'


def _whole_number(payload: Mapping[str, Any], name: str, default: int | None, low: int, high: int) -> int | None:
    value = payload.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"'{name}' must be a whole number, got {value!r}", param=name)
    if not low <= value <= high:
        raise ApiError(400, f"'{name}' must be between {low} and {high} on this server, got {value}", param=name)
    return value


def _number(payload: Mapping[str, Any], name: str, default: float, low: float, high: float, low_open: bool) -> float:
    value = payload.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ApiError(400, f"'{name}' must be a number, got {value!r}", param=name)
    if (value <= low if low_open else value < low) or value > high:
        interval = f"{'above' if low_open else 'at least'} {low:g} and at most {high:g}"
        raise ApiError(400, f"'{name}' must be {interval}, got {value}", param=name)
    return float(value)


def _stop_sequences(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    stops = [value] if isinstance(value, str) else value
    if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
        raise ApiError(400, f"'stop' must be a non-empty string or a list of them, got {value!r}", param="stop")
    if len(stops) > MAX_STOP_SEQUENCES or any(len(s) > MAX_STOP_LENGTH for s in stops):
        raise ApiError(
            400,
            f"'stop' takes at most {MAX_STOP_SEQUENCES} sequences of at most {MAX_STOP_LENGTH} characters",
            param="stop",
        )
    return tuple(stops)


def _check_fields(payload: Mapping[str, Any], known: Sequence[str]) -> None:
    for name, value in payload.items():
        if name in UNSUPPORTED_DEFAULTS:
            if value != UNSUPPORTED_DEFAULTS[name]:
                raise ApiError(400, f"'{name}' is not supported by this server; leave it out", param=name)
        elif name not in known:
            raise ApiError(
                400,
                f"unrecognized request argument supplied: '{name}'; this endpoint takes {sorted(known)}",
                param=name,
            )


def _settings(
    payload: Mapping[str, Any],
    served_models: Sequence[str],
    max_tokens_name: str,
    default_max_tokens: int,
    max_tokens: int,
) -> dict[str, Any]:
    model = payload.get("model")
    served = ", ".join(f"'{name}'" for name in served_models)
    if not isinstance(model, str) or not model:
        raise ApiError(400, f"'model' is required: a string, one of the served models {served}", param="model")
    if model not in served_models:
        raise ApiError(
            404,
            f"the model '{model}' does not exist on this server; it serves {served} (GET /v1/models)",
            param="model",
            code="model_not_found",
        )
    if _whole_number(payload, "n", 1, 1, 1) != 1:
        raise ApiError(400, "'n' must be 1: this server writes one answer per request", param="n")
    stream = payload.get("stream", False)
    if not isinstance(stream, bool):
        raise ApiError(400, f"'stream' must be true or false, got {stream!r}", param="stream")
    options = payload.get("stream_options") or {}
    if not isinstance(options, dict) or set(options) - {"include_usage"}:
        raise ApiError(400, "'stream_options' may only hold 'include_usage'", param="stream_options")
    if options and not stream:
        raise ApiError(400, "'stream_options' is only allowed with 'stream': true", param="stream_options")
    if not isinstance(payload.get("user", ""), str):
        raise ApiError(400, "'user' must be a string", param="user")
    return {
        "model": model,
        "max_tokens": _whole_number(payload, max_tokens_name, default_max_tokens, 1, max_tokens),
        "temperature": _number(payload, "temperature", 1.0, 0.0, 2.0, low_open=False),
        "top_p": _number(payload, "top_p", 1.0, 0.0, 1.0, low_open=True),
        "stop": _stop_sequences(payload.get("stop")),
        "seed": _whole_number(payload, "seed", None, -(2**63), 2**63 - 1),
        "stream": stream,
        "include_usage": bool(options.get("include_usage", False)),
    }


def parse_completion(payload: Mapping[str, Any], served_models: Sequence[str], max_tokens: int) -> GenerationRequest:
    """A ``/v1/completions`` request, checked (OpenAI's default of 16 new tokens)."""
    _check_fields(payload, COMPLETION_FIELDS)
    prompt = payload.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        raise ApiError(400, "send one prompt per request (a string), not a list of several", param="prompt")
    if not isinstance(prompt, str) or not prompt:
        raise ApiError(400, f"'prompt' must be a non-empty string, got {prompt!r:.80}", param="prompt")
    settings = _settings(payload, served_models, "max_tokens", min(16, max_tokens), max_tokens)
    return GenerationRequest(prompt=prompt, messages=None, **settings)


def _message(index: int, message: Any) -> dict[str, str]:
    where = f"messages[{index}]"
    if not isinstance(message, dict) or "role" not in message or "content" not in message:
        raise ApiError(400, f"{where} must be an object with 'role' and 'content'", param=where)
    if message["role"] not in CHAT_ROLES:
        raise ApiError(400, f"{where}.role must be one of {list(CHAT_ROLES)}, got {message['role']!r}", param=where)
    if set(message) - {"role", "content", "name"}:
        raise ApiError(
            400,
            f"{where} has fields this server does not use: {sorted(set(message) - {'role', 'content', 'name'})}",
            param=where,
        )
    content = message["content"]
    if isinstance(content, list):
        if not all(isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str) for p in content):
            raise ApiError(
                400,
                f"{where}.content parts must be {{'type': 'text', 'text': '...'}}: this model reads text only",
                param=where,
            )
        content = "".join(part["text"] for part in content)
    if not isinstance(content, str):
        raise ApiError(400, f"{where}.content must be a string, got {content!r:.80}", param=where)
    return {"role": message["role"], "content": content}


def parse_chat(payload: Mapping[str, Any], served_models: Sequence[str], max_tokens: int) -> GenerationRequest:
    """A ``/v1/chat/completions`` request, checked (new tokens up to the server's limit by default)."""
    _check_fields(payload, CHAT_FIELDS)
    messages = payload.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(
            400, "'messages' must be a non-empty list such as [{'role': 'user', 'content': 'Hi'}]", param="messages"
        )
    name = "max_completion_tokens" if "max_completion_tokens" in payload else "max_tokens"
    if "max_completion_tokens" in payload and "max_tokens" in payload:
        raise ApiError(400, "send 'max_tokens' or 'max_completion_tokens', not both", param="max_tokens")
    settings = _settings(payload, served_models, name, max_tokens, max_tokens)
    checked = tuple(_message(i, m) for i, m in enumerate(messages))
    return GenerationRequest(prompt=None, messages=checked, **settings)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


def envelope(
    request_id: str, kind: str, model: str, choices: list[dict[str, Any]], counts: tuple[int, int] | None = None
) -> dict[str, Any]:
    """One answer or streamed chunk of ``kind`` (``"text_completion"``, ``"chat.completion"`` or
    ``"chat.completion.chunk"``), with the usage of ``counts`` (prompt tokens, completion tokens) if given."""
    body = {"id": request_id, "object": kind, "created": int(time.time()), "model": model, "choices": choices}
    if counts is not None:
        body["usage"] = {"prompt_tokens": counts[0], "completion_tokens": counts[1], "total_tokens": sum(counts)}
    return body


def completion_body(request_id: str, model: str, text: str, finish_reason: str | None, **usage: Any) -> dict[str, Any]:
    """A ``/v1/completions`` answer, whole (with ``counts=(prompt, completion)``) or one streamed chunk."""
    choice = {"text": text, "index": 0, "logprobs": None, "finish_reason": finish_reason}
    return envelope(request_id, "text_completion", model, [choice], **usage)


def chat_body(
    request_id: str, model: str, text: str, finish_reason: str | None, counts: tuple[int, int]
) -> dict[str, Any]:
    """The answer to a non-streamed ``/v1/chat/completions`` request."""
    message = {"role": "assistant", "content": text}
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}
    return envelope(request_id, "chat.completion", model, [choice], counts)


def chat_chunk(request_id: str, model: str, delta: dict[str, str], finish_reason: str | None) -> dict[str, Any]:
    """One server-sent event of a streamed ``/v1/chat/completions`` answer."""
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
    return envelope(request_id, "chat.completion.chunk", model, [choice])


def server_sent_event(data: Mapping[str, Any] | str) -> bytes:
    """``data: ...`` and a blank line: one event of a ``text/event-stream``."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"data: {text}\n\n".encode()


def releasable_text(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """The stop-sequence rule: how much of the generated ``text`` can be sent now, and whether it ended.

    If a stop sequence occurs, the text before its first occurrence is final (``True``). Otherwise
    the end of the text that could still grow into a stop sequence (the longest suffix that is a
    prefix of one) is held back, and so is a character not yet complete (a final U+FFFD: the rest
    of its UTF-8 bytes are in the next token).
    """
    found = [index for stop in stops if (index := text.find(stop)) >= 0]
    if found:
        return text[: min(found)], True
    end = len(text.rstrip("\ufffd")) if text.endswith("\ufffd") else len(text)
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), 0, -1):
            if text.endswith(stop[:size]):
                end = min(end, len(text) - size)
                break
    return text[:end], False
