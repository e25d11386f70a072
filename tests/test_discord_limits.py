"""Streaming into Discord through discord.py's real webhook client, against the REST emulator's limits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest

from cogs.utils import ratelimits
from cogs.utils.live import EditScheduler, LiveMessage, WebhookPoster
from tests.discord_emulator import DiscordEmulator

THREAD, CHANNEL = 111, 222


@pytest.fixture
async def emulator(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DiscordEmulator]:
    server = await DiscordEmulator(parent_of={THREAD: CHANNEL}).start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.base)
    yield server
    await server.stop()


async def stream(poster_of: list[WebhookPoster], scheduler: EditScheduler, texts: list[str], steps: int,
                 pause: float) -> list[LiveMessage]:
    lives = [LiveMessage(poster, scheduler) for poster in poster_of]
    for step in range(1, steps + 1):
        for live, text in zip(lives, texts, strict=True):
            live.update(text[: len(text) * step // steps], final=step == steps)
        await asyncio.sleep(pause)
    await asyncio.wait_for(scheduler.drain(), 30)
    return lives


async def test_a_streamed_round_stays_inside_the_limits_and_shows_every_word(emulator: DiscordEmulator,
                                                                             caplog: pytest.LogCaptureFixture) -> None:
    """Four models streaming for ~3 s into one thread at the default pace: no 429, Discord shows the text."""
    ratelimits.install()
    caplog.set_level(logging.WARNING)
    texts = [f"Model {n} says " + " ".join(f"word{i}" for i in range(120)) for n in range(4)]
    async with aiohttp.ClientSession() as session:
        webhook = discord.Webhook.partial(9001, "token", session=session)
        posters = [WebhookPoster(webhook, discord.Object(THREAD), f"Model {n}", None) for n in range(4)]
        scheduler = EditScheduler(0.5)
        lives = await stream(posters, scheduler, texts, steps=30, pause=0.1)
        scheduler.close()
    assert emulator.limited == []
    assert not [r for r in caplog.records if r.getMessage().startswith("discord_429")]
    shown = {emulator.messages[live.message_ids[0]].username: emulator.messages[live.message_ids[0]].content
             for live in lives}
    assert shown == {f"Model {n}": texts[n] for n in range(4)}


async def test_a_dropped_connection_does_not_hang_the_display(emulator: DiscordEmulator) -> None:
    """The link drops mid-stream: the edit worker survives, later edits land, drain() returns."""
    async with aiohttp.ClientSession() as session:
        webhook = discord.Webhook.partial(9002, "token", session=session)
        poster = WebhookPoster(webhook, discord.Object(THREAD), "Model A", None)
        scheduler = EditScheduler(0.05)
        live = LiveMessage(poster, scheduler)
        live.update("first words")
        await asyncio.wait_for(scheduler.drain(), 10)
        emulator.drop_next = 1
        live.update("first words and more")
        await asyncio.sleep(0.3)
        live.update("first words and more, all of it", final=True)
        await asyncio.wait_for(scheduler.drain(), 10)
        scheduler.close()
    assert emulator.messages[live.message_ids[0]].content == "first words and more, all of it"


async def test_the_emulator_enforces_the_bucket_and_the_hidden_create_limit(emulator: DiscordEmulator) -> None:
    """The double is as hard as Discord (with its windows shortened): discord.py reads the bucket's headers and
    waits before a sixth call in the window; the hidden per-channel create limit gives no warning, only a 429
    with Discord's body, which discord.py waits out."""
    emulator.bucket_window, emulator.channel_creates, emulator.channel_window = 0.5, 7, 1.0
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as session:
        webhook = discord.Webhook.partial(9003, "token", session=session)
        began = loop.time()
        for n in range(8):
            await webhook.send(f"m{n}", thread=discord.Object(THREAD), wait=True)
        took = loop.time() - began
    assert emulator.limited == [("execute", True)]  # the 8th create: hidden, so nothing warned of it
    assert took >= 0.9 and len(emulator.messages) == 8  # waited for the bucket and the hidden window
