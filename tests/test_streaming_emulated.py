"""The real bot streaming answers through discord.py's webhook client into the Discord REST emulator."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bot.config import AppConfig
from bot.db.models import BudgetHold, Discussion, Message
from bot.kinds import DiscussionStatus, MessageStatus
from bot.services.discussions import DiscussionStore
from tests.conftest import TEST_ENV, make_config
from tests.discord_emulator import DiscordEmulator
from tests.discord_harness import DiscordHarness, emulated_harness
from tests.fake_llm import FakeLLM, Script
from tests.helpers import eventually


async def stored_answers(thread_id: int) -> dict[str, str]:
    discussion = await Discussion.get(thread_id=thread_id)
    rows = await Message.filter(discussion=discussion, author_kind="model").order_by("id")
    names = {"gpt": "GPT", "claude": "Claude", "llama": "Llama"}
    joined: dict[str, str] = {}
    for row in rows:
        name = names.get(row.model_alias or "", row.model_alias or "")
        joined[name] = joined.get(name, "") + row.content
    return joined


def relaxed(fake: FakeLLM, **overrides: Any) -> AppConfig:
    """The suite's config with a 5 s idle timeout: a loaded CI machine can pause a stream past the usual 0.5 s,
    and these tests are about Discord's limits, not providers' timeouts."""
    return make_config(fake, defaults__timeouts={"connect": 2.0, "idle": 5.0, "total": 30.0}, **overrides)


@pytest.fixture
def config(fake_llm: FakeLLM) -> AppConfig:
    return relaxed(fake_llm)


async def test_answers_stream_as_edits(emulated: DiscordHarness, discord_emulator: DiscordEmulator,
                                       fake_llm: FakeLLM) -> None:
    text = "streaming " * 12
    fake_llm.script("gpt-test", Script(text=text, chunk_chars=10, token_interval=0.03))
    await emulated.slash("open", question="Stream please", models="gpt")
    [thread] = emulated.threads
    [message] = discord_emulator.in_channel(thread.id)
    versions = [shown for _, shown in message.versions]
    assert message.edits >= 3  # shown early, then edited as text arrived
    assert len(versions[0]) < len(text) and all(text.startswith(v) for v in versions)
    assert message.text == text and message.username == "GPT"
    assert all(m == {"parse": []} for m in emulated.webhook_messages(thread.id)[0].allowed_mentions)
    assert discord_emulator.limited == []


async def test_long_answer_continues_in_more_messages(emulated: DiscordHarness, discord_emulator: DiscordEmulator,
                                                      fake_llm: FakeLLM) -> None:
    code = "\n".join(f"x_{i} = {i}" for i in range(450))
    text = "Here is the code:\n```python\n" + code + "\n```\nThat is all."
    fake_llm.script("claude-test", Script(text=text, chunk_chars=400))
    await emulated.slash("open", question="Long one", models="claude")
    [thread] = emulated.threads
    messages = discord_emulator.in_channel(thread.id)
    assert len(messages) >= 3
    assert all(len(m.content) <= 2000 and not m.embeds for m in messages)
    assert all(m.content.count("```") % 2 == 0 for m in messages)
    assert messages[1].content.startswith("```python\n")
    row = await Message.get(model_alias="claude")
    assert row.content == text and row.discord_message_ids == [m.id for m in messages]


def eight_models(fake: FakeLLM, **overrides: Any) -> dict[str, Any]:
    models = {f"m{i}": {"provider": "fakeopenai", "model": f"model-{i}", "display_name": f"Model {i}"}
              for i in range(8)}
    for i in range(8):
        fake.script(f"model-{i}", Script(text=f"Model {i} thinks " + "so " * 150, chunk_chars=12,
                                         ttft=0.05 * i, token_interval=0.01))
    return {"models": models, "defaults__models": list(models), **overrides}


async def test_eight_models_stream_through_a_pool_of_webhooks(database: str, fake_llm: FakeLLM) -> None:
    config = relaxed(fake_llm, **eight_models(fake_llm))
    async with emulated_harness(config, TEST_ENV, bucket_window=0.5) as (harness, emulator):
        await harness.slash("open", question="Eight of you")
        [thread] = harness.threads
        by_webhook: dict[int | None, set[str]] = {}
        for message in emulator.in_channel(thread.id):
            by_webhook.setdefault(message.webhook_id, set()).add(message.username)
        assert len(by_webhook) == 4 and all(len(names) == 2 for names in by_webhook.values())
        assert emulator.limited == []
        discussion = await Discussion.get(thread_id=thread.id)
        rows = await Message.filter(discussion=discussion, author_kind="model")
        assert emulator.texts_by_author(thread.id) == {f"Model {r.model_alias[1:]}": r.content for r in rows}


async def test_a_busy_thread_puts_a_long_answer_in_one_embed(database: str, fake_llm: FakeLLM) -> None:
    """The thread's create budget is short: an answer past 2,000 characters is one embed, not two messages."""
    long = "A long answer. " * 200  # 3,000 characters
    fake_llm.script("gpt-test", Script(text=long, chunk_chars=50, token_interval=0.002))
    config = relaxed(fake_llm, discord__thread_creates_per_minute=10)
    async with emulated_harness(config, TEST_ENV, thread_creates=10, bucket_window=0.5) as (harness, emulator):
        await harness.slash("open", question="Long please")
        [thread] = harness.threads
        gpt = [m for m in emulator.in_channel(thread.id) if m.username == "GPT"]
        assert len(gpt) == 1 and gpt[0].content == "" and gpt[0].embeds[0]["description"] == long
        assert emulator.texts_by_author(thread.id) == await stored_answers(thread.id)
        assert emulator.limited == []


