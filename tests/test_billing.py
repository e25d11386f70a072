"""Every token the provider bills is billed here too: a stopped or broken stream, whose usage never arrived,
is billed by moai's estimate from the text (marked as such); a database busy for a moment loses no answer and
no bill."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator

import pytest
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.queryset import QuerySet

from bot.db.models import Message, MonthlySpend, Spend
from bot.db.retry import persist, transient
from bot.estimate import estimate_tokens
from tests.conftest import TEST_ENV, make_config
from tests.discord_harness import DiscordHarness, make_harness
from tests.fake_llm import FakeLLM, Script
from tests.helpers import eventually

LONG = "word " * 300


@pytest.fixture
async def priced(database: str, fake_llm: FakeLLM) -> AsyncIterator[DiscordHarness]:
    config = make_config(fake_llm, models__gpt__input_price=1000.0, models__gpt__output_price=2000.0,
                         models__claude__input_price=3.0, models__claude__output_price=15.0)
    harness = await make_harness(config, TEST_ENV)
    yield harness
    await harness.close()


async def test_a_stopped_answer_bills_what_was_streamed(priced: DiscordHarness, fake_llm: FakeLLM) -> None:
    """It used to bill $0: a member could stop every run just before its end and never move the budget."""
    fake_llm.script("gpt-test", Script(text=LONG, chunk_chars=5, token_interval=0.02))
    fake_llm.script("claude-test", Script(text="fast answer", input_tokens=40, output_tokens=3))
    await priced.slash("open", question="Long?", models="gpt,claude", wait=False)
    [thread] = priced.threads
    await eventually(lambda: len(priced.answers_by_model(thread.id).get("GPT", "")) > 100)
    await priced.slash("stop", channel=thread)
    rows = {r.model_alias: r for r in await Spend.all()}
    gpt, claude = rows["gpt"], rows["claude"]
    answer = await Message.get(model_alias="gpt")
    assert answer.status == "cancelled" and len(answer.content) > 100
    assert gpt.estimated and answer.usage_estimated
    assert gpt.output_tokens == estimate_tokens(answer.content) and gpt.input_tokens > 0
    assert gpt.cost_usd == pytest.approx((gpt.input_tokens * 1000.0 + gpt.output_tokens * 2000.0) / 1e6)
    assert answer.cost_usd == pytest.approx(gpt.cost_usd)
    assert not claude.estimated and (claude.input_tokens, claude.output_tokens) == (40, 3)  # reported: as reported
    [month] = await MonthlySpend.all()
    assert month.total_usd == pytest.approx(gpt.cost_usd + claude.cost_usd)


@pytest.mark.parametrize("break_", ["reset_after_chunks", "error_after_chunks", "truncate_after_chunks"])
async def test_a_broken_stream_bills_what_was_streamed(priced: DiscordHarness, fake_llm: FakeLLM,
                                                       break_: str) -> None:
    fake_llm.script("claude-test", Script(text=LONG, chunk_chars=10, **{break_: 5}))  # type: ignore[arg-type]
    await priced.slash("open", question="Break?", models="claude")
    [row] = await Spend.all()
    answer = await Message.get(model_alias="claude")
    assert row.estimated and row.output_tokens == estimate_tokens(answer.content) > 0 and row.cost_usd > 0


async def test_a_request_refused_before_any_answer_bills_nothing(priced: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(status=400))
    await priced.slash("open", question="Refused?", models="gpt")
    assert await Spend.all().count() == 0


async def test_the_status_line_says_the_tokens_are_estimated(priced: DiscordHarness, fake_llm: FakeLLM) -> None:
    fake_llm.script("gpt-test", Script(text="an answer from a server that reports no usage", no_usage=True))
    await priced.slash("open", question="Estimate?", models="gpt")
    [thread] = priced.threads
    status = [m.content for m in priced.bot_messages(thread) if (m.content or "").startswith("-# Round")][-1]
    assert "tokens (estimated)" in status and "~" in status
    [row] = await Spend.all()
    assert row.estimated and row.output_tokens == estimate_tokens("an answer from a server that reports no usage")


async def test_a_checkpoint_on_a_busy_database_does_not_cut_the_answer(priced: DiscordHarness, fake_llm: FakeLLM,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite locked by another process for a few seconds: the checkpoint is skipped, the answer goes on."""
    priced.bot.services.orchestrator.runner.checkpoint_interval = 0.0
    real_update = QuerySet.update

    def update(self: QuerySet[Message], **values: object) -> object:
        if set(values) == {"content"}:  # the checkpoint's statement, and only it
            raise OperationalError(sqlite3.OperationalError("database is locked"))
        return real_update(self, **values)

    monkeypatch.setattr(QuerySet, "update", update)
    fake_llm.script("gpt-test", Script(text="a healthy answer " * 5, chunk_chars=5, input_tokens=9, output_tokens=4))
    await priced.slash("open", question="Busy?", models="gpt")
    monkeypatch.undo()
    answer = await Message.get(model_alias="gpt")
    assert answer.status == "complete" and answer.content == "a healthy answer " * 5
    [row] = await Spend.all()
    assert (row.input_tokens, row.output_tokens, row.estimated) == (9, 4, False)


