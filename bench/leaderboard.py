"""Leaderboard benchmark: /leaderboard's work (query, style-controlled Bradley-Terry fit and the raw one,
200 bootstrap resamples, answer statistics) over thousands of stored votes, on an SQLite file by default.

Baseline, measured in the same run: reading the same vote rows alone. Target: well under a second.

    .venv/bin/python -m bench.leaderboard [--votes 5000] [--models 8] [--db sqlite://...] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from tortoise.timezone import now

from bot.config import parse_config
from bot.db.models import Discussion, DiscussionMode, Guild, Message, MessageStatus, Round, RoundKind, Vote, VoteRound
from bot.db.setup import close_database, open_database
from bot.kinds import AuthorKind
from bot.services.arena import ArenaService, BoardScope

GUILD = 4242


async def seed(votes: int, models: list[str], rng: random.Random) -> None:
    guild = await Guild.create(discord_id=GUILD, name="bench")
    strength = {m: rng.uniform(-0.5, 0.5) for m in models}
    discussion = await Discussion.create(guild=guild, mode=DiscussionMode.OPEN, question="q", models=models)
    per_round = 5  # members voting on each round
    for start in range(0, votes, per_round):
        round_ = await Round.create(discussion=discussion, number=start // per_round + 1, kind=RoundKind.OPEN)
        seated = rng.sample(models, 3)
        await Message.bulk_create([Message(discussion=discussion, round=round_, author_kind=AuthorKind.MODEL,
                                           author_name=m, model_alias=m, status=MessageStatus.COMPLETE,
                                           latency_ms=rng.randint(500, 5000), cost_usd=0.001) for m in seated])
        styles = [[rng.uniform(100, 4000), rng.randint(0, 3), rng.randint(0, 12), rng.randint(0, 8)] for _ in seated]
        row = await VoteRound.create(round=round_, discussion=discussion, guild_id=GUILD, answered=seated,
                                     labels=seated, closes_at=now(), closed_at=now(), styles=styles)
        weights = [10 ** strength[m] for m in seated]
        await Vote.bulk_create([Vote(vote_round=row, user_id=user, choice=rng.choices(seated, weights)[0])
                                for user in range(min(per_round, votes - start))])


async def main(args: argparse.Namespace) -> dict[str, float]:
    url = args.db or f"sqlite://{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    await open_database(url, create=True)
    try:
        models = [f"m{i}" for i in range(args.models)]
        await seed(args.votes, models, random.Random(1))
        config = parse_config({"providers": {"p": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1"}},
                               "models": {m: {"provider": "p", "model": m} for m in models}})
        arena = ArenaService(config)
        baseline, board, raw = [], [], []
        for _ in range(5):
            began = time.perf_counter()
            await Vote.all().values("vote_round_id", "choice")
            baseline.append(time.perf_counter() - began)
            began = time.perf_counter()
            result = await arena.board(GUILD)
            board.append(time.perf_counter() - began)
            began = time.perf_counter()
            await arena.board(GUILD, BoardScope(raw=True))
            raw.append(time.perf_counter() - began)
        assert result.ballots == args.votes and result.style
        return {"votes": args.votes, "models": args.models, "board_s": statistics.median(board),
                "raw_board_s": statistics.median(raw), "read_votes_s": statistics.median(baseline),
                "ratio": statistics.median(board) / statistics.median(baseline)}
    finally:
        await close_database()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=5000)
    parser.add_argument("--models", type=int, default=8)
    parser.add_argument("--db")
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    found = asyncio.run(main(options))
    if options.json:
        print(json.dumps(found))
    else:
        print(f"{found['votes']} votes, {found['models']} models: leaderboard {found['board_s'] * 1000:.0f} ms "
              f"(median of 5; raw {found['raw_board_s'] * 1000:.0f} ms), "
              f"reading the votes alone {found['read_votes_s'] * 1000:.0f} ms "
              f"-> {found['ratio']:.1f}x")
