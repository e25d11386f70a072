"""Two bot processes (shards 0 and 1) on one PostgreSQL: budgets and cooldowns hold across them."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import pytest

from bot.db.models import BudgetHold, Cooldown, Discussion, MonthlySpend, ProviderLease, Spend
from bot.kinds import DiscussionMode, DiscussionStatus
from tests.conftest import REQUIRE_POSTGRES
from tests.db import fresh_database, postgres_reachable, redis_test_url
from tests.fake_llm import FakeLLM, Script

pytestmark = pytest.mark.slow  # real bot processes: 2-4 s each

ROOT = Path(__file__).resolve().parent.parent


async def run_shards(db_url: str, mode: str, llm_url: str = "http://127.0.0.1:9/v1", redis_url: str = "") -> list[int]:
    start_at = time.time() + 2.0  # both processes are up and connected by then, and fire together
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOAI_")}
    processes = [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.shard_worker", db_url, str(shard), str(start_at), mode, llm_url, redis_url,
        cwd=ROOT, env=env,
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


async def test_ledger_totals_hold_across_processes(postgres_url: str) -> None:
    """24 billed calls at once from two processes: every one in the ledger and in the month's total."""
    await run_shards(postgres_url, "ledger")
    assert await Spend.all().count() == 24
    [month] = await MonthlySpend.all()
    assert month.total_usd == pytest.approx(24 * 0.25)


async def test_resume_is_claimed_once_across_processes(postgres_url: str) -> None:
    """24 simultaneous Resume/continue claims of one interrupted discussion from two processes: one wins."""
    await Discussion.create(mode=DiscussionMode.DISCUSS, question="q", status=DiscussionStatus.INTERRUPTED)
    won = await run_shards(postgres_url, "claim")
    assert sum(won) == 1, won


@pytest.mark.parametrize("shared_through", ["postgres", "redis"])
async def test_provider_concurrency_holds_across_processes(postgres_url: str, fake_llm: FakeLLM,
                                                           shared_through: str) -> None:
    """max_concurrency 2, 24 simultaneous requests from two processes: never more than 2 at the provider."""
    redis_url = ""
    if shared_through == "redis":
        redis_url = await redis_test_url()
    fake_llm.default = Script(text="ok", ttft=0.05, chunk_chars=1, token_interval=0.01)
    won = await run_shards(postgres_url, "limits", fake_llm.openai_url, redis_url)
    assert sum(won) == 24, won
    assert fake_llm.peak_streams == 2
    assert await ProviderLease.all().count() == 0  # every lease given back


async def test_a_due_reminder_is_posted_once_across_processes_and_after_a_kill(postgres_url: str) -> None:
    """Two processes race for one due question's reminder: one claims it. A process killed after claiming
    (SIGKILL: nothing cleaned up) leaves it to be claimed again once its claim lapses, and only then."""
    import signal
    from datetime import timedelta

    from tortoise.timezone import now

    from bot.db.models import Guild, Prediction

    guild = await Guild.create(discord_id=4242, name="g")
    discussion = await Discussion.create(guild=guild, mode=DiscussionMode.PREDICT, question="q")
    due = await Prediction.create(discussion=discussion, guild_id=4242, outcomes=["Yes", "No"],
                                  resolves_at=now() - timedelta(seconds=1), closes_at=now() - timedelta(hours=1))
    won = await run_shards(postgres_url, "remind")
    assert sorted(won) == [0, 1]  # exactly one process of two, each racing twelve times
    assert (await Prediction.get(id=due.id)).reminded_at is not None

    second = await Prediction.create(discussion=discussion, guild_id=4242, outcomes=["Yes", "No"],
                                     resolves_at=now() - timedelta(seconds=1), closes_at=now())
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOAI_")}
    dying = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.shard_worker", postgres_url, "0", str(time.time()), "remind-and-die",
        "http://127.0.0.1:9/v1", "", cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    assert dying.stdout is not None
    line = await asyncio.wait_for(dying.stdout.readline(), timeout=30)
    assert json.loads(line) == {"claimed": second.id}
    dying.send_signal(signal.SIGKILL)
    await dying.wait()
    assert (await Prediction.get(id=second.id)).reminded_at is None
    assert sum(await run_shards(postgres_url, "remind")) == 0  # its claim still holds
    await Prediction.filter(id=second.id).update(reminder_until=now() - timedelta(seconds=1))  # a minute later
    assert sorted(await run_shards(postgres_url, "remind")) == [0, 1]
    assert (await Prediction.get(id=second.id)).reminded_at is not None


async def test_a_member_limit_holds_across_processes(postgres_url: str) -> None:
    """One member, a $3 monthly limit, 24 simultaneous $1 runs from two processes: exactly 3 are admitted."""
    from bot.kinds import LimitScope
    from bot.services.budget import set_member_limit

    await set_member_limit(4242, LimitScope.MEMBER, 7, 3.0)
    won = await run_shards(postgres_url, "member")
    assert sum(won) == 3, won
    assert await BudgetHold.filter(user_id=7).count() == 3
