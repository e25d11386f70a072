"""Load benchmark: 500 concurrent model streams (100 discussions x 5 models) in one process.

The fake LLM server runs in a separate process; this process runs the real round engine, database writes
(SQLite file by default, or --db postgres://...), live message splitting and the display's lanes (one per
channel), posting to a stand-in for Discord that answers each call after --discord-latency seconds.

Reports event-loop lag (p50/p99, and as a ratio of the idle loop's lag measured in the same run), memory,
database writes per model answer, and Discord calls per channel. Target: p99 lag under 50 ms.

    .venv/bin/python -m bench.load [--discussions 100] [--models 5] [--db sqlite://...]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bot.config import AppConfig, parse_config
from bot.db.models import Discussion, DiscussionMode, RoundKind
from bot.db.setup import close_database, open_database
from bot.engine.rounds import Answer, ModelDelta, ModelFailed, ModelFinished, RoundEvent, RoundRunner
from bot.estimate import message_cost
from bot.llm.registry import ModelClients
from bot.llm.types import ChatMessage
from bot.seats import seats
from bot.services import ledger
from cogs.delivery.lanes import Lane
from cogs.delivery.live import LiveMessage
from cogs.delivery.posters import Chunk

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class FakeDiscordChannel:
    """Stands in for one channel's webhook: answers after a latency, records when each call landed."""

    latency: float
    key: str = ""
    calls: list[float] = field(default_factory=list)
    limit = 2000
    creates_in = None
    embeds = False

    async def send(self, chunk: Chunk) -> int:
        await asyncio.sleep(self.latency)
        self.calls.append(time.monotonic())
        return len(self.calls)

    async def remove(self, message_id: int) -> None:
        await self.edit(message_id, Chunk(""))

    async def edit(self, message_id: int, chunk: Chunk) -> None:
        await asyncio.sleep(self.latency)
        self.calls.append(time.monotonic())

    def busiest_window(self, seconds: float = 5.0) -> int:
        best, start = 0, 0
        for end, at in enumerate(self.calls):
            while at - self.calls[start] > seconds:
                start += 1
            best = max(best, end - start + 1)
        return best