async def test_persist_retries_transient_failures_only() -> None:
    calls: list[int] = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError(sqlite3.OperationalError("database is locked"))
        return "saved"

    assert await persist(flaky, "test") == "saved" and len(calls) == 3

    async def duplicate() -> None:
        raise IntegrityError("UNIQUE constraint failed")

    with pytest.raises(IntegrityError):
        await persist(duplicate, "test")
    assert transient(ConnectionResetError()) and transient(OperationalError(sqlite3.OperationalError("busy")))
    assert not transient(OperationalError(sqlite3.OperationalError("no such table: x")))
    assert not transient(ValueError("bug")) and not transient(IntegrityError("dup"))


async def test_a_postgres_connection_killed_mid_run_loses_no_answer_and_no_bill(
        database: str, fake_llm: FakeLLM) -> None:
    """A failover or a pooler restart kills the connections while a debate streams: the final writes retry."""
    import asyncpg

    from bot.db.models import Discussion
    from tests.db import POSTGRES_BASE
    from tests.helpers import eventually

    if not database.startswith("postgres"):
        pytest.skip("the connections killed are PostgreSQL's")
    config = make_config(fake_llm, models__gpt__input_price=1.0, models__gpt__output_price=1.0)
    harness = await make_harness(config, TEST_ENV)
    try:
        fake_llm.script("gpt-test", Script(text="steady " * 80, chunk_chars=7, token_interval=0.01))
        await harness.slash("open", question="Failover?", models="gpt", wait=False)
        [thread] = harness.threads
        await eventually(lambda: len(harness.answers_by_model(thread.id).get("GPT", "")) > 30)
        name = database.rsplit("/", 1)[1]
        admin = await asyncpg.connect(f"{POSTGRES_BASE.replace('postgres://', 'postgresql://')}/postgres")
        try:
            killed = await admin.fetchval("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                          "WHERE datname = $1 AND pid <> pg_backend_pid()", name)
        finally:
            await admin.close()
        assert killed >= 1
        await harness.bot.services.runs.wait_idle()
        answer = await Message.get(model_alias="gpt")
        assert answer.status == "complete" and answer.content == ("steady " * 80)
        assert (await Discussion.get(thread_id=thread.id)).status == "completed"
        assert await Spend.filter(model_alias="gpt").count() == 1
    finally:
        await harness.close()


async def test_a_refused_write_is_never_called_saved_and_the_hold_is_retried(database: str, fake_llm: FakeLLM,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk: the crash notice used to say "what was said so far is saved", and the hold stayed an hour."""
    from bot.db.models import BudgetHold
    from bot.services import runs

    monkeypatch.setattr(runs, "RELEASE_RETRY", 0.05)
    config = make_config(fake_llm, defaults__monthly_budget_usd=10.0, models__gpt__input_price=1.0,
                         models__gpt__output_price=1.0)
    harness = await make_harness(config, TEST_ENV)
    full = OperationalError(sqlite3.OperationalError("database or disk is full"))
    try:
        real_save = Message.save
        real_delete = QuerySet.delete
        failing = {"on": True}

        async def save(self: Message, *args: object, **kwargs: object) -> None:
            if failing["on"] and self.author_kind == "model":
                raise full
            await real_save(self, *args, **kwargs)  # type: ignore[arg-type]

        def delete(self: QuerySet[BudgetHold]) -> object:
            if failing["on"] and self.model is BudgetHold:
                raise full
            return real_delete(self)

        monkeypatch.setattr(Message, "save", save)
        monkeypatch.setattr(QuerySet, "delete", delete)
        await harness.slash("open", question="Disk full?", models="gpt")
        [thread] = harness.threads
        texts = [m.content or "" for m in harness.bot_messages(thread)]
        assert not any("What was said so far is saved" in t for t in texts)
        assert any("database refused a write" in t for t in texts)
        assert await BudgetHold.all().count() == 1  # the disk is full: it could not go yet
        failing["on"] = False  # space was freed

        for _ in range(100):
            if await BudgetHold.all().count() == 0:
                break
            await asyncio.sleep(0.05)
        assert await BudgetHold.all().count() == 0
    finally:
        monkeypatch.undo()
        await harness.close()
