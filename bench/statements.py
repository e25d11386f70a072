"""Database statements per answer at 10 s, 60 s and 300 s answers (issue 25, item 3).

One discussion of eight priced models streams answers of each length (40 tokens a second, about 160
characters; a new Discord message per 2,000 characters, as the display posts a long answer) through the real
round engine, checkpoints, spend ledger and database (a temporary SQLite file, and PostgreSQL with --db).
Every statement Tortoise sends is counted as the database receives it (tests/statements.py) and sorted
into an answer's own statements (its row, its bill, its final save, its round's share) and the checkpoint
statements all streaming answers share. Time runs --speed times faster than real (chunks and checkpoint
interval alike), so the counts are those of real time.

    .venv/bin/python -m bench.statements [--models 8] [--speed 10] [--db postgres://...]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from dataclasses import dataclass

import aiohttp

from bot.config import AppConfig, parse_config
from bot.db.models import Discussion, DiscussionMode, RoundKind
from bot.db.setup import close_database, open_database
from bot.engine.rounds import Answer, ModelDelta, RoundEvent, RoundRunner
from bot.llm.registry import ModelClients
from bot.llm.types import ChatMessage, Usage
from bot.seats import seats
from bot.services import ledger
from tests.fake_llm import FakeLLM, Script
from tests.statements import counting_statements

CHECKPOINT_INTERVAL = 2.0  # the engine's default, seconds of real time
CHUNK_SECONDS = 0.25  # 10 tokens of about 4 characters: 40 tokens a second
CHUNK_CHARS = 40
DISCORD_MESSAGE = 2000


@dataclass(frozen=True)
class Count:
    seconds: int
    messages_per_answer: int
    own_per_answer: float
    checkpoints: int
    intervals: float

    @property
    def earlier_design(self) -> float:
        """The same answer before batching: a checkpoint per answer per interval and a statement per message."""
        return self.own_per_answer + self.intervals + self.messages_per_answer


def bench_config(base_url: str, models: int, db_url: str) -> AppConfig:
    return parse_config({
        "database": {"url": db_url},
        "defaults": {"timeouts": {"connect": 10.0, "idle": 60.0, "total": 900.0}},
        "providers": {"fake": {"kind": "openai", "base_url": f"{base_url}/v1", "max_concurrency": 64}},
        "models": {f"m{i}": {"provider": "fake", "model": f"model-{i}", "input_price": 1.0, "output_price": 2.0}
                   for i in range(models)},
    })


async def one_length(fake: FakeLLM, config: AppConfig, seconds: int, speed: float) -> Count:
    chunks = int(seconds / CHUNK_SECONDS)
    panel = list(config.models.values())
    for model in panel:
        fake.script(model.model, Script(text="x" * (chunks * CHUNK_CHARS), chunk_chars=CHUNK_CHARS,
                                        token_interval=CHUNK_SECONDS / speed, ttft=0.0))
    async with aiohttp.ClientSession() as session:
        runner = RoundRunner(ModelClients(config, session, environ={}), checkpoint_interval=CHECKPOINT_INTERVAL / speed)
        discussion = await Discussion.create(mode=DiscussionMode.OPEN, question=f"{seconds} s")
        await ledger.record(ledger.Payer(1, 1), discussion.id, panel[0], Usage(), 0.001)  # the month's row exists
        streaming: dict[str, Answer] = {}

        def show(event: RoundEvent) -> None:  # the display: one more Discord message per 2,000 characters
            if isinstance(event, ModelDelta):
                answer = streaming[event.alias]
                answer.shown_in = list(range(1 + len(event.text) // DISCORD_MESSAGE))

        async def bill(answer: Answer) -> None:
            await ledger.record(ledger.Payer(1, 1), discussion.id, answer.model, answer.usage, 0.001)

        with counting_statements() as statements:
            round_, answers = await runner.start_round(discussion, RoundKind.OPEN, seats(panel))
            streaming.update((a.model.alias, a) for a in answers)
            await runner.play(round_, answers, lambda seat: [ChatMessage("user", "go")], show, bill)
    checkpoints = len(statements.matching('UPDATE "message"', "CASE"))
    own = len(statements.sql) - checkpoints
    return Count(seconds, 1 + chunks * CHUNK_CHARS // DISCORD_MESSAGE, own / len(panel), checkpoints,
                 seconds / CHECKPOINT_INTERVAL)


async def run(args: argparse.Namespace) -> None:
    fake = await FakeLLM().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db_url = args.db or f"sqlite://{tmp}/statements.sqlite3"
            config = bench_config(fake.openai_url.removesuffix("/v1"), args.models, db_url)
            await open_database(db_url)
            try:
                counts = [await one_length(fake, config, seconds, args.speed) for seconds in (10, 60, 300)]
            finally:
                await close_database()
    finally:
        await fake.stop()
    print(f"{args.models} models per round, DB {db_url.split('://')[0]}, checkpoint every {CHECKPOINT_INTERVAL:g} s, "
          f"time x{args.speed:g}")
    print("| answer | Discord messages | own statements per answer | checkpoint statements (all answers) | "
          "per interval | earlier design, per answer |")
    print("| --- | --- | --- | --- | --- | --- |")
    for c in counts:
        print(f"| {c.seconds} s | {c.messages_per_answer} | {c.own_per_answer:.2f} | {c.checkpoints} | "
              f"{c.checkpoints / c.intervals:.2f} | {c.earlier_design:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=8)
    parser.add_argument("--speed", type=float, default=10.0, help="how much faster than real time")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
