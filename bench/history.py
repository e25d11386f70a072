"""History benchmark: what a round and a restart cost when the database holds millions of old messages.

Seeds `--messages` stored messages over 20-message discussions (raw multi-row inserts, for speed), then
measures, against baselines measured in the same run on an empty database:
- **transcript**: `load_turns` of one discussion (what every round reads). Target ≤ 5 ms at 2,000,000.
- **recovery**: `Recovery.mark_interrupted` of 100 discussions a crash left running (rounds and streaming
  rows included). Target ≤ 1 s.

    .venv/bin/python -m bench.history [--messages 2000000] [--db sqlite://...] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tortoise.context import require_context

from bot.db.models import Discussion, Guild
from bot.db.setup import close_database, open_database
from bot.engine.transcript import load_turns
from bot.kinds import DiscussionStatus
from bot.services.discussions import DiscussionStore
from bot.services.recovery import Recovery
from bot.services.runs import RunRegistry

GUILD = 777
PER_DISCUSSION = 20
BATCH = 500  # rows per INSERT statement


async def seed(messages: int, interrupted: int) -> None:
    """Discussions of PER_DISCUSSION messages (the last `interrupted` left mid-round), inserted in batches."""
    connection = require_context().connections.get("default")
    guild = await Guild.create(discord_id=GUILD, name="bench")
    discussions = max(1, messages // PER_DISCUSSION)
    first = (await Discussion.create(guild=guild, mode="discuss", question="seed", models=["a", "b"],
                                     status=DiscussionStatus.COMPLETED)).id
    stamp = "now()" if connection.capabilities.dialect == "postgres" else "CURRENT_TIMESTAMP"
    for start in range(1, discussions, BATCH):
        count = min(BATCH, discussions - start)
        status = lambda n: "running" if n >= discussions - interrupted else "completed"  # noqa: E731
        await connection.execute_script(
            "INSERT INTO discussion (id, guild_id, mode, status, question, models, rounds_planned, roles, "
            "rotate_roles, depth, blind_names, revealed, category, created_at, updated_at) VALUES " + ",".join(
                f"({first + n}, {guild.id}, 'discuss', '{status(n)}', 'q{n}', '[\"a\", \"b\"]', 1, '{{}}', false, "
                f"'fixed', '{{}}', true, 'other', {stamp}, {stamp})" for n in range(start, start + count)))
        await connection.execute_script(
            "INSERT INTO round (discussion_id, number, kind, status, started_at) VALUES " + ",".join(
                f"({first + n}, 1, 'discuss', '{'running' if status(n) == 'running' else 'completed'}', {stamp})"
                for n in range(start, start + count)))
        rows = []
        for n in range(start, start + count):
            for m in range(PER_DISCUSSION):
                state = "streaming" if status(n) == "running" and m == PER_DISCUSSION - 1 else "complete"
                rows.append(f"({first + n}, 'model', 'A', 'a', 'an answer of some length {m}', '{state}', '[]', '', "
                            f"false, {stamp}, {stamp})")
        for chunk in range(0, len(rows), BATCH):
            await connection.execute_script(
                "INSERT INTO message (discussion_id, author_kind, author_name, model_alias, content, status, "
                "discord_message_ids, reasoning, usage_estimated, created_at, updated_at) VALUES "
                + ",".join(rows[chunk:chunk + BATCH]))
    if connection.capabilities.dialect == "postgres":
        await connection.execute_script("SELECT setval(pg_get_serial_sequence('discussion', 'id'), "
                                        "(SELECT max(id) FROM discussion)); ANALYZE")


async def measure() -> dict[str, float]:
    one = await Discussion.filter(status=DiscussionStatus.COMPLETED).order_by("-id").first()
    assert one is not None
    reads = []
    for _ in range(20):
        began = time.perf_counter()
        await load_turns(one)
        reads.append(time.perf_counter() - began)
    recovery = Recovery(DiscussionStore(), RunRegistry(DiscussionStore()))
    began = time.perf_counter()
    marked = await recovery.mark_interrupted([GUILD])
    return {"transcript_ms": statistics.median(reads) * 1000, "recovery_s": time.perf_counter() - began,
            "recovered": len(marked)}


async def case(url: str, messages: int) -> dict[str, float]:
    await open_database(url, create=True)
    try:
        began = time.perf_counter()
        await seed(messages, 100)
        seeded = time.perf_counter() - began
        return {**await measure(), "seed_s": seeded, "messages": messages}
    finally:
        await close_database()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2_000_000)
    parser.add_argument("--db", help="a PostgreSQL URL (default: SQLite files in a temporary folder)")
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp())

    def url(name: str) -> str:
        return f"{options.db}_{name}" if options.db else f"sqlite://{folder / f'{name}.sqlite3'}"

    baseline = asyncio.run(case(url("baseline"), 4_000))
    full = asyncio.run(case(url("full"), options.messages))
    met = full["transcript_ms"] <= 5 and full["recovery_s"] <= 1 and full["recovered"] == 100
    result = {"baseline": baseline, "full": full, "transcript_ratio": full["transcript_ms"] / baseline["transcript_ms"],
              "met": met}
    if options.json:
        print(json.dumps(result))
    else:
        print(f"{full['messages']:,} messages (seeded in {full['seed_s']:.0f} s): transcript read "
              f"{full['transcript_ms']:.2f} ms (at 4,000: {baseline['transcript_ms']:.2f} ms, "
              f"{result['transcript_ratio']:.2f}x; target 5 ms), recovery of {full['recovered']} interrupted "
              f"discussions {full['recovery_s'] * 1000:.0f} ms (at 4,000: {baseline['recovery_s'] * 1000:.0f} ms; "
              "target 1 s)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
