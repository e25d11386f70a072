"""Provider clients against the fake server over real HTTP: both wire formats, every failure mode."""

from __future__ import annotations

import asyncio
import time
import traceback

import pytest

from bot.config import AppConfig
from bot.llm.errors import (
    AuthenticationFailed,
    BadRequest,
    MissingApiKey,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    ServerError,
    StreamFailed,
)
from bot.llm.registry import ModelClients
from bot.llm.types import ChatMessage, StreamEnd, TextDelta
from tests.conftest import ANTHROPIC_KEY, OPENAI_KEY, TEST_ENV, make_config
from tests.fake_llm import FakeLLM, Script

QUESTION = [ChatMessage("system", "You are in a roundtable."), ChatMessage("user", "What is 2+2?")]
BOTH = pytest.mark.parametrize("alias", ["gpt", "claude"])


async def collect(clients: ModelClients, config: AppConfig, alias: str) -> tuple[str, StreamEnd]:
    text, end = "", None
    async for event in clients.stream(config.models[alias], QUESTION):
        if isinstance(event, TextDelta):
            text += event.text
        else:
            end = event
    assert end is not None
    return text, end


@BOTH
async def test_stream_delivers_text_and_usage(fake_llm: FakeLLM, config: AppConfig, clients: ModelClients,
                                              alias: str) -> None:
    model_id = config.models[alias].model
    fake_llm.script(model_id, Script(text="Four, obviously.", chunk_chars=3, input_tokens=21, output_tokens=5))
    text, end = await collect(clients, config, alias)
    assert text == "Four, obviously."
    assert (end.usage.input_tokens, end.usage.output_tokens) == (21, 5)
    assert end.stop_reason in {"stop", "end_turn"}


async def test_openai_request_shape_and_auth(fake_llm: FakeLLM, config: AppConfig, clients: ModelClients) -> None:
    await collect(clients, config, "gpt")
    [request] = fake_llm.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == f"Bearer {OPENAI_KEY}"
    assert request.body["stream"] is True and request.body["stream_options"] == {"include_usage": True}
    assert request.body["messages"][0] == {"role": "system", "content": "You are in a roundtable."}
    assert request.body["max_tokens"] == config.models["gpt"].max_tokens


async def test_anthropic_request_shape_and_auth(fake_llm: FakeLLM, config: AppConfig,
                                                clients: ModelClients) -> None:
    await collect(clients, config, "claude")
    [request] = fake_llm.requests
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == ANTHROPIC_KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.body["system"] == "You are in a roundtable."
    assert request.body["messages"] == [{"role": "user", "content": "What is 2+2?"}]


@BOTH
async def test_complete_non_streaming(fake_llm: FakeLLM, config: AppConfig, clients: ModelClients,
                                      alias: str) -> None:
    fake_llm.script(config.models[alias].model, Script(text="Plain answer.", input_tokens=7, output_tokens=3))
    completion = await clients.complete(config.models[alias], QUESTION)
    assert completion.text == "Plain answer."
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (7, 3)
    assert fake_llm.requests[0].body["stream"] is False


@BOTH
async def test_429_with_retry_after_is_honoured_then_succeeds(fake_llm: FakeLLM, config: AppConfig,
                                                              clients: ModelClients, alias: str) -> None:
    fake_llm.script(config.models[alias].model, Script(status=429, retry_after="0.3"), Script(text="ok now"))
    started = time.monotonic()
    text, _ = await collect(clients, config, alias)
    assert text == "ok now"
    first, second = fake_llm.requests
    assert second.at - first.at >= 0.28  # waited as told, not the 0.01 s backoff
    assert time.monotonic() - started < 2


@BOTH
async def test_retry_after_longer_than_allowed_fails_fast(fake_llm: FakeLLM, config: AppConfig,
                                                          clients: ModelClients, alias: str) -> None:
    fake_llm.script(config.models[alias].model, Script(status=429, retry_after="120", error_message="slow down"))
    with pytest.raises(RateLimited) as caught:
        await collect(clients, config, alias)
    assert caught.value.retry_after == 120
    assert "rate limited" in str(caught.value) and "slow down" in str(caught.value)
    assert len(fake_llm.requests) == 1


@BOTH
async def test_5xx_retried_with_backoff_then_gives_up(fake_llm: FakeLLM, config: AppConfig,
                                                      clients: ModelClients, alias: str) -> None:
    fake_llm.script(config.models[alias].model, Script(status=500, error_message="boom"))
    with pytest.raises(ServerError) as caught:
        await collect(clients, config, alias)
    assert len(fake_llm.requests) == 1 + config.providers[config.models[alias].provider].max_retries
    assert str(caught.value) == f"server error (HTTP 500) from {config.models[alias].provider}: boom"


async def test_5xx_then_success(fake_llm: FakeLLM, config: AppConfig, clients: ModelClients) -> None:
    fake_llm.script("gpt-test", Script(status=503), Script(status=502), Script(text="recovered"))
    text, _ = await collect(clients, config, "gpt")
    assert text == "recovered" and len(fake_llm.requests) == 3


