"""Benchmark: one /open round at 2, 4 and 8 models, through the real bot, fake LLM server and SQLite.

Baseline, measured in the same run: the slowest model streamed alone straight from its provider client
(no Discord, no database). Reports the round's wall time as a ratio of that baseline, the time to the
first visible text, and how many Discord calls the streaming took.

    .venv/bin/python -m bench.open_round [--edit-interval 1.0] [--tokens 80]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from dataclasses import dataclass

import aiohttp

from bot.llm.registry import ModelClients
from bot.llm.types import ChatMessage
from tests.conftest import TEST_ENV, make_config
from tests.db import fresh_database
from tests.discord_harness import make_harness
from tests.fake_llm import FakeLLM, Script

TOKEN_INTERVAL = 0.02


@dataclass
class Case:
    models: int
    baseline: float
    wall: float
    first_text: float
    creates: int
    edits: int

    @property
    def calls_per_second(self) -> float:
        return (self.creates + self.edits) / self.wall


def scripts(count: int, tokens: int) -> dict[str, Script]:
    """Model i waits 0.1 + 0.05*i s before its first token, then streams `tokens` chunks."""
    return {f"model-{i}": Script(text="tok " * tokens, chunk_chars=4, ttft=0.1 + 0.05 * i,
                                 token_interval=TOKEN_INTERVAL) for i in range(count)}


async def run_case(count: int, tokens: int, edit_interval: float) -> Case:
    fake = await FakeLLM().start()
    try:
        for model_id, script in scripts(count, tokens).items():
            fake.script(model_id, script)
        models = {f"m{i}": {"provider": "fakeopenai", "model": f"model-{i}", "display_name": f"Model {i}"}
                  for i in range(count)}
        config = make_config(fake, models=models, defaults__models=list(models),
                             discord__edit_interval=edit_interval,
                             defaults__timeouts={"connect": 5.0, "idle": 5.0, "total": 120.0})
        slowest = config.models[f"m{count - 1}"]
        async with aiohttp.ClientSession() as session:
            clients = ModelClients(config, session, environ=TEST_ENV)
            started = time.monotonic()
            async for _ in clients.stream(slowest, [ChatMessage("user", "baseline")]):
                pass
            baseline = time.monotonic() - started

        async with fresh_database("sqlite"):
            harness = await make_harness(config, TEST_ENV)
            try:
                started = time.monotonic()
                await harness.slash("open", question="Benchmark question")
                wall = time.monotonic() - started
                [thread] = harness.threads
                messages = harness.webhook_messages(thread.id)
                first_text = min(m.times[0] for m in messages) - started
                return Case(count, baseline, wall, first_text, len(messages), sum(m.edits for m in messages))
            finally:
                await harness.close()
    finally:
        await fake.stop()


async def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edit-interval", type=float, default=0.5, help="seconds between Discord calls per thread")
    parser.add_argument("--tokens", type=int, default=80, help="chunks each model streams")
    args = parser.parse_args()
    print(f"edit interval {args.edit_interval:g} s, {args.tokens} chunks per model, {TOKEN_INTERVAL * 1000:g} ms apart")
    print(f"{'models':>6} {'slowest alone':>13} {'round wall':>10} {'wall/slowest':>12} {'sum/slowest':>11} "
          f"{'first text':>10} {'creates':>7} {'edits':>5} {'calls/s':>7}")
    for count in (2, 4, 8):
        case = await run_case(count, args.tokens, args.edit_interval)
        sequential = sum(0.1 + 0.05 * i + args.tokens * TOKEN_INTERVAL for i in range(count))
        print(f"{case.models:>6} {case.baseline:>12.2f}s {case.wall:>9.2f}s {case.wall / case.baseline:>11.2f}x "
              f"{sequential / case.baseline:>10.2f}x {case.first_text:>9.2f}s {case.creates:>7} {case.edits:>5} "
              f"{case.calls_per_second:>7.2f}")
    print("wall/slowest near 1x means the models really ran concurrently; sum/slowest is what one-after-another "
          "would cost. The Discord calls grow with time and edit interval, not with tokens.")


if __name__ == "__main__":
    asyncio.run(main())
