"""Benchmark: parsing a streamed answer, moai's clients against the official `openai` and `anthropic` SDKs.

The same bytes for both sides, served from loopback as fast as the socket takes them: one long answer of
many small deltas (the shape that makes parsing, not the network, the cost). Each side parses the whole
stream into text; the best of several runs counts. Reported as SDK time / moai time, measured in the same
run. Targets: at least 5x the OpenAI SDK and 2x the Anthropic SDK.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python -m bench.sse_parse [--events 20000] [--runs 5] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

from bot.config import parse_config
from bot.llm.registry import ModelClients
from bot.llm.types import ChatMessage, TextDelta

PIECE = "word "
TARGETS = {"openai": 5.0, "anthropic": 2.0}


def openai_body(events: int) -> bytes:
    chunk = json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                        "choices": [{"index": 0, "delta": {"content": PIECE}, "finish_reason": None}]})
    end = json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                      "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return (f"data: {chunk}\n\n" * events + f"data: {end}\n\ndata: [DONE]\n\n").encode()


def anthropic_body(events: int) -> bytes:
    def sse(kind: str, data: dict[str, object]) -> str:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"

    start = sse("message_start", {"message": {"id": "m", "type": "message", "role": "assistant", "model": "m",
                                              "content": [], "stop_reason": None, "stop_sequence": None,
                                              "usage": {"input_tokens": 1, "output_tokens": 1}}})
    start += sse("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
    delta = sse("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": PIECE}})
    end = sse("content_block_stop", {"index": 0})
    end += sse("message_delta", {"delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                 "usage": {"output_tokens": events}})
    end += sse("message_stop", {})
    return (start + delta * events + end).encode()


async def serve(bodies: dict[str, bytes]) -> tuple[web.AppRunner, str]:
    async def handler(request: web.Request) -> web.StreamResponse:
        body = bodies["anthropic" if request.path.endswith("/messages") else "openai"]
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for start in range(0, len(body), 65536):
            await response.write(body[start:start + 65536])
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    app.router.add_post("/v1/messages", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def best_of(runs: int, parse: Callable[[], Awaitable[int]], expected: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        length = await parse()
        times.append(time.perf_counter() - started)
        assert length == expected, f"parsed {length} characters, expected {expected}"
    return min(times)


async def main(events: int, runs: int) -> dict[str, dict[str, float]]:
    import anthropic
    import openai

    runner, base = await serve({"openai": openai_body(events), "anthropic": anthropic_body(events)})
    config = parse_config({
        "defaults": {"timeouts": {"total": 600.0, "idle": 60.0}},
        "providers": {"o": {"kind": "openai", "base_url": f"{base}/v1"},
                      "a": {"kind": "anthropic", "base_url": base}},
        "models": {"o": {"provider": "o", "model": "m"}, "a": {"provider": "a", "model": "m"}},
    })
    question = [ChatMessage("user", "go")]
    expected = len(PIECE) * events
    results: dict[str, dict[str, float]] = {}
    try:
        async with aiohttp.ClientSession() as session:
            clients = ModelClients(config, session, environ={})

            def ours(alias: str) -> Callable[[], Awaitable[int]]:
                async def parse() -> int:
                    total = 0
                    async for event in clients.stream(config.models[alias], question):
                        if isinstance(event, TextDelta):
                            total += len(event.text)
                    return total
                return parse

            oai = openai.AsyncOpenAI(base_url=f"{base}/v1", api_key="x", max_retries=0)
            ant = anthropic.AsyncAnthropic(base_url=base, api_key="x", max_retries=0)

            async def openai_sdk() -> int:
                total = 0
                stream = await oai.chat.completions.create(model="m", messages=[{"role": "user", "content": "go"}],
                                                           stream=True)
                async for chunk in stream:
                    for choice in chunk.choices:
                        total += len(choice.delta.content or "")
                return total

            async def anthropic_sdk() -> int:
                total = 0
                stream = await ant.messages.create(model="m", max_tokens=10, stream=True,
                                                   messages=[{"role": "user", "content": "go"}])
                async for event in stream:
                    if event.type == "content_block_delta" and event.delta.type == "text_delta":
                        total += len(event.delta.text)
                return total

            for kind, sdk, alias in (("openai", openai_sdk, "o"), ("anthropic", anthropic_sdk, "a")):
                moai_s = await best_of(runs, ours(alias), expected)
                sdk_s = await best_of(runs, sdk, expected)
                results[kind] = {"moai_s": moai_s, "sdk_s": sdk_s, "ratio": sdk_s / moai_s,
                                 "events_per_s": events / moai_s, "target": TARGETS[kind]}
            await oai.close()
            await ant.close()
    finally:
        await runner.cleanup()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    found = asyncio.run(main(args.events, args.runs))
    if args.json:
        print(json.dumps(found, indent=2))
    else:
        print(f"{args.events:,} deltas per stream, best of {args.runs}")
        print("| wire format | moai | official SDK | SDK / moai | target |")
        print("| --- | --- | --- | --- | --- |")
        for kind, row in found.items():
            print(f"| {kind} | {row['moai_s'] * 1000:.0f} ms ({row['events_per_s']:,.0f} deltas/s) | "
                  f"{row['sdk_s'] * 1000:.0f} ms | {row['ratio']:.1f}x | ≥ {row['target']:g}x |")
    missed = [kind for kind, row in found.items() if row["ratio"] < row["target"]]
    raise SystemExit(f"below target: {', '.join(missed)}" if missed else 0)