async def test_three_rounds_of_long_answers_stay_inside_the_hidden_limit(database: str, fake_llm: FakeLLM) -> None:
    """Plain splitting would need 18 creates in the thread; the budget (12) plans embeds instead: no 429."""
    for model in ("gpt-test", "claude-test", "llama-test"):
        fake_llm.script(model, Script(text=f"{model} argues. " + "point " * 500, chunk_chars=60,
                                      token_interval=0.001))
    config = relaxed(fake_llm, discord__thread_creates_per_minute=12)
    async with emulated_harness(config, TEST_ENV, thread_creates=12, bucket_window=0.5) as (harness, emulator):
        await harness.slash("discuss", topic="Three long rounds", rounds=3)
        [thread] = harness.threads
        assert emulator.limited == []
        assert len(emulator.in_channel(thread.id)) <= 12
        discussion = await Discussion.get(thread_id=thread.id)
        rows = await Message.filter(discussion=discussion, author_kind="model").count()
        assert rows == 9 and discussion.status == DiscussionStatus.COMPLETED


async def test_discord_unreachable_still_ends_the_round(database: str, fake_llm: FakeLLM) -> None:
    """Every webhook call drops its connection: the answers are stored, the run ends, its budget hold is given
    back and no lane is left behind."""
    config = relaxed(fake_llm, defaults__monthly_budget_usd=5.0, models__gpt__input_price=1.0,
                         models__gpt__output_price=2.0, models__claude__input_price=3.0,
                         models__claude__output_price=15.0, models__llama__input_price=0.5,
                         models__llama__output_price=0.5)
    for model in ("gpt-test", "claude-test", "llama-test"):
        fake_llm.script(model, Script(ttft=0.3))
    async with emulated_harness(config, TEST_ENV, drop_next=10_000) as (harness, emulator):
        await harness.slash("open", question="Into the void", models="gpt", wait=False)
        assert await BudgetHold.all().count() == 1
        await asyncio.wait_for(harness.bot.services.runs.wait_idle(), 30)
        [thread] = harness.threads
        discussion = await Discussion.get(thread_id=thread.id)
        assert discussion.status == DiscussionStatus.COMPLETED
        rows = await Message.filter(discussion=discussion, author_kind="model")
        assert len(rows) == 1 and rows[0].status == MessageStatus.COMPLETE
        assert await BudgetHold.all().count() == 0
        assert harness.bot.screens.pool.idle and not emulator.messages