@pytest.mark.parametrize(("status", "error"), [(401, AuthenticationFailed), (400, BadRequest), (404, BadRequest)])
async def test_client_errors_are_not_retried(fake_llm: FakeLLM, config: AppConfig, clients: ModelClients,
                                             status: int, error: type[Exception]) -> None:
    fake_llm.script("gpt-test", Script(status=status, error_message="nope"))
    with pytest.raises(error):
        await collect(clients, config, "gpt")
    assert len(fake_llm.requests) == 1


@BOTH
async def test_mid_stream_error_after_text_is_not_retried(fake_llm: FakeLLM, config: AppConfig,
                                                          clients: ModelClients, alias: str) -> None:
    fake_llm.script(config.models[alias].model,
                    Script(text="partial answer that breaks", chunk_chars=4, error_after_chunks=2,
                           error_message="Overloaded"))
    seen = ""
    with pytest.raises(StreamFailed) as caught:
        async for event in clients.stream(config.models[alias], QUESTION):
            if isinstance(event, TextDelta):
                seen += event.text
    assert seen == "partial "
    assert "Overloaded" in str(caught.value)
    assert len(fake_llm.requests) == 1  # a token reached the user: never retry


@BOTH
async def test_stall_past_idle_timeout(fake_llm: FakeLLM, config: AppConfig, clients: ModelClients,
                                       alias: str) -> None:
    fake_llm.script(config.models[alias].model, Script(text="slow and then silent", stall_after_chunks=1))
    started = time.monotonic()
    with pytest.raises(ProviderTimeout) as caught:
        await collect(clients, config, alias)
    assert 0.4 < time.monotonic() - started < 3
    assert "no data for 0.5s" in str(caught.value)


@BOTH
async def test_malformed_sse_line(fake_llm: FakeLLM, config: AppConfig, clients: ModelClients, alias: str) -> None:
    fake_llm.script(config.models[alias].model, Script(text="abcdefgh", chunk_chars=2, malformed_after_chunks=1))
    with pytest.raises(StreamFailed, match="malformed stream data"):
        await collect(clients, config, alias)


@BOTH
async def test_connection_reset_mid_stream(fake_llm: FakeLLM, config: AppConfig, clients: ModelClients,
                                           alias: str) -> None:
    fake_llm.script(config.models[alias].model, Script(text="abcdefgh", chunk_chars=2, reset_after_chunks=2))
    with pytest.raises(StreamFailed, match="connection closed mid-answer"):
        await collect(clients, config, alias)


@BOTH
async def test_stream_truncated_without_end_events(fake_llm: FakeLLM, config: AppConfig, clients: ModelClients,
                                                   alias: str) -> None:
    fake_llm.script(config.models[alias].model, Script(text="abcdefgh", chunk_chars=2, truncate_after_chunks=2))
    with pytest.raises(StreamFailed, match="ended before the answer was complete"):
        await collect(clients, config, alias)


async def test_reset_before_any_text_is_retried(fake_llm: FakeLLM, config: AppConfig, clients: ModelClients) -> None:
    fake_llm.script("gpt-test", Script(text="abc", reset_after_chunks=0), Script(text="second try"))
    text, _ = await collect(clients, config, "gpt")
    assert text == "second try" and len(fake_llm.requests) == 2


async def test_provider_down(http_session, fake_llm: FakeLLM) -> None:
    await fake_llm.stop()  # nothing listens on that port any more
    config = make_config(fake_llm)
    clients = ModelClients(config, http_session, environ=TEST_ENV)
    with pytest.raises(ProviderUnavailable, match="cannot reach fakeopenai"):
        await collect(clients, config, "gpt")


async def test_missing_api_key_names_the_variable_not_a_value(http_session, fake_llm: FakeLLM,
                                                              config: AppConfig) -> None:
    clients = ModelClients(config, http_session, environ={})
    with pytest.raises(MissingApiKey) as caught:
        await collect(clients, config, "gpt")
    assert str(caught.value) == "API key for fakeopenai is not set (environment variable FAKE_OPENAI_KEY)"
    assert fake_llm.requests == []


@BOTH
async def test_error_echoing_the_request_never_carries_the_key(fake_llm: FakeLLM, config: AppConfig,
                                                               clients: ModelClients, alias: str) -> None:
    fake_llm.script(config.models[alias].model, Script(status=400, echo_request_in_error=True))
    with pytest.raises(BadRequest) as caught:
        await collect(clients, config, alias)
    rendered = "".join(traceback.format_exception(caught.value)) + repr(caught.value.args)
    assert "echo:" in rendered and "[redacted]" in str(caught.value)  # echoed, then scrubbed
    assert OPENAI_KEY not in rendered and ANTHROPIC_KEY not in rendered


async def test_concurrency_limit_per_provider(fake_llm: FakeLLM, http_session) -> None:
    config = make_config(fake_llm, providers__fakeopenai__max_concurrency=2)
    clients = ModelClients(config, http_session, environ=TEST_ENV)
    fake_llm.script("gpt-test", Script(text="x" * 16, chunk_chars=4, token_interval=0.05))
    await asyncio.gather(*(collect(clients, config, "gpt") for _ in range(6)))
    assert fake_llm.peak_streams == 2
