"""Streaming lanes through discord.py's real webhook client, against the REST emulator's limits and headers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest

from bot.config import AppConfig
from cogs.client import MoaiBot
from cogs.delivery import ratelimits
from cogs.delivery.lanes import Lane
from cogs.delivery.live import LiveMessage
from cogs.delivery.pacing import BucketReport, CreateBudget
from cogs.delivery.posters import WebhookPoster
from cogs.delivery.ratelimit_headers import HeaderWatch, webhook_key
from tests.conftest import TEST_ENV
from tests.discord_emulator import DiscordEmulator

pytestmark = pytest.mark.slow  # real rate-limit windows on the emulator: 2-4 s each

THREAD, OTHER_THREAD, CHANNEL = 111, 112, 222


class Webhooks:
    """A real aiohttp session carrying the header watch, as the bot's does, and moai's webhooks on the emulator."""

    def __init__(self, emulator: DiscordEmulator, session: aiohttp.ClientSession, headers: HeaderWatch) -> None:
        self.emulator, self.session, self.headers = emulator, session, headers

    def webhook(self) -> discord.Webhook:
        data = self.emulator.add_webhook(CHANNEL)
        return discord.Webhook.partial(int(data["id"]), data["token"], session=self.session)

    def lane(self, webhook: discord.Webhook, creates: CreateBudget | None = None, interval: float = 0.0) -> Lane:
        return Lane(webhook_key(webhook.id, webhook.token or ""), creates=creates or CreateBudget(30),
                    edit_interval=interval, headers=self.headers)


@pytest.fixture
async def hooks(discord_emulator: DiscordEmulator) -> AsyncIterator[Webhooks]:
    headers = HeaderWatch()
    async with aiohttp.ClientSession(trace_configs=[headers.trace_config()]) as session:
        yield Webhooks(discord_emulator, session, headers)


def poster(webhook: discord.Webhook, name: str, thread: int = THREAD) -> WebhookPoster:
    return WebhookPoster(webhook, discord.Object(thread), name, None, parent_id=CHANNEL)


async def stream(lives: list[LiveMessage], texts: list[str], steps: int, pause: float) -> None:
    for step in range(1, steps + 1):
        for live, text in zip(lives, texts, strict=True):
            live.update(text[: len(text) * step // steps], final=step == steps)
        await asyncio.sleep(pause)
    await asyncio.wait_for(asyncio.gather(*(live.wait_shown() for live in lives)), 30)


def busiest(calls: list[float], window: float) -> int:
    best, start = 0, 0
    for end, at in enumerate(calls):
        while at - calls[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_a_streamed_round_stays_inside_the_limits_and_shows_every_word(
        hooks: Webhooks, discord_emulator: DiscordEmulator, caplog: pytest.LogCaptureFixture) -> None:
    """Four models streaming for 2.5 s through one webhook, as fast as the headers allow: no 429, all text."""
    ratelimits.install()
    caplog.set_level(logging.WARNING)
    texts = [f"Model {n} says " + " ".join(f"word{i}" for i in range(120)) for n in range(4)]
    webhook = hooks.webhook()
    lane = hooks.lane(webhook)
    lives = [LiveMessage(poster(webhook, f"Model {n}"), lane) for n in range(4)]
    await stream(lives, texts, steps=25, pause=0.1)
    lane.close()
    assert discord_emulator.limited == []
    assert not [r for r in caplog.records if "429" in r.getMessage()]
    assert discord_emulator.texts_by_author(THREAD) == {f"Model {n}": texts[n] for n in range(4)}
    assert lane.stats.edits > 4  # progress was shown while streaming, not only the 4 final texts


async def test_pacing_follows_the_headers_strict_or_lenient(hooks: Webhooks, discord_emulator: DiscordEmulator) -> None:
    """No fixed interval: a stricter bucket is learned from the headers (no 429), a more lenient one is used."""
    results = {}
    for name, limit, window in (("strict", 2, 0.5), ("lenient", 10, 1.0)):
        discord_emulator.bucket_limit, discord_emulator.bucket_window = limit, window
        discord_emulator.calls.clear()
        webhook = hooks.webhook()
        lane = hooks.lane(webhook)
        lives = [LiveMessage(poster(webhook, f"{name} {n}"), lane) for n in range(3)]
        await stream(lives, [f"{name} {n} " + "text " * 200 for n in range(3)], steps=30, pause=0.05)
        lane.close()
        results[name] = busiest([at for at, _, _ in discord_emulator.calls], window)
        assert discord_emulator.limited == []
    assert results["strict"] <= 2  # in any half second
    assert results["lenient"] > 5  # in a second: more than Discord's default 5 per 2 s would allow


async def test_finished_answers_are_shown_first_come_first_served(hooks: Webhooks,
                                                                  discord_emulator: DiscordEmulator) -> None:
    """Six messages keep one webhook busy with progress; three finish one after another: shown in that order,
    each without waiting behind the progress edits."""
    webhook = hooks.webhook()
    lane = hooks.lane(webhook)
    lives = [LiveMessage(poster(webhook, f"M{n}"), lane) for n in range(6)]
    for step in range(20):  # everyone streaming: the bucket is saturated
        for n, live in enumerate(lives):
            live.update(f"M{n} " + "x" * (step + 1))
        await asyncio.sleep(0.05)
    finished_at = {}
    for n in (4, 1, 2):
        lives[n].update(f"M{n} final", final=True)
        finished_at[n] = asyncio.get_running_loop().time()
        await asyncio.sleep(0.02)
    for live in (lives[4], lives[1], lives[2]):
        await asyncio.wait_for(live.wait_shown(), 5)
    versions = {n: discord_emulator.messages[lives[n].message_ids[0]].versions for n in (4, 1, 2)}
    shown_at = {n: next(at for at, text in versions[n] if text == f"M{n} final") for n in versions}
    lane.close()
    assert sorted(shown_at, key=lambda n: shown_at[n]) == [4, 1, 2]
    assert max(shown_at[n] - finished_at[n] for n in shown_at) < 1.5
    assert discord_emulator.limited == []


async def test_an_answer_that_gets_shorter_loses_its_extra_message(hooks: Webhooks,
                                                                    discord_emulator: DiscordEmulator) -> None:
    """Streamed past 2,000 characters, then finished shorter (a stance block replaced by its line): the second
    message is deleted, so Discord shows exactly the final text."""
    webhook = hooks.webhook()
    lane = hooks.lane(webhook)
    live = LiveMessage(poster(webhook, "M"), lane)
    live.update("a" * 1990 + "\n\nSTANCE: yes, because " + "b" * 100)
    await asyncio.wait_for(live.wait_shown(), 5)
    assert len(live.message_ids) == 2
    live.update("a" * 1990 + "\n\n-# yes", final=True)
    await asyncio.wait_for(live.wait_shown(), 5)
    lane.close()
    assert len(live.message_ids) == 1
    assert discord_emulator.texts_by_author(THREAD) == {"M": "a" * 1990 + "\n\n-# yes"}


async def test_the_hidden_create_limit_is_never_tripped(hooks: Webhooks, discord_emulator: DiscordEmulator) -> None:
    """More messages than the thread may create in the window: the budget holds them back, none is lost."""
    discord_emulator.thread_creates, discord_emulator.create_window = 4, 1.5
    webhook = hooks.webhook()
    lane = hooks.lane(webhook, creates=CreateBudget(4, window=1.6))
    lives = [LiveMessage(poster(webhook, f"M{n}"), lane) for n in range(7)]
    for n, live in enumerate(lives):
        live.update(f"answer {n}", final=True)
    await asyncio.wait_for(asyncio.gather(*(live.wait_shown() for live in lives)), 10)
    lane.close()
    assert discord_emulator.limited == []
    assert discord_emulator.texts_by_author(THREAD) == {f"M{n}": f"answer {n}" for n in range(7)}


async def test_a_429_in_one_thread_does_not_freeze_the_others(hooks: Webhooks,
                                                             discord_emulator: DiscordEmulator) -> None:
    """Discord's hidden limit is stricter than configured: the thread that hits it waits, alone; discord.py
    would have slept out the minute holding the webhook that the other thread streams through."""
    discord_emulator.thread_creates = 2  # moai believes 30
    webhook = hooks.webhook()
    lane = hooks.lane(webhook)
    blocked = [LiveMessage(poster(webhook, f"A{n}"), lane) for n in range(3)]
    for n, live in enumerate(blocked):
        live.update(f"A{n} done", final=True)
    await asyncio.sleep(0.5)
    assert discord_emulator.hidden_429s() == 1
    other = LiveMessage(poster(webhook, "B", OTHER_THREAD), lane)
    started = asyncio.get_running_loop().time()
    for step in range(5):
        other.update("B " + "more " * step, final=step == 4)
        await asyncio.sleep(0.05)
    await asyncio.wait_for(other.wait_shown(), 3)
    assert asyncio.get_running_loop().time() - started < 3
    assert discord_emulator.texts_by_author(OTHER_THREAD) == {"B": "B " + "more " * 4}
    assert not blocked[2].message_ids  # still waiting for its thread's minute, not lost
    assert lane.creates is not None and lane.creates.limit == 2  # learned: Discord allowed two
    lane.close()


async def test_a_hidden_limit_shared_by_the_channel_is_learned_after_one_429(
        hooks: Webhooks, discord_emulator: DiscordEmulator) -> None:
    """Discord counts the hidden limit per parent channel (8 creates per 1.5 s for all its threads); moai
    believes 8 per thread. Five threads, three messages each: one hidden 429, then the budget counts per
    channel — no second 429, nothing lost, and the limit itself not lowered (it was never the thread's)."""
    discord_emulator.thread_creates, discord_emulator.create_window = 8, 1.5
    discord_emulator.hidden_scope = "parent"
    webhooks = [hooks.webhook() for _ in range(5)]  # spread over webhooks, as the pool does: no bucket waits
    creates = CreateBudget(8, window=1.6)
    lanes = [hooks.lane(w, creates=creates) for w in webhooks]
    lives = [LiveMessage(poster(webhooks[n % 5], f"M{n}", thread=1000 + n // 3), lanes[n % 5]) for n in range(15)]
    for n, live in enumerate(lives):
        live.update(f"answer {n}", final=True)
    await asyncio.wait_for(asyncio.gather(*(live.wait_shown() for live in lives)), 15)
    for lane in lanes:
        lane.close()
    assert discord_emulator.hidden_429s() == 1
    assert creates.wide(CHANNEL, time.monotonic()) and creates.limit == 8
    for n in range(15):
        assert discord_emulator.texts_by_author(1000 + n // 3)[f"M{n}"] == f"answer {n}"


async def test_a_dropped_connection_does_not_hang_the_display(hooks: Webhooks,
                                                             discord_emulator: DiscordEmulator) -> None:
    """The link drops mid-stream: the lane survives, later edits land, the message settles."""
    webhook = hooks.webhook()
    lane = hooks.lane(webhook, interval=0.05)
    live = LiveMessage(poster(webhook, "Model A"), lane)
    live.update("first words")
    await asyncio.wait_for(live.wait_shown(), 10)
    discord_emulator.drop_next = 1
    live.update("first words and more")
    await asyncio.sleep(0.3)
    live.update("first words and more, all of it", final=True)
    await asyncio.wait_for(live.wait_shown(), 10)
    lane.close()
    assert discord_emulator.messages[live.message_ids[0]].text == "first words and more, all of it"


async def test_a_server_error_does_not_hold_the_webhook(hooks: Webhooks, discord_emulator: DiscordEmulator) -> None:
    """A 502: discord.py would sleep a second (then 3, 5…) holding the webhook before retrying; the lane
    abandons the call, serves the others, and tries the message again itself."""
    webhook = hooks.webhook()
    lane = hooks.lane(webhook)
    first, second = LiveMessage(poster(webhook, "A"), lane), LiveMessage(poster(webhook, "B", OTHER_THREAD), lane)
    discord_emulator.fail_next = 1
    loop = asyncio.get_running_loop()
    began = loop.time()
    first.update("A's answer", final=True)
    second.update("B's answer", final=True)
    await asyncio.wait_for(asyncio.gather(first.wait_shown(), second.wait_shown()), 5)
    lane.close()
    assert loop.time() - began < 0.8
    assert discord_emulator.texts_by_author(THREAD) == {"A": "A's answer"}
    assert discord_emulator.texts_by_author(OTHER_THREAD) == {"B": "B's answer"}


async def test_discord_unreachable_settles_every_message(hooks: Webhooks, discord_emulator: DiscordEmulator) -> None:
    """Every connection drops: each message is given up after a few tries, so nothing waits forever."""
    discord_emulator.drop_next = 1000
    webhook = hooks.webhook()
    lane = hooks.lane(webhook)
    lives = [LiveMessage(poster(webhook, f"M{n}"), lane) for n in range(2)]
    for live in lives:
        live.update("never shown", final=True)
    await asyncio.wait_for(asyncio.gather(*(live.wait_shown() for live in lives)), 20)
    lane.close()
    assert all(live.gave_up for live in lives) and not discord_emulator.messages


async def test_the_emulator_enforces_the_bucket_and_the_hidden_create_limit(discord_emulator: DiscordEmulator) -> None:
    """The double is as hard as Discord (with its windows shortened): discord.py reads the bucket's headers and
    waits before a sixth call in the window; the hidden per-thread create limit gives no warning, only a 429
    with Discord's body, which discord.py waits out."""
    discord_emulator.bucket_window, discord_emulator.thread_creates, discord_emulator.create_window = 0.5, 7, 1.0
    data = discord_emulator.add_webhook(CHANNEL)
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as session:
        webhook = discord.Webhook.partial(int(data["id"]), data["token"], session=session)
        began = loop.time()
        for n in range(8):
            await webhook.send(f"m{n}", thread=discord.Object(THREAD), wait=True)
        took = loop.time() - began
    assert [(e.method, e.hidden) for e in discord_emulator.limited] == [("execute", True)]  # nothing warned of it
    assert took >= 0.9 and len(discord_emulator.messages) == 8  # waited for the bucket and the hidden window


async def test_the_bots_own_session_reports_the_headers(discord_emulator: DiscordEmulator, config: AppConfig) -> None:
    """In production the lanes hear Discord through the bot's HTTP session (discord.py's `http_trace`): a
    webhook made and used the way the bot does reports its bucket."""
    bot = MoaiBot(config, environ=TEST_ENV, manage_database=False)
    await bot.http.static_login("bot-token")
    try:
        data = await bot.http.create_webhook(CHANNEL, name="moai")
        webhook = discord.Webhook.from_state(data, bot._connection)
        reports: list[BucketReport] = []
        bot.rate_headers.listen(webhook_key(webhook.id, webhook.token or ""), reports.append)
        await webhook.send("hello", thread=discord.Object(THREAD), wait=True)
        assert [(r.status, r.limit, r.remaining) for r in reports] == [(200, 5, 4)]
    finally:
        await bot.http.close()