async def test_a_slow_database_does_not_hold_up_discord(emulated: DiscordHarness, discord_emulator: DiscordEmulator,
                                                        fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every write that could sit beside Discord's calls takes 2 s (the checkpoints, which now carry the new
    messages' ids, and the round's last id save): the models' first messages do not queue behind them (queued,
    three would be 4 s apart; the bound leaves a loaded machine room)."""
    from bot.engine.checkpoints import Checkpoints

    remember, flush = DiscussionStore.remember_discord_messages, Checkpoints.flush

    async def slow_remember(self: DiscussionStore, row_id: int, ids: Any) -> None:
        await asyncio.sleep(2.0)
        await remember(self, row_id, ids)

    async def slow_flush(self: Checkpoints) -> None:
        await asyncio.sleep(2.0)
        await flush(self)

    monkeypatch.setattr(DiscussionStore, "remember_discord_messages", slow_remember)
    monkeypatch.setattr(Checkpoints, "flush", slow_flush)
    await emulated.slash("open", question="Slow disk")
    [thread] = emulated.threads
    created = [m.versions[0][0] for m in discord_emulator.in_channel(thread.id)]
    assert len(created) == 3 and max(created) - min(created) < 1.0
    rows = await Message.filter(author_kind="model")
    assert all(r.discord_message_ids for r in rows)


async def test_stop_while_the_round_is_set_up_leaks_nothing(emulated: DiscordHarness, fake_llm: FakeLLM) -> None:
    """/stop lands while the display is still finding the channel's webhooks: no lane is left taken."""
    http = emulated.bot.http
    listing = http.channel_webhooks
    started = asyncio.Event()

    async def slow_listing(channel_id: int) -> Any:
        started.set()
        await asyncio.sleep(0.5)
        return await listing(channel_id)

    http.channel_webhooks = slow_listing  # type: ignore[method-assign]
    await emulated.slash("open", question="Stop me early", wait=False)
    await asyncio.wait_for(started.wait(), 5)
    [thread] = emulated.threads
    await emulated.slash("stop", channel=thread)
    await emulated.bot.services.runs.wait_idle()
    assert emulated.bot.screens.pool.idle
    assert (await Discussion.get(thread_id=thread.id)).status == DiscussionStatus.CANCELLED
    assert not await Message.filter(author_kind="model", status=MessageStatus.STREAMING).exists()


async def test_a_round_waits_only_for_its_own_messages(emulated: DiscordHarness, discord_emulator: DiscordEmulator,
                                                       fake_llm: FakeLLM) -> None:
    """Two discussions in one channel share webhooks: the quick one ends while the slow one still streams."""
    fake_llm.script("claude-test", Script(text="slow " * 150, chunk_chars=5, token_interval=0.012))  # ~1.8 s
    fake_llm.script("gpt-test", Script(text="quick answer", chunk_chars=4))
    await emulated.slash("open", question="Slow one", models="claude", wait=False)
    started = time.monotonic()
    await emulated.slash("open", question="Quick one", models="gpt", wait=False)
    slow, quick = emulated.threads
    await eventually(lambda: not emulated.bot.services.runs.is_running(quick.id), within=2.0)
    assert time.monotonic() - started < 1.0
    assert emulated.bot.services.runs.is_running(slow.id)
    await emulated.bot.services.runs.wait_idle()
    assert discord_emulator.texts_by_author(slow.id) == {"Claude": "slow " * 150}
    assert discord_emulator.limited == []


async def test_the_same_model_in_concurrent_discussions_uses_different_webhooks(
        emulated: DiscordHarness, discord_emulator: DiscordEmulator, fake_llm: FakeLLM) -> None:
    """Three discussions at once in one channel: each model's three answers (which start and end together)
    go through three different webhooks of the pool, so none waits behind its twin."""
    all_open = asyncio.Event()  # the nine answers stream at once, however slowly a loaded machine starts them
    for model in ("gpt-test", "claude-test", "llama-test"):
        fake_llm.script(model, Script(text=f"{model} " + "words " * 60, chunk_chars=12, ttft=0.2,
                                      token_interval=0.01, gate=all_open))
    for n in range(3):
        await emulated.slash("open", question=f"Concurrent {n}", wait=False)
    await eventually(lambda: fake_llm.active_streams == 9, within=20)
    all_open.set()
    # wait_idle alone returned at once when the commands had not started their runs yet (it found none)
    deadline = time.monotonic() + 20
    while await Discussion.filter(status=DiscussionStatus.COMPLETED).count() < 3:
        assert time.monotonic() < deadline, "the three discussions did not finish"
        await asyncio.sleep(0.05)
    await emulated.bot.services.runs.wait_idle()
    webhooks_of: dict[str, set[int | None]] = {}
    for thread in emulated.threads:
        for message in discord_emulator.in_channel(thread.id):
            webhooks_of.setdefault(message.username, set()).add(message.webhook_id)
    assert {name: len(hooks) for name, hooks in webhooks_of.items()} == {"GPT": 3, "Claude": 3, "Llama": 3}
    assert discord_emulator.limited == []

