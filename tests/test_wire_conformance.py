"""Wire conformance: one scripted server case per stream shape providers really send, for both client kinds.

Each raw case is bytes on the wire, chunk by chunk, as OpenRouter/OpenAI or Anthropic send them; the client
must yield exactly the text, reasoning, stop reason and usage the official SDKs would.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from bot.config import AppConfig
from bot.llm.client import parse_retry_after, readable_body
from bot.llm.errors import BadRequest, ProviderError, ProviderTimeout, RateLimited, ServerError, StreamFailed
from bot.llm.registry import ModelClients
from bot.llm.types import ChatMessage, ReasoningDelta, StreamEnd, TextDelta
from tests.conftest import TEST_ENV, make_config
from tests.fake_llm import FakeLLM, Script

QUESTION = [ChatMessage("user", "Say hello")]


def oa(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"id": "c", "object": "chat.completion.chunk",
                             "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish}]}
    event.update(extra)
    return event


def data(event: dict[str, Any], end: str = "\n\n", space: str = " ") -> bytes:
    """Raw UTF-8 as providers send it (not \\u escapes)."""
    return f"data:{space}{json.dumps(event, ensure_ascii=False)}{end}".encode()


def an(kind: str, payload: dict[str, Any], end: str = "\n") -> bytes:
    return f"event: {kind}{end}data: {json.dumps({'type': kind, **payload}, ensure_ascii=False)}{end}{end}".encode()


def split_inside(raw: bytes, character: str) -> list[bytes]:
    """Two TCP chunks, cut between the bytes of one multi-byte character."""
    at = raw.index(character.encode()) + 1
    return [raw[:at], raw[at:]]


USAGE = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
OPENAI_END = data(oa(finish="stop")) + data({"id": "c", "choices": [], "usage": USAGE}) + b"data: [DONE]\n\n"


def anthropic_stream(*blocks: bytes, stop: str = "end_turn", message_stop: bool = True, end: str = "\n") -> bytes:
    start = an("message_start", {"message": {"id": "m", "type": "message", "role": "assistant", "content": [],
                                             "usage": {"input_tokens": 5, "output_tokens": 1}}}, end)
    tail = an("message_delta", {"delta": {"stop_reason": stop}, "usage": {"output_tokens": 2}}, end)
    return start + b"".join(blocks) + tail + (an("message_stop", {}, end) if message_stop else b"")


def text_block(index: int, *pieces: str, end: str = "\n") -> bytes:
    out = an("content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}}, end)
    for piece in pieces:
        out += an("content_block_delta", {"index": index, "delta": {"type": "text_delta", "text": piece}}, end)
    return out + an("content_block_stop", {"index": index}, end)


def thinking_block(index: int, *pieces: str) -> bytes:
    out = an("content_block_start", {"index": index, "content_block": {"type": "thinking", "thinking": ""}})
    for piece in pieces:
        out += an("content_block_delta", {"index": index, "delta": {"type": "thinking_delta", "thinking": piece}})
    out += an("content_block_delta", {"index": index, "delta": {"type": "signature_delta", "signature": "x"}})
    return out + an("content_block_stop", {"index": index})


LONG = "x" * 700_000  # one SSE line of about 700 KB: past aiohttp's 512 KiB readline limit
SNOWMAN = "☃ snow"

OPENAI_CASES: dict[str, tuple[list[bytes], str, str, str | None]] = {
    # name: (chunks, text, reasoning, stop)
    "plain": ([data(oa({"content": "Hel"})), data(oa({"content": "lo"})), OPENAI_END], "Hello", "", "stop"),
    "crlf": ([data(oa({"content": "Hel"}), "\r\n\r\n"), data(oa({"content": "lo"}), "\r\n\r\n"),
              OPENAI_END.replace(b"\n", b"\r\n")], "Hello", "", "stop"),
    "lone cr": ([data(oa({"content": "Hel"}), "\r\r"), data(oa({"content": "lo"}), "\r\r"),
                 OPENAI_END.replace(b"\n", b"\r")], "Hello", "", "stop"),
    "data without space": ([data(oa({"content": "Hello"}), space=""), OPENAI_END], "Hello", "", "stop"),
    "multi-line data": ([b'data: {"id": "c", "object": "chat.completion.chunk",\ndata: "choices": [{"index": 0, '
                         b'"delta": {"content": "Hello"}, "finish_reason": null}]}\n\n', OPENAI_END],
                        "Hello", "", "stop"),
    "comments": ([b": OPENROUTER PROCESSING\n\n", data(oa({"content": "Hello"})), b": keep-alive\n\n",
                  OPENAI_END], "Hello", "", "stop"),
    "usage-only chunk": ([data(oa({"content": "Hello"})), data(oa(finish="stop")),
                          data({"id": "c", "object": "chat.completion.chunk", "choices": [], "usage": USAGE}),
                          b"data: [DONE]\n\n"], "Hello", "", "stop"),
    "split done": ([data(oa({"content": "Hello"})), data(oa(finish="stop")), b"data: [DO", b"NE]\n\n"],
                   "Hello", "", "stop"),
    "split utf-8": ([*split_inside(data(oa({"content": SNOWMAN})), "☃"), OPENAI_END], SNOWMAN, "", "stop"),
    "reasoning (openrouter)": ([data(oa({"reasoning": "think "})), data(oa({"reasoning": "hard"})),
                                data(oa({"content": "Hello"})), OPENAI_END], "Hello", "think hard", "stop"),
    "reasoning_content (deepseek)": ([data(oa({"reasoning_content": "hmm", "content": None})),
                                      data(oa({"content": "Hello"})), OPENAI_END], "Hello", "hmm", "stop"),
    "reasoning only, cut": ([data(oa({"reasoning": "so much thinking"})), data(oa(finish="length")),
                             b"data: [DONE]\n\n"], "", "so much thinking", "length"),
    "cut at max_tokens": ([data(oa({"content": "Hel"})), data(oa(finish="length")), b"data: [DONE]\n\n"],
                          "Hel", "", "length"),
    "content filter": ([data(oa({"content": "Hel"})), data(oa(finish="content_filter")), b"data: [DONE]\n\n"],
                       "Hel", "", "content_filter"),
    "long line": ([data(oa({"content": LONG})), OPENAI_END], LONG, "", "stop"),
    "no done after finish": ([data(oa({"content": "Hello"})), data(oa(finish="stop"))], "Hello", "", "stop"),
}

ANTHROPIC_CASES: dict[str, tuple[list[bytes], str, str, str | None]] = {
    "plain": ([anthropic_stream(text_block(0, "Hel", "lo"))], "Hello", "", "end_turn"),
    "crlf": ([anthropic_stream(text_block(0, "Hel", "lo", end="\r\n"), end="\r\n")], "Hello", "", "end_turn"),
    "lone cr": ([anthropic_stream(text_block(0, "Hel", "lo", end="\r"), end="\r")], "Hello", "", "end_turn"),
    "pings": ([anthropic_stream(an("ping", {}), text_block(0, "Hello"), an("ping", {}))], "Hello", "", "end_turn"),
    "two text blocks": ([anthropic_stream(text_block(0, "Hel"), text_block(1, "lo"))], "Hello", "", "end_turn"),
    "thinking": ([anthropic_stream(thinking_block(0, "let me ", "see"), text_block(1, "Hello"))],
                 "Hello", "let me see", "end_turn"),
    "thinking only, cut": ([anthropic_stream(thinking_block(0, "endless"), stop="max_tokens")],
                           "", "endless", "max_tokens"),
    "no message_stop": ([anthropic_stream(text_block(0, "Hello"), message_stop=False)], "Hello", "", "end_turn"),
    "split utf-8": (split_inside(anthropic_stream(text_block(0, SNOWMAN)), "☃"), SNOWMAN, "", "end_turn"),
    "long line": ([anthropic_stream(text_block(0, LONG))], LONG, "", "end_turn"),
    "refusal": ([anthropic_stream(text_block(0, "I can't"), stop="refusal")], "I can't", "", "refusal"),
}


async def collect(clients: ModelClients, config: AppConfig, alias: str) -> tuple[str, str, StreamEnd]:
    text, reasoning, end = "", "", None
    async for event in clients.stream(config.models[alias], QUESTION):
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, ReasoningDelta):
            reasoning += event.text
        else:
            end = event
    assert end is not None
    return text, reasoning, end


@pytest.mark.parametrize("case", OPENAI_CASES)
async def test_openai_stream_shapes(case: str, fake_llm: FakeLLM, config: AppConfig, clients: ModelClients) -> None:
    chunks, text, reasoning, stop = OPENAI_CASES[case]
    fake_llm.script("gpt-test", Script(raw=chunks))
    got = await collect(clients, config, "gpt")
    assert got[:2] == (text, reasoning) and got[2].stop_reason == stop


@pytest.mark.parametrize("case", ANTHROPIC_CASES)
async def test_anthropic_stream_shapes(case: str, fake_llm: FakeLLM, config: AppConfig,
                                       clients: ModelClients) -> None:
    chunks, text, reasoning, stop = ANTHROPIC_CASES[case]
    fake_llm.script("claude-test", Script(raw=chunks))
    got = await collect(clients, config, "claude")
    assert got[:2] == (text, reasoning) and got[2].stop_reason == stop
    assert (got[2].usage.input_tokens, got[2].usage.output_tokens) == (5, 2)


async def test_openai_usage_counts_reasoning_tokens(fake_llm: FakeLLM, config: AppConfig,
                                                    clients: ModelClients) -> None:
    fake_llm.script("gpt-test", Script(text="Hi", reasoning="deep", reasoning_tokens=40, output_tokens=42))
    _, reasoning, end = await collect(clients, config, "gpt")
    assert reasoning == "deep" and end.usage.reasoning_tokens == 40 and end.usage.output_tokens == 42


# --- errors ----------------------------------------------------------------------------------

IN_STREAM_ERRORS = {
    "gpt": [b": OPENROUTER PROCESSING\n\n", data({"error": {"code": 502, "message": "Upstream overloaded"}})],
    "claude": [an("message_start", {"message": {"id": "m", "content": [], "usage": {"input_tokens": 5}}}),
               an("error", {"error": {"type": "overloaded_error", "message": "Overloaded"}})],
}


@pytest.mark.parametrize("alias", ["gpt", "claude"])
async def test_in_stream_error_before_text_is_retried(alias: str, fake_llm: FakeLLM, config: AppConfig,
                                                      clients: ModelClients) -> None:
    model = config.models[alias].model
    fake_llm.script(model, Script(raw=IN_STREAM_ERRORS[alias]), Script(text="second try"))
    text, _, _ = await collect(clients, config, alias)
    assert text == "second try" and len(fake_llm.requests) == 2


@pytest.mark.parametrize("alias", ["gpt", "claude"])
async def test_in_stream_error_that_persists_keeps_its_class(alias: str, fake_llm: FakeLLM, config: AppConfig,
                                                             clients: ModelClients) -> None:
    fake_llm.script(config.models[alias].model, Script(raw=IN_STREAM_ERRORS[alias]))
    with pytest.raises(ServerError) as caught:
        await collect(clients, config, alias)
    assert caught.value.retries == 2 and len(fake_llm.requests) == 3


async def test_in_stream_invalid_request_is_not_retried(fake_llm: FakeLLM, config: AppConfig,
                                                        clients: ModelClients) -> None:
    fake_llm.script("claude-test", Script(raw=[an("error", {"error": {"type": "invalid_request_error",
                                                                       "message": "prompt is too long"}})]))
    with pytest.raises(BadRequest, match="prompt is too long"):
        await collect(clients, config, "claude")
    assert len(fake_llm.requests) == 1


RETRY_FORMS = {
    "seconds": {"retry_after": "0.3"},
    "milliseconds": {"retry_after_ms": "300"},
}


@pytest.mark.parametrize("status", [429, 503, 529])
@pytest.mark.parametrize("form", RETRY_FORMS)
@pytest.mark.parametrize("alias", ["gpt", "claude"])
async def test_every_retry_after_form_is_honoured(alias: str, form: str, status: int, fake_llm: FakeLLM,
                                                  config: AppConfig, clients: ModelClients) -> None:
    fake_llm.script(config.models[alias].model, Script(status=status, **RETRY_FORMS[form]), Script(text="ok"))
    text, _, _ = await collect(clients, config, alias)
    first, second = fake_llm.requests
    assert text == "ok" and second.at - first.at >= 0.28  # waited as told, not the 0.01 s backoff


async def test_retry_after_as_an_http_date(fake_llm: FakeLLM, config: AppConfig, clients: ModelClients) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=1.2), usegmt=True)  # whole seconds on the wire
    fake_llm.script("gpt-test", Script(status=429, retry_after=when), Script(text="ok"))
    text, _, _ = await collect(clients, config, "gpt")
    first, second = fake_llm.requests
    assert text == "ok" and second.at - first.at >= 0.15


def test_parse_retry_after_forms() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after({"retry-after": "7"}) == 7
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5  # the precise one wins
    assert parse_retry_after({"retry-after": "Thu, 01 Jan 2026 00:00:30 GMT"}, now) == 30
    assert parse_retry_after({"retry-after": "Wed, 31 Dec 2025 23:00:00 GMT"}, now) == 0  # in the past
    assert parse_retry_after({"retry-after": "soon"}) is None and parse_retry_after({}) is None


async def test_retry_after_beyond_the_cap_fails_with_the_wait(fake_llm: FakeLLM, config: AppConfig,
                                                              clients: ModelClients) -> None:
    fake_llm.script("gpt-test", Script(status=429, retry_after_ms="120000"))
    with pytest.raises(RateLimited) as caught:
        await collect(clients, config, "gpt")
    assert caught.value.retry_after == 120 and len(fake_llm.requests) == 1


@pytest.mark.parametrize("alias", ["gpt", "claude"])
async def test_html_error_page_is_not_shown_as_markup(alias: str, fake_llm: FakeLLM, config: AppConfig,
                                                      clients: ModelClients) -> None:
    fake_llm.script(config.models[alias].model, Script(status=502, html_error=True))
    with pytest.raises(ServerError) as caught:
        await collect(clients, config, alias)
    assert "<" not in str(caught.value) and "502 Bad Gateway" in str(caught.value)


def test_readable_body() -> None:
    assert readable_body("<!DOCTYPE html><html><body>oops</body></html>", "Bad Gateway") == "Bad Gateway"
    assert readable_body("plain words", "x") == "plain words"


async def test_total_timeout_says_total_not_idle(fake_llm: FakeLLM, http_session) -> None:  # type: ignore[no-untyped-def]
    config = make_config(fake_llm, defaults__timeouts={"connect": 2.0, "idle": 0.5, "total": 1.0})
    clients = ModelClients(config, http_session, environ=TEST_ENV)
    fake_llm.script("gpt-test", Script(text="x" * 400, chunk_chars=1, token_interval=0.01))  # data flows 4 s
    started = time.monotonic()
    with pytest.raises(ProviderTimeout) as caught:
        await collect(clients, config, "gpt")
    assert "no complete answer within 1s" in str(caught.value) and time.monotonic() - started < 2.5


async def test_complete_retries_a_dropped_connection(fake_llm: FakeLLM, config: AppConfig,
                                                     clients: ModelClients) -> None:
    fake_llm.script("gpt-test", Script(status=503, retry_after_ms="50"), Script(text="fine"))
    completion = await clients.complete(config.models["gpt"], QUESTION)
    assert completion.text == "fine" and len(fake_llm.requests) == 2


async def test_complete_reads_reasoning_and_stop(fake_llm: FakeLLM, config: AppConfig,
                                                 clients: ModelClients) -> None:
    for alias in ("gpt", "claude"):
        fake_llm.script(config.models[alias].model, Script(text="Yes", reasoning="why", stop_reason=None))
        completion = await clients.complete(config.models[alias], QUESTION)
        assert (completion.text, completion.reasoning) == ("Yes", "why")


async def test_complete_refused_connection_is_retried(http_session, fake_llm: FakeLLM) -> None:  # type: ignore[no-untyped-def]
    await fake_llm.stop()
    config = make_config(fake_llm)
    clients = ModelClients(config, http_session, environ=TEST_ENV)
    with pytest.raises(ProviderError) as caught:
        await clients.complete(config.models["gpt"], QUESTION)
    assert caught.value.retries == 2


async def test_stream_error_after_text_is_a_stream_failure(fake_llm: FakeLLM, config: AppConfig,
                                                           clients: ModelClients) -> None:
    fake_llm.script("claude-test", Script(raw=[
        an("message_start", {"message": {"id": "m", "content": [], "usage": {"input_tokens": 5}}}),
        text_block(0, "Hel"), an("error", {"error": {"type": "overloaded_error", "message": "Overloaded"}})]))
    with pytest.raises(StreamFailed, match="Overloaded"):
        await collect(clients, config, "claude")
    assert len(fake_llm.requests) == 1


@pytest.mark.parametrize("case", [*OPENAI_CASES.items(), *ANTHROPIC_CASES.items()], ids=lambda c: c[0])
def test_parser_gives_the_same_events_byte_by_byte(case: tuple[str, tuple[list[bytes], str, str, str | None]]) -> None:
    """However TCP cuts the body (here: into single bytes), the events are the same."""
    from bot.llm.sse import SseParser

    body = b"".join(case[1][0])
    whole = SseParser()
    expected = whole.feed(body) + whole.close()
    trickle = SseParser()
    got = [event for i in range(len(body)) for event in trickle.feed(body[i:i + 1])] + trickle.close()
    assert got == expected and expected
