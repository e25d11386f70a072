"""OpenAI-compatible Chat Completions (OpenAI, OpenRouter, Ollama, vLLM, DeepSeek...)."""

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
    ImagePart,
    ReasoningDelta,
    StreamEnd,
    StreamEvent,
    TextDelta,
    Usage,
    source_from,
)

# Where OpenAI-compatible servers put reasoning text: OpenRouter `reasoning`, DeepSeek and vLLM `reasoning_content`.
REASONING_FIELDS = ("reasoning", "reasoning_content")


def reasoning_of(part: Mapping[str, Any]) -> str:
    for field in REASONING_FIELDS:
        value = part.get(field)
        if isinstance(value, str) and value:
            return value
    return ""


def openai_content(message: ChatMessage) -> str | list[dict[str, Any]]:
    """Plain text, or text and files as content parts: images as data URLs, PDFs as file parts (OpenRouter,
    OpenAI)."""
    if not message.parts:
        return message.content
    parts: list[dict[str, Any]] = [{"type": "text", "text": message.content}] if message.content else []
    for part in message.parts:
        if isinstance(part, ImagePart):
            parts.append({"type": "image_url", "image_url": {"url": f"data:{part.media_type};base64,{part.data_b64}"}})
        else:
            parts.append({"type": "file", "file": {"filename": part.name,
                                                   "file_data": f"data:{part.media_type};base64,{part.data_b64}"}})
    return parts


class OpenAIClient(ProviderClient):
    def _url(self) -> str:
        return f"{self.config.base_url}/chat/completions"

    def _models_url(self) -> str:
        return f"{self.config.base_url}/models"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _body(self, request: ChatRequest, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [{"role": m.role, "content": openai_content(m)} for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": stream,
        }
        if request.reasoning_effort:
            body["reasoning_effort"] = request.reasoning_effort  # OpenAI's name; OpenRouter accepts it too
        if stream:
            body["stream_options"] = {"include_usage": True}
        if request.web_search is not None:  # OpenRouter's web plugin: one search, its results in the prompt
            body["plugins"] = [{"id": "web", "max_results": request.web_search.max_results}]
        return body

    @staticmethod
    def _error_message(data: Any) -> str:
        error = data["error"]
        return str(error.get("message") or error) if isinstance(error, Mapping) else str(error)

    def _error(self, data: Mapping[str, Any]) -> Exception:
        error = data.get("error")
        code = error.get("code") if isinstance(error, Mapping) else None
        kind = error.get("type") if isinstance(error, Mapping) else None
        return self.stream_error(self._error_message(data), kind=kind, code=code)

    @staticmethod
    def _usage(data: Mapping[str, Any]) -> Usage:
        usage = data.get("usage") or {}
        details = usage.get("completion_tokens_details") or {}
        return usage_or_empty(usage.get("prompt_tokens"), usage.get("completion_tokens"),
                              details.get("reasoning_tokens") if isinstance(details, Mapping) else None)

    def _parse_completion(self, data: Mapping[str, Any]) -> Completion:
        if "error" in data:
            raise self._error(data)
        try:
            choice = data["choices"][0]
            message = choice["message"]
            text = message.get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise self.stream_error("response has no choices") from None
        return Completion(text=text, usage=self._usage(data), stop_reason=choice.get("finish_reason"),
                          reasoning=reasoning_of(message))

    async def _parse_stream(self, response: aiohttp.ClientResponse) -> AsyncIterator[StreamEvent]:
        usage = Usage()
        stop_reason: str | None = None
        async for event in iter_sse(response.content):
            if event.data.strip() == "[DONE]":
                yield StreamEnd(usage, stop_reason)
                return
            try:
                data = json.loads(event.data)
            except ValueError:
                raise self.stream_error("malformed stream data") from None
            if not isinstance(data, dict):
                raise self.stream_error("malformed stream data")
            if "error" in data:  # OpenRouter reports failures after a 200 this way
                raise self._error(data)
            if data.get("usage"):
                usage = self._usage(data)
            for choice in data.get("choices") or ():
                delta = choice.get("delta") or {}
                thought = reasoning_of(delta)
                if thought:
                    yield ReasoningDelta(thought)
                text = delta.get("content")
                if text:
                    yield TextDelta(text)
                for annotation in delta.get("annotations") or ():
                    if isinstance(annotation, Mapping) and annotation.get("type") == "url_citation":
                        cited = annotation.get("url_citation") or {}
                        found = source_from(cited.get("url"), cited.get("title"), cited.get("content"))
                        if found is not None:
                            yield found
                stop_reason = choice.get("finish_reason") or stop_reason
        if stop_reason is None:
            raise self.stream_error("stream ended before the answer was complete")
        yield StreamEnd(usage, stop_reason)
