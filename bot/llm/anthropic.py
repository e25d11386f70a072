"""Anthropic Messages API (native), streaming and not, with extended thinking when a model has a budget."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp

from bot.llm.client import ProviderClient, usage_or_empty
from bot.llm.sse import iter_sse
from bot.llm.types import (
    ChatMessage,
    ChatRequest,
    Completion,
    DocumentPart,
    ImagePart,
    ReasoningDelta,
    StreamEnd,
    StreamEvent,
    TextDelta,
    Usage,
    WebSearched,
    source_from,
)

ANTHROPIC_VERSION = "2023-06-01"
WEB_SEARCH_TOOL = "web_search_20250305"
REDACTED_THINKING = "[part of the reasoning was redacted by the provider]"


def anthropic_blocks(message: ChatMessage) -> list[dict[str, Any]]:
    """Files first (Anthropic reads images and documents best before the text about them), then the text."""
    blocks: list[dict[str, Any]] = []
    for part in message.parts:
        kind = "image" if isinstance(part, ImagePart) else "document"
        blocks.append({"type": kind, "source": {"type": "base64", "media_type": part.media_type,
                                                "data": part.data_b64}})
        if isinstance(part, DocumentPart):
            blocks[-1]["title"] = part.name[:200]
    if message.content.strip():
        blocks.append({"type": "text", "text": message.content})
    return blocks


def to_anthropic_messages(messages: tuple[ChatMessage, ...]) -> tuple[str, list[dict[str, Any]]]:
    """System text goes top-level; turns must alternate and start with the user, so merge neighbours.

    A turn with files becomes a list of content blocks; neighbours merge block lists."""
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        content: str | list[dict[str, Any]] = anthropic_blocks(message) if message.parts else message.content
        if turns and turns[-1]["role"] == message.role:
            previous = turns[-1]["content"]
            if isinstance(previous, str) and isinstance(content, str):
                turns[-1]["content"] = previous + "\n\n" + content
            else:
                as_blocks = [{"type": "text", "text": previous}] if isinstance(previous, str) else previous
                turns[-1]["content"] = as_blocks + ([{"type": "text", "text": content}] if isinstance(content, str)
                                                    else content)
        else:
            turns.append({"role": message.role, "content": content})
    if not turns or turns[0]["role"] != "user":
        turns.insert(0, {"role": "user", "content": "(The discussion so far follows.)"})
    return system, turns


class AnthropicClient(ProviderClient):
    def _url(self) -> str:
        return f"{self.config.base_url}/v1/messages"

    def _models_url(self) -> str:
        return f"{self.config.base_url}/v1/models"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "anthropic-version": ANTHROPIC_VERSION}
        if self._api_key:
            headers["x-api-key"] = self._api_key
        return headers

    def _body(self, request: ChatRequest, stream: bool) -> dict[str, Any]:
        system, turns = to_anthropic_messages(request.messages)
        body: dict[str, Any] = {"model": request.model, "messages": turns, "max_tokens": request.max_tokens,
                                "stream": stream}
        if request.thinking_budget:
            # Extended thinking allows no temperature but the default; the budget counts within max_tokens.
            body["thinking"] = {"type": "enabled", "budget_tokens": request.thinking_budget}
        else:
            body["temperature"] = min(request.temperature, 1.0)
        if system:
            body["system"] = system
        if request.web_search is not None:  # a server tool: Anthropic runs the searches inside this one request
            body["tools"] = [{"type": WEB_SEARCH_TOOL, "name": "web_search", "max_uses": request.web_search.max_uses}]
        return body

    @staticmethod
    def _searches(usage: Mapping[str, Any]) -> int | None:
        """Searches billed so far (`usage.server_tool_use.web_search_requests`, a running total)."""
        tools = usage.get("server_tool_use")
        count = tools.get("web_search_requests") if isinstance(tools, Mapping) else None
        return count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else None

    @staticmethod
    def _error_message(data: Any) -> str:
        error = data["error"]
        return str(error.get("message") or error.get("type") or error) if isinstance(error, Mapping) else str(error)

    @staticmethod
    def _error_type(data: Mapping[str, Any]) -> object:
        error = data.get("error")
        return error.get("type") if isinstance(error, Mapping) else None

    def _parse_completion(self, data: Mapping[str, Any]) -> Completion:
        if data.get("type") == "error":
            raise self.stream_error(self._error_message(data), kind=self._error_type(data))
        blocks = data.get("content")
        if not isinstance(blocks, list):
            raise self.stream_error("response has no content")
        text = "".join(b.get("text", "") for b in blocks if isinstance(b, dict) and b.get("type") == "text")
        reasoning = "\n\n".join(REDACTED_THINKING if b.get("type") == "redacted_thinking" else b.get("thinking", "")
                                for b in blocks if isinstance(b, dict)
                                and b.get("type") in ("thinking", "redacted_thinking"))
        usage = data.get("usage") or {}
        counted = usage_or_empty(usage.get("input_tokens"), usage.get("output_tokens"))
        counted.web_searches = self._searches(usage) or 0
        return Completion(text=text, usage=counted, stop_reason=data.get("stop_reason"), reasoning=reasoning)

    async def _parse_stream(self, response: aiohttp.ClientResponse) -> AsyncIterator[StreamEvent]:
        usage = Usage()
        stop_reason: str | None = None
        thinking_blocks = 0
        async for event in iter_sse(response.content):
            try:
                data = json.loads(event.data)
            except ValueError:
                raise self.stream_error("malformed stream data") from None
            kind = data.get("type", event.event) if isinstance(data, dict) else None
            if kind == "content_block_delta":  # most events: checked first
                delta = data.get("delta") or {}
                if delta.get("type") == "text_delta" and delta.get("text"):
                    yield TextDelta(delta["text"])
                elif delta.get("type") == "thinking_delta" and delta.get("thinking"):
                    yield ReasoningDelta(delta["thinking"])
                elif delta.get("type") == "citations_delta":
                    citation = delta.get("citation") or {}
                    if citation.get("type") == "web_search_result_location":
                        found = source_from(citation.get("url"), citation.get("title"), citation.get("cited_text"))
                        if found is not None:
                            yield found
            elif kind == "error":
                raise self.stream_error(self._error_message(data), kind=self._error_type(data))
            elif kind == "message_start":
                start_usage = (data.get("message") or {}).get("usage") or {}
                usage = usage_or_empty(start_usage.get("input_tokens"), start_usage.get("output_tokens"))
            elif kind == "content_block_start":
                block = data.get("content_block") or {}
                if block.get("type") in ("thinking", "redacted_thinking"):
                    if thinking_blocks:
                        yield ReasoningDelta("\n\n")
                    thinking_blocks += 1
                    if block.get("type") == "redacted_thinking":
                        yield ReasoningDelta(REDACTED_THINKING)
                elif block.get("type") == "web_search_tool_result":
                    content = block.get("content")
                    if isinstance(content, Mapping) and content.get("type") == "web_search_tool_result_error":
                        yield WebSearched(failed=str(content.get("error_code") or "search failed")[:60])
                    else:
                        yield WebSearched()
            elif kind == "message_delta":
                stop_reason = (data.get("delta") or {}).get("stop_reason") or stop_reason
                delta_usage = data.get("usage") or {}
                if isinstance(delta_usage.get("output_tokens"), int):
                    usage.output_tokens = delta_usage["output_tokens"]
                if isinstance(delta_usage.get("input_tokens"), int):
                    usage.input_tokens = delta_usage["input_tokens"]
                searches = self._searches(delta_usage)
                if searches is not None:
                    usage.web_searches = searches
            elif kind == "message_stop":
                yield StreamEnd(usage, stop_reason)
                return
            elif kind is None:
                raise self.stream_error("malformed stream data")
        if stop_reason is None:  # message_delta carries the stop reason: without it the answer may be cut
            raise self.stream_error("stream ended before the answer was complete")
        yield StreamEnd(usage, stop_reason)
