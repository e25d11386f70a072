"""A loopback LLM server speaking the OpenAI and Anthropic wire formats, scriptable per model.

Started per test on 127.0.0.1 port 0. Each model name maps to a queue of Scripts (one consumed per
request, the last one repeating), so "429 then success" or "stall, then answer" are one line in a test.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fake_validation import Invalid, anthropic_error, openai_error, validate_anthropic, validate_openai
from tests.loopback import serve


@dataclass
class Script:
    text: str | None = None  # None: "<model> answers: <last user message>"
    reply: Callable[[dict[str, Any]], str] | None = None  # computes the text from the request body
    chunk_chars: int = 8
    latency: float = 0.0  # before the response headers
    ttft: float = 0.0  # after the headers, before the first token
    token_interval: float = 0.0  # between chunks
    status: int = 200
    error_message: str = "simulated failure"
    retry_after: str | None = None
    error_after_chunks: int | None = None  # in-stream error event after N chunks (HTTP status stays 200)
    stall_after_chunks: int | None = None  # stop sending, keep the connection open
    malformed_after_chunks: int | None = None  # a data line that is not JSON
    reset_after_chunks: int | None = None  # drop the TCP connection
    truncate_after_chunks: int | None = None  # end the body cleanly but without the final events
    echo_request_in_error: bool = False  # error body repeats request headers (secret-leak tests)
    input_tokens: int = 11
    output_tokens: int | None = None  # default: number of chunks
    retry_after_ms: str | None = None  # OpenAI's retry-after-ms header
    html_error: bool = False  # the error body is a proxy's HTML page
    reasoning: str = ""  # streamed before the text: delta.<reasoning_field> (OpenAI) or a thinking block
    reasoning_field: str = "reasoning"  # OpenRouter "reasoning", DeepSeek/vLLM "reasoning_content"
    reasoning_tokens: int | None = None  # reported in usage.completion_tokens_details (OpenAI)
    stop_reason: str | None = None  # default: stop / end_turn
    no_message_stop: bool = False  # Anthropic: end after message_delta without message_stop
    raw: list[bytes] | None = None  # a 200 event stream sent verbatim, chunk by chunk (wire conformance)
    raw_interval: float = 0.005  # between raw chunks, so that each arrives on its own
    # after the headers, the first token waits for this (tests of concurrency: every stream open at once)
    gate: asyncio.Event | None = None
    # web sources the answer cites, (url, title, cited text): OpenAI-compatible servers (OpenRouter's web
    # plugin, `:online`) send them as `url_citation` annotations in a delta after the text; Anthropic's web
    # search tool as `citations_delta` events inside the text block, before the text they support
    citations: tuple[tuple[str, str, str], ...] = ()
    no_usage: bool = False  # OpenAI-compatible: no usage chunk (vLLM or Ollama asked without include_usage)
    # Anthropic with the web search tool in the request: the searches the model runs before it answers (each
    # a server_tool_use block and its web_search_tool_result, the results being `citations`), and an error
    # code for its result instead (unavailable, too_many_requests, max_uses_exceeded, query_too_long…)
    searches: int = 1
    search_error: str | None = None


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


@dataclass
class StreamTiming:
    model: str
    first_token_at: float
    prompt: str  # the request's messages, as JSON: tells apart the same model's streams in several discussions
    last_token_at: float | None = None  # None: the stream did not finish


@dataclass
class FakeLLM:
    scripts: dict[str, list[Script]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    default: Script = field(default_factory=Script)
    base: str = ""
    _runner: web.AppRunner | None = None
    _closing: asyncio.Event = field(default_factory=asyncio.Event)
    listed_models: list[str] = field(default_factory=lambda: ["gpt-test", "claude-test", "llama-test"])
    models_status: int = 200
    model_pricing: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> OpenRouter-style extras
    streams: list[StreamTiming] = field(default_factory=list)  # when each answer's first and last text was sent
    openrouter: bool = True  # the OpenAI-compatible side accepts OpenRouter's `plugins` (False: OpenAI's refusal)
    anthropic_web_search: bool = True  # False: the organisation has no web search (Anthropic's 400)
    active_streams: int = 0
    peak_streams: int = 0

    # --- control ------------------------------------------------------------------------
    def script(self, model: str, *scripts: Script) -> None:
        self.scripts[model] = list(scripts)

    def requests_for(self, model: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.body.get("model") == model]

    @property
    def openai_url(self) -> str:
        return f"{self.base}/v1"

    @property
    def anthropic_url(self) -> str:
        return self.base

    async def start(self) -> FakeLLM:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._openai)
        app.router.add_post("/v1/messages", self._anthropic)
        app.router.add_get("/v1/models", self._models)
        self._runner, self.base = await serve(app)
        return self

    async def stop(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- request handling ---------------------------------------------------------------
    def _next_script(self, model: str) -> Script:
        queue = self.scripts.get(model)
        if not queue:
            return self.default
        return queue.pop(0) if len(queue) > 1 else queue[0]

    async def _prepare(self, request: web.Request, anthropic: bool) -> tuple[dict[str, Any], Script]:
        """The request recorded and validated as the real API would (Invalid: answer 400 with its body)."""
        try:
            body = await request.json()
        except ValueError:
            raise Invalid("The request body is not valid JSON") from None
        self.requests.append(RecordedRequest(request.path, dict(request.headers), body, time.monotonic()))
        if anthropic:
            validate_anthropic(body)
            if body.get("tools") and not self.anthropic_web_search:
                raise Invalid("Web search is not enabled for this organization. Enable it in the Console.")
        else:
            validate_openai(body, openrouter=self.openrouter)
        script = self._next_script(body.get("model", ""))
        if script.latency:
            await self._sleep(script.latency)
        return body, script

    @staticmethod
    def _refuse(error: Invalid, anthropic: bool) -> web.Response:
        return web.json_response(anthropic_error(error) if anthropic else openai_error(error), status=400)

    async def _raw(self, request: web.Request, script: Script) -> web.StreamResponse:
        assert script.raw is not None
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        for index, chunk in enumerate(script.raw):
            if index:
                await self._sleep(script.raw_interval)
            await response.write(chunk)
        await response.write_eof()
        return response

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except TimeoutError:
            pass

    @staticmethod
    def _last_user_text(body: dict[str, Any]) -> str:
        users = [m for m in body.get("messages") or () if isinstance(m, dict) and m.get("role") == "user"]
        content = users[-1].get("content") if users else ""
        if isinstance(content, list):
            content = " ".join(b.get("text", "") for b in content if isinstance(b, dict))
        return content if isinstance(content, str) else ""

    @staticmethod
    def _text(body: dict[str, Any], script: Script) -> str:
        if script.reply is not None:
            return script.reply(body)
        if script.text is not None:
            return script.text
        last_user = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
        return f"{body.get('model')} answers: {last_user}"

    @staticmethod
    def _chunks(text: str, size: int) -> list[str]:
        return [text[i : i + size] for i in range(0, len(text), size)] or [""]

    def _error_response(self, request: web.Request, script: Script, anthropic: bool) -> web.Response:
        message = script.error_message
        if script.echo_request_in_error:
            message += " | echo: " + json.dumps(dict(request.headers))
        headers = {"Retry-After": script.retry_after} if script.retry_after is not None else {}
        if script.retry_after_ms is not None:
            headers["retry-after-ms"] = script.retry_after_ms
        if script.html_error:
            page = (f"<html><head><title>{script.status} Bad Gateway</title></head><body><center><h1>"
                    f"{script.status} Bad Gateway</h1></center><hr><center>nginx</center></body></html>")
            return web.Response(text=page, status=script.status, content_type="text/html", headers=headers)
        if anthropic:
            kind = {429: "rate_limit_error", 529: "overloaded_error", 400: "invalid_request_error"}.get(
                script.status, "api_error")
            payload: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
        else:
            payload = {"error": {"message": message, "type": "server_error", "code": script.status}}
        return web.json_response(payload, status=script.status, headers=headers)

    async def _stream(self, request: web.Request, script: Script, chunks: list[str],
                      encode: Callable[[str], bytes], error_event: bytes, close: bytes,
                      body: dict[str, Any]) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        self.active_streams += 1
        self.peak_streams = max(self.peak_streams, self.active_streams)
        try:
            while script.gate is not None and not script.gate.is_set():
                await response.write(b": OPENROUTER PROCESSING\n\n")  # as OpenRouter keeps a slow stream alive
                try:
                    await asyncio.wait_for(script.gate.wait(), 0.2)
                except TimeoutError:
                    pass
            if script.ttft:
                await self._sleep(script.ttft)
            for index, chunk in enumerate(chunks):
                if index == script.error_after_chunks:
                    await response.write(error_event)
                    return response
                if index == script.stall_after_chunks:
                    await self._sleep(3600)
                    return response
                if index == script.malformed_after_chunks:
                    await response.write(b"data: {this is not json\n\n")
                    return response
                if index == script.reset_after_chunks:
                    assert request.transport is not None
                    request.transport.abort()
                    return response
                if index == script.truncate_after_chunks:
                    await response.write_eof()
                    return response
                if index and script.token_interval:
                    await self._sleep(script.token_interval)
                await response.write(encode(chunk))
                if not index:
                    timing = StreamTiming(body.get("model", ""), time.monotonic(), json.dumps(body["messages"]))
                    self.streams.append(timing)
            await response.write(close)
            await response.write_eof()
            timing.last_token_at = time.monotonic()
            return response
        except (ConnectionResetError, asyncio.CancelledError):
            return response
        finally:
            self.active_streams -= 1

    async def _models(self, request: web.Request) -> web.Response:
        self.requests.append(RecordedRequest(request.path, dict(request.headers), {}, time.monotonic()))
        if self.models_status != 200:
            return web.json_response({"error": {"message": "invalid api key"}}, status=self.models_status)
        return web.json_response({"object": "list",
                                  "data": [{"id": m, **self.model_pricing.get(m, {})} for m in self.listed_models]})

    async def _openai(self, request: web.Request) -> web.StreamResponse:
        try:
            body, script = await self._prepare(request, anthropic=False)
        except Invalid as error:
            return self._refuse(error, anthropic=False)
        if script.status != 200:
            return self._error_response(request, script, anthropic=False)
        if script.raw is not None:
            return await self._raw(request, script)
        text = self._text(body, script)
        chunks = self._chunks(text, script.chunk_chars) if text else []
        thoughts = self._chunks(script.reasoning, script.chunk_chars) if script.reasoning else []
        output_tokens = script.output_tokens if script.output_tokens is not None else len(chunks) + len(thoughts)
        usage: dict[str, Any] = {"prompt_tokens": script.input_tokens, "completion_tokens": output_tokens,
                                 "total_tokens": script.input_tokens + output_tokens}
        if script.reasoning_tokens is not None:
            usage["completion_tokens_details"] = {"reasoning_tokens": script.reasoning_tokens}
        finish = script.stop_reason or "stop"
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": text}
            if script.reasoning:
                message[script.reasoning_field] = script.reasoning
            return web.json_response({
                "id": "chatcmpl-fake", "object": "chat.completion", "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": usage,
            })

        def encode(chunk: str, field: str = "content") -> bytes:
            event = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": body["model"],
                     "choices": [{"index": 0, "delta": {field: chunk}, "finish_reason": None}]}
            return b": OPENROUTER PROCESSING\n\ndata: " + json.dumps(event).encode() + b"\n\n"

        prelude = b"".join(encode(thought, script.reasoning_field) for thought in thoughts)
        if not chunks:  # nothing but reasoning (or nothing at all): the prelude is the whole stream
            chunks, prelude_only = [""], True
        else:
            prelude_only = False
        first = [True]

        def encode_text(chunk: str) -> bytes:
            head = prelude if first[0] else b""
            first[0] = False
            return head + (b"" if prelude_only else encode(chunk))

        final = {"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                 "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}
        annotations = [{"type": "url_citation", "url_citation": {"url": url, "title": title, "content": quote,
                                                                  "start_index": 0, "end_index": len(text)}}
                       for url, title, quote in script.citations]
        cited = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": body["model"],
                 "choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "annotations": annotations},
                              "finish_reason": None}]}
        usage_event = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "choices": [], "usage": usage}
        usage_line = b"" if script.no_usage else b"data: " + json.dumps(usage_event).encode() + b"\n\n"
        close = ((b"data: " + json.dumps(cited).encode() + b"\n\n" if annotations else b"")
                 + b"data: " + json.dumps(final).encode() + b"\n\n" + usage_line + b"data: [DONE]\n\n")
        error = b"data: " + json.dumps({"error": {"message": script.error_message, "code": 502}}).encode() + b"\n\n"
        return await self._stream(request, script, chunks, encode_text, error, close, body)

    async def _anthropic(self, request: web.Request) -> web.StreamResponse:
        try:
            body, script = await self._prepare(request, anthropic=True)
        except Invalid as error:
            return self._refuse(error, anthropic=True)
        if script.status != 200:
            return self._error_response(request, script, anthropic=True)
        if script.raw is not None:
            return await self._raw(request, script)
        text = self._text(body, script)
        chunks = self._chunks(text, script.chunk_chars)
        thoughts = self._chunks(script.reasoning, script.chunk_chars) if script.reasoning else []
        output_tokens = script.output_tokens if script.output_tokens is not None else len(chunks) + len(thoughts)
        message_id = f"msg_{uuid.uuid4().hex[:12]}"
        stop = script.stop_reason or "end_turn"
        if not body.get("stream"):
            content: list[dict[str, Any]] = [{"type": "thinking", "thinking": script.reasoning,
                                              "signature": "sig"}] if script.reasoning else []
            content += [{"type": "text", "text": text}] if text else []
            return web.json_response({
                "id": message_id, "type": "message", "role": "assistant", "model": body["model"],
                "content": content, "stop_reason": stop,
                "usage": {"input_tokens": script.input_tokens, "output_tokens": output_tokens},
            })

        def sse(event: str, data: dict[str, Any]) -> bytes:
            return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()

        opening = sse("message_start", {"type": "message_start", "message": {
            "id": message_id, "type": "message", "role": "assistant", "model": body["model"], "content": [],
            "usage": {"input_tokens": script.input_tokens, "output_tokens": 1}}})
        text_index = 0
        if thoughts:
            opening += sse("content_block_start", {"type": "content_block_start", "index": 0,
                                                   "content_block": {"type": "thinking", "thinking": ""}})
            for thought in thoughts:
                opening += sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                       "delta": {"type": "thinking_delta", "thinking": thought}})
            opening += sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                   "delta": {"type": "signature_delta", "signature": "sig"}})
            opening += sse("content_block_stop", {"type": "content_block_stop", "index": 0})
            text_index = 1
        searches = script.searches if any(t.get("name") == "web_search" for t in body.get("tools") or ()) else 0
        limit = min(t.get("max_uses") or 99 for t in body.get("tools") or [{}])
        ran = 0
        for _ in range(searches):
            tool_id = f"srvtoolu_{uuid.uuid4().hex[:20]}"
            query = self._last_user_text(body)[:100]
            opening += sse("content_block_start", {"type": "content_block_start", "index": text_index,
                                                   "content_block": {"type": "server_tool_use", "id": tool_id,
                                                                     "name": "web_search", "input": {}}})
            opening += sse("content_block_delta", {"type": "content_block_delta", "index": text_index, "delta": {
                "type": "input_json_delta", "partial_json": json.dumps({"query": query})}})
            opening += sse("content_block_stop", {"type": "content_block_stop", "index": text_index})
            error = script.search_error or ("max_uses_exceeded" if ran >= limit else None)
            result: Any = ({"type": "web_search_tool_result_error", "error_code": error} if error else
                           [{"type": "web_search_result", "url": url, "title": title, "encrypted_content": "EqgfCio",
                             "page_age": "April 30, 2026"} for url, title, _ in script.citations])
            ran += error is None
            opening += sse("content_block_start", {"type": "content_block_start", "index": text_index + 1,
                                                   "content_block": {"type": "web_search_tool_result",
                                                                     "tool_use_id": tool_id, "content": result}})
            opening += sse("content_block_stop", {"type": "content_block_stop", "index": text_index + 1})
            text_index += 2
        opening += sse("content_block_start", {"type": "content_block_start", "index": text_index,
                                               "content_block": {"type": "text", "text": ""}})
        opening += sse("ping", {"type": "ping"})
        for url, title, quote in script.citations:
            opening += sse("content_block_delta", {"type": "content_block_delta", "index": text_index, "delta": {
                "type": "citations_delta", "citation": {"type": "web_search_result_location", "cited_text": quote,
                                                        "url": url, "title": title, "encrypted_index": "Eo8BCioI"}}})
        first = [True]

        def encode(chunk: str) -> bytes:
            prefix = opening if first[0] else b""
            first[0] = False
            if not chunk:
                return prefix
            return prefix + sse("content_block_delta", {"type": "content_block_delta", "index": text_index,
                                                        "delta": {"type": "text_delta", "text": chunk}})

        close = (sse("content_block_stop", {"type": "content_block_stop", "index": text_index})
                 + sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop},
                                         "usage": {"output_tokens": output_tokens, **(
                                             {"server_tool_use": {"web_search_requests": ran}} if searches else {})}})
                 + (b"" if script.no_message_stop else sse("message_stop", {"type": "message_stop"})))
        error = sse("error", {"type": "error", "error": {"type": "overloaded_error",
                                                         "message": script.error_message}})
        return await self._stream(request, script, chunks, encode, error, close, body)


async def _serve_forever(text: str, chunk_chars: int, token_interval: float, ttft: float) -> None:
    """Standalone mode for benchmarks: prints the base URL, serves until stdin closes."""
    import sys

    server = FakeLLM(default=Script(text=text, chunk_chars=chunk_chars, token_interval=token_interval, ttft=ttft))
    await server.start()
    print(server.base, flush=True)
    server.requests = _Discard()  # type: ignore[assignment]  # a long benchmark must not keep every request
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await server.stop()


class _Discard(list):  # type: ignore[type-arg]
    def append(self, item: object) -> None:
        pass


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Fake OpenAI/Anthropic server for benchmarks")
    parser.add_argument("--chunks", type=int, default=120)
    parser.add_argument("--chunk-chars", type=int, default=4)
    parser.add_argument("--interval", type=float, default=0.025)
    parser.add_argument("--ttft", type=float, default=0.3)
    args = parser.parse_args()
    asyncio.run(_serve_forever("word" * (args.chunks * args.chunk_chars // 4), args.chunk_chars, args.interval,
                               args.ttft))