class LagMonitor:
    """Schedules a wake-up every `period` and records how late it came: the event loop's lag."""

    def __init__(self, period: float = 0.01) -> None:
        self.period = period
        self.samples: list[float] = []

    async def run(self, seconds: float | None = None) -> None:
        until = time.monotonic() + seconds if seconds else None
        while until is None or time.monotonic() < until:
            expected = time.monotonic() + self.period
            await asyncio.sleep(self.period)
            self.samples.append(max(0.0, time.monotonic() - expected))

    def percentile(self, p: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


def rss_mb(field_name: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def bench_config(base_url: str, models: int, db_url: str) -> AppConfig:
    return parse_config({
        "database": {"url": db_url},
        "defaults": {"timeouts": {"connect": 10.0, "idle": 30.0, "total": 300.0}},
        "providers": {"fake": {"kind": "openai", "base_url": f"{base_url}/v1", "max_concurrency": 1024}},
        # Priced, so that every answer also writes its ledger row and moves the guild's month total, as in use.
        "models": {f"m{i}": {"provider": "fake", "model": f"model-{i}", "display_name": f"Model {i}",
                             "input_price": 1.0, "output_price": 2.0} for i in range(models)},
    })


async def run(args: argparse.Namespace) -> None:
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fake_llm", "--chunks", str(args.chunks), "--interval", str(args.interval),
        cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert server.stdout is not None and server.stdin is not None
    base_url = (await server.stdout.readline()).decode().strip()
    with tempfile.TemporaryDirectory() as tmp:
        db_url = args.db or f"sqlite://{tmp}/load.sqlite3"
        config = bench_config(base_url, args.models, db_url)
        await open_database(db_url)
        try:
            await measure(args, config)
        finally:
            await close_database()
            server.stdin.close()
            await asyncio.wait_for(server.wait(), timeout=10)


async def measure(args: argparse.Namespace, config: AppConfig) -> None:
    idle = LagMonitor()
    await idle.run(2.0)
    rss_before = rss_mb()
    panel = list(config.models.values())
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        runner = RoundRunner(ModelClients(config, session, environ={}))
        channels = [FakeDiscordChannel(args.discord_latency, f"webhook:{i}") for i in range(args.discussions)]
        schedulers = [Lane(channel.key, edit_interval=args.edit_interval) for channel in channels]

        async def discussion(index: int) -> None:
            row = await Discussion.create(mode=DiscussionMode.OPEN, question=f"load {index}",
                                          models=[m.alias for m in panel])
            lives = {m.alias: LiveMessage(channels[index], schedulers[index]) for m in panel}

            def show(event: RoundEvent) -> None:
                if isinstance(event, ModelDelta):
                    lives[event.alias].update(event.text)
                elif isinstance(event, ModelFinished | ModelFailed):
                    lives[event.alias].update(event.text, final=True)

            async def bill(answer: Answer) -> None:
                cost = message_cost(answer.model, answer.usage)
                if cost is not None:
                    await ledger.record(ledger.Payer(index, 1), row.id, answer.model, answer.usage, cost)
                    ledger_writes.append(2 if cost else 1)  # the spend row, and the month total when it moved

            result = await runner.run(row, RoundKind.OPEN, seats(panel), lambda m: [ChatMessage("user", "go")], show,
                                      bill)
            await schedulers[index].drain()
            failures.extend(a.error for a in result.answers if a.error)

        failures: list[str | None] = []
        ledger_writes: list[int] = []
        loaded = LagMonitor()
        monitor = asyncio.create_task(loaded.run())
        started = time.monotonic()
        await asyncio.gather(*(discussion(i) for i in range(args.discussions)))
        elapsed = time.monotonic() - started
        monitor.cancel()
        for scheduler in schedulers:
            scheduler.close()

    streams = args.discussions * args.models
    calls = [len(c.calls) for c in channels]
    p50, p99 = loaded.percentile(0.5), loaded.percentile(0.99)
    idle_p99 = max(idle.percentile(0.99), 1e-4)
    print(f"{streams} streams ({args.discussions} discussions x {args.models} models), {args.chunks} chunks each "
          f"every {args.interval * 1000:g} ms, DB {config.database.url.split('://')[0]}, finished in {elapsed:.1f} s")
    print(f"failed answers:          {len(failures)}")
    print(f"event-loop lag p50/p99:  {p50 * 1000:.1f} / {p99 * 1000:.1f} ms   (idle loop p99 "
          f"{idle_p99 * 1000:.2f} ms; loaded/idle p99 = {p99 / idle_p99:.0f}x)  target p99 < 50 ms: "
          f"{'met' if p99 < 0.05 else 'NOT met'}")
    print(f"memory RSS:              {rss_before:.0f} MB before, {rss_mb('VmHWM'):.0f} MB peak")
    writes = runner.stats.db_writes + sum(ledger_writes)
    print(f"DB writes:               {writes} for {runner.stats.deltas} streamed chunks "
          f"({writes / streams:.1f} per answer, of which {sum(ledger_writes) / streams:.1f} ledger; "
          f"{runner.stats.deltas / writes:.0f} chunks per write)")
    print(f"Discord calls/channel:   mean {statistics.mean(calls):.1f}, max {max(calls)}; "
          f"{statistics.mean(calls) / elapsed:.2f}/s per channel; busiest 5 s window "
          f"{max(c.busiest_window() for c in channels)} calls")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--discussions", type=int, default=100)
    parser.add_argument("--models", type=int, default=5)
    parser.add_argument("--chunks", type=int, default=120, help="chunks each model streams")
    parser.add_argument("--interval", type=float, default=0.025, help="seconds between chunks (40 tokens/s)")
    parser.add_argument("--edit-interval", type=float, default=0.5)
    parser.add_argument("--discord-latency", type=float, default=0.05)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
