"""The spend ledger: every billed call recorded apart from deletable content, budgets read from it, and
forgetting anonymises instead of refunding."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import discord
import pytest
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.connection import get_connection
from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

from bot.db.models import Cooldown, Discussion, Message, MonthlySpend, Spend
from bot.db.setup import TORTOISE_ORM, tortoise_config
from bot.services.ledger import month_key
from tests.conftest import TEST_ENV, make_config
from tests.db import database_url, drop_postgres_database, postgres_reachable
from tests.discord_harness import DiscordHarness, make_harness
from tests.fake_llm import FakeLLM, Script

ADMIN = discord.Permissions(manage_guild=True)


@pytest.fixture
async def priced(database: str, fake_llm: FakeLLM) -> AsyncIterator[DiscordHarness]:
    config = make_config(fake_llm, models__gpt__input_price=1000.0, models__gpt__output_price=2000.0,
                         models__claude__input_price=3.0, models__claude__output_price=15.0,
                         defaults__user_cooldown_seconds=3600.0)
    harness = await make_harness(config, TEST_ENV)
    yield harness
    await harness.close()


async def test_every_billed_answer_is_in_the_ledger(priced: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(input_tokens=100, output_tokens=50, reasoning="hm", reasoning_tokens=20))
    await priced.slash("open", question="Costs?", models="gpt,claude")
    rows = {r.model_alias: r for r in await Spend.all()}
    assert set(rows) == {"gpt", "claude"}
    gpt = rows["gpt"]
    assert (gpt.guild_id, gpt.user_id, gpt.provider) == (priced.guild.id, priced.member.id, "fakeopenai")
    assert (gpt.input_tokens, gpt.output_tokens, gpt.reasoning_tokens) == (100, 50, 20)
    assert gpt.cost_usd == pytest.approx(0.2)
    [month] = await MonthlySpend.all()
    assert month.total_usd == pytest.approx(sum(r.cost_usd for r in rows.values()))


async def test_forgetting_never_gives_money_or_time_back(priced: DiscordHarness, fake_llm: FakeLLM) -> None:
    """A member over budget (and in a cooldown) runs /forget me: the spend and the cooldown stay."""
    await priced.slash("budget", permissions=ADMIN, amount=2.5)
    fake_llm.script("gpt-test", Script(input_tokens=100, output_tokens=50))
    await priced.slash("open", question="One", models="gpt")
    await MonthlySpend.filter(guild_id=priced.guild.id).update(total_usd=2.0)  # a long month
    await priced.slash("forget me", confirm=True)
    assert await Message.all().count() == 0 and await Discussion.all().count() == 0
    [row] = await Spend.all()
    assert row.user_id is None and row.discussion_id is None and row.cost_usd == pytest.approx(0.2)
    assert await Cooldown.filter(user_id=priced.member.id).count() == 1
    call = await priced.slash("open", question="Again", models="gpt")
    assert call.ephemeral_texts[0].startswith("This server's monthly budget is $2.50; $2.00 is spent")
    usage = await priced.slash("usage")
    assert "$0.2000" in usage.ephemeral_texts[0]  # still counted, from the ledger


async def test_forget_discussion_keeps_its_spend(priced: DiscordHarness, fake_llm: FakeLLM) -> None:
    await priced.slash("open", question="Delete me", models="claude")
    [thread] = priced.threads
    await priced.slash("forget discussion", channel=thread, permissions=ADMIN, confirm=True)
    [row] = await Spend.all()
    assert row.discussion_id is None and row.user_id is None and row.guild_id == priced.guild.id


async def test_usage_per_member_reads_who_triggered_the_run(priced: DiscordHarness, fake_llm: FakeLLM) -> None:
    await priced.slash("open", question="Mine", models="gpt")
    mine = await priced.slash("usage", member=priced.member)
    assert "GPT: 1 answers" in mine.ephemeral_texts[0]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_history_moves_into_the_ledger(backend: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A database from before the ledger: this month's billed answers keep counting after the upgrade."""
    if backend == "postgres" and not postgres_reachable():
        pytest.skip("PostgreSQL not reachable")
    url = f"sqlite://{tmp_path / 'old.sqlite3'}" if backend == "sqlite" else database_url("postgres")


    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=tortoise_config(url), _create_db=True)
    try:
        executor = MigrationExecutor(get_connection("default"), TORTOISE_ORM["apps"])
        await executor.migrate([MigrationTarget("moai", "0004_stop_reason_reasoning")])
        client = get_connection("default")

        def values(count: int) -> str:
            return ", ".join("?" * count) if backend == "sqlite" else ", ".join(f"${i}" for i in range(1, count + 1))

        now = datetime.now(UTC)
        stamp = now.isoformat(sep=" ") if backend == "sqlite" else now
        await client.execute_query(f"INSERT INTO guild (discord_id, name, created_at) VALUES ({values(3)})",
                                   [77, "g", stamp])
        await client.execute_query(
            f"INSERT INTO discussion (guild_id, mode, status, question, models, rounds_planned, created_by, "
            f"created_at, updated_at) VALUES ({values(9)})", [1, "open", "completed", "q", "[]", 1, 5, stamp, stamp])
        await client.execute_query(
            f"INSERT INTO message (discussion_id, author_kind, author_name, model_alias, content, status, "
            f"input_tokens, output_tokens, discord_message_ids, cost_usd, created_at, updated_at) "
            f"VALUES ({values(12)})", [1, "model", "GPT", "gpt", "a", "complete", 10, 5, "[]", 1.25, stamp, stamp])
        await executor.migrate(None)
        [row] = await Spend.all()
        assert (row.guild_id, row.user_id, row.model_alias, row.cost_usd) == (77, 5, "gpt", 1.25)
        [month] = await MonthlySpend.all()
        assert (month.guild_id, month.month, month.total_usd) == (77, month_key(now), 1.25)
    finally:
        await Tortoise.close_connections()
        if backend == "postgres":
            await drop_postgres_database(url)
