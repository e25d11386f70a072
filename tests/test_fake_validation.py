"""The fake provider refuses what the real APIs refuse, with their error bodies (so a request moai gets wrong
fails a test instead of reaching users)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bot.config import AppConfig
from bot.llm.errors import BadRequest
from bot.llm.registry import ModelClients
from bot.llm.types import ChatMessage
from tests.fake_llm import FakeLLM, Script

GOOD_OPENAI: dict[str, Any] = {"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}],
                               "max_tokens": 10, "temperature": 0.7, "stream": False}
GOOD_ANTHROPIC: dict[str, Any] = {"model": "claude-test", "messages": [{"role": "user", "content": "hi"}],
                                  "max_tokens": 10, "temperature": 0.7, "stream": False}


def without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


OPENAI_BAD = {
    "no model": (without(GOOD_OPENAI, "model"), "model"),
    "no messages": ({**GOOD_OPENAI, "messages": []}, "messages"),
    "renamed max_tokens": ({**without(GOOD_OPENAI, "max_tokens"), "max_token": 10}, "max_token"),
    "renamed temperature": ({**without(GOOD_OPENAI, "temperature"), "temp": 0.5}, "temp"),
    "temperature too high": ({**GOOD_OPENAI, "temperature": 2.5}, "temperature"),
    "temperature as text": ({**GOOD_OPENAI, "temperature": "hot"}, "temperature"),
    "bad role": ({**GOOD_OPENAI, "messages": [{"role": "moderator", "content": "x"}]}, "messages[0].role"),
    "bad part": ({**GOOD_OPENAI, "messages": [{"role": "user", "content": [{"type": "image", "data": "x"}]}]},
                 "messages[0].content"),
    "stream_options without stream": ({**GOOD_OPENAI, "stream_options": {"include_usage": True}},
                                      "stream_options"),
    "bad reasoning effort": ({**GOOD_OPENAI, "reasoning_effort": "extreme"}, "reasoning_effort"),
}

ANTHROPIC_BAD = {
    "no max_tokens": (without(GOOD_ANTHROPIC, "max_tokens"), "max_tokens: Field required"),
    "renamed max_tokens": ({**without(GOOD_ANTHROPIC, "max_tokens"), "max_tokens_to_sample": 5}, "Extra inputs"),
    "system as a role": ({**GOOD_ANTHROPIC, "messages": [{"role": "system", "content": "x"},
                                                         {"role": "user", "content": "y"}]}, "role"),
    "starts with assistant": ({**GOOD_ANTHROPIC, "messages": [{"role": "assistant", "content": "x"}]},
                              "first message"),
    "no alternation": ({**GOOD_ANTHROPIC, "messages": [{"role": "user", "content": "x"},
                                                       {"role": "user", "content": "y"}]}, "alternate"),
    "temperature over 1": ({**GOOD_ANTHROPIC, "temperature": 1.5}, "temperature"),
    "empty text": ({**GOOD_ANTHROPIC, "messages": [{"role": "user", "content": "  "}]}, "non-whitespace"),
    "thinking with temperature": ({**GOOD_ANTHROPIC, "max_tokens": 4000,
                                   "thinking": {"type": "enabled", "budget_tokens": 2000}}, "temperature"),
    "thinking budget too small": ({**without(GOOD_ANTHROPIC, "temperature"), "max_tokens": 4000,
                                   "thinking": {"type": "enabled", "budget_tokens": 100}}, "budget_tokens"),
    "image of a wrong type": ({**GOOD_ANTHROPIC, "messages": [{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/bmp", "data": "AAAA"}}]}]},
        "media_type"),
}


async def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        return response.status, await response.json()


@pytest.mark.parametrize("case", OPENAI_BAD)
async def test_openai_refusals(case: str, fake_llm: FakeLLM) -> None:
    body, param = OPENAI_BAD[case]
    status, error = await post(f"{fake_llm.openai_url}/chat/completions", body)
    assert status == 400 and error["error"]["type"] == "invalid_request_error"
    assert error["error"]["param"] == param


@pytest.mark.parametrize("case", ANTHROPIC_BAD)
async def test_anthropic_refusals(case: str, fake_llm: FakeLLM) -> None:
    body, words = ANTHROPIC_BAD[case]
    status, error = await post(f"{fake_llm.anthropic_url}/v1/messages", body)
    assert status == 400 and error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert words in error["error"]["message"]


@pytest.mark.parametrize(("url", "body"), [("openai", GOOD_OPENAI), ("anthropic", GOOD_ANTHROPIC)])
async def test_good_requests_pass(url: str, body: dict[str, Any], fake_llm: FakeLLM) -> None:
    base = f"{fake_llm.openai_url}/chat/completions" if url == "openai" else f"{fake_llm.anthropic_url}/v1/messages"
    status, _ = await post(base, body)
    assert status == 200


async def test_moai_requests_with_reasoning_are_valid(fake_llm: FakeLLM, http_session: aiohttp.ClientSession,
                                                      config: AppConfig) -> None:
    """What moai sends with thinking (no temperature, budget under max_tokens) and effort is what the APIs take."""
    from tests.conftest import TEST_ENV, make_config

    thinking = make_config(fake_llm, models__claude__max_tokens=4000, models__claude__thinking_budget=2048,
                           models__gpt__reasoning_effort="high")
    clients = ModelClients(thinking, http_session, environ=TEST_ENV)
    fake_llm.script("claude-test", Script(text="ok", reasoning="hm"))
    for alias in ("claude", "gpt"):
        completion = await clients.complete(thinking.models[alias], [ChatMessage("user", "hi")])
        assert completion.text
    claude_body = fake_llm.requests_for("claude-test")[-1].body
    assert claude_body["thinking"] == {"type": "enabled", "budget_tokens": 2048} and "temperature" not in claude_body
    assert fake_llm.requests_for("gpt-test")[-1].body["reasoning_effort"] == "high"


async def test_a_malformed_request_surfaces_as_bad_request(fake_llm: FakeLLM, config: AppConfig,
                                                           clients: ModelClients) -> None:
    """An empty turn is what a real API refuses: the client reports it, it does not pass silently."""
    with pytest.raises(BadRequest, match="non-whitespace"):
        await clients.complete(config.models["claude"], [ChatMessage("user", " ")])
