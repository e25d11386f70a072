"""Two bot processes (shards 0 and 1) on one PostgreSQL: budgets and cooldowns hold across them."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import pytest

from bot.db.models import BudgetHold, Cooldown
from tests.conftest import REQUIRE_POSTGRES
from tests.db import fresh_database, postgres_reachable

ROOT = Path(__file__).resolve().parent.parent


async def run_shards(db_url: str, mode: str) -> list[int]:
    start_at = time.time() + 2.0  # both processes are up and connected by then, and fire together
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOAI_")}
    processes = [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.shard_worker", db_url, str(shard), str(start_at), mode, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE) for shard in (0, 1)]
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in processes)), timeout=60)
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err.decode()
    return [json.loads(out.decode().strip().splitlines()[-1])["won"] for out, _ in outputs]


@pytest.fixture
async def postgres_url():
    if not postgres_reachable():
        if REQUIRE_POSTGRES:
            pytest.fail("PostgreSQL is required (MOAI_REQUIRE_POSTGRES=1) but not reachable")
        pytest.skip("PostgreSQL not reachable")
    async with fresh_database("postgres") as url:
        yield url


async def test_budget_holds_across_processes(postgres_url: str) -> None:
    """Budget $5, each run may cost $1: of 24 simultaneous runs in two processes exactly 5 are admitted."""
    won = await run_shards(postgres_url, "budget")
    assert sum(won) == 5, won
    assert await BudgetHold.all().count() == 5


async def test_cooldown_holds_across_processes(postgres_url: str) -> None:
    """One user, 24 simultaneous runs from two processes, a 60 s cooldown: exactly one is admitted."""
    won = await run_shards(postgres_url, "cooldown")
    assert sum(won) == 1, won
    assert await Cooldown.all().count() == 1
