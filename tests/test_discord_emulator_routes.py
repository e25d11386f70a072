"""The REST emulator's other routes, driven by discord.py's real HTTP client and webhook adapter: bot messages
paced by their channel's bucket, threads, channel webhooks, interaction responses and follow-ups."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import pytest
from discord.http import MultipartParameters, handle_message_parameters
from discord.webhook import async_ as webhook_async

from tests.discord_emulator import DiscordEmulator

CHANNEL, APPLICATION = 333, 444


@pytest.fixture
async def http(discord_emulator: DiscordEmulator) -> AsyncIterator[discord.http.HTTPClient]:
    """discord.py's own client, logged in against the emulator as the bot logs in against Discord."""
    client = discord.http.HTTPClient(asyncio.get_running_loop())
    await client.static_login("bot-token")
    yield client
    await client.close()


async def test_bot_messages_follow_the_channel_bucket(http: discord.http.HTTPClient,
                                                      discord_emulator: DiscordEmulator) -> None:
    """Five posts into a 3-per-second channel: discord.py reads Remaining 0 and waits; Discord never says 429."""
    discord_emulator.channel_limit, discord_emulator.channel_window = 3, 1.0
    loop = asyncio.get_running_loop()
    began = loop.time()
    ids = []
    for n in range(5):
        with handle_message_parameters(content=f"post {n}") as params:
            ids.append(int((await http.send_message(CHANNEL, params=params))["id"]))
    assert loop.time() - began >= 0.9 and discord_emulator.limited == []
    with handle_message_parameters(content="post 0, edited") as params:
        await http.edit_message(CHANNEL, ids[0], params=params)
    shown = [m.text for m in discord_emulator.in_channel(CHANNEL)]
    assert shown == ["post 0, edited"] + [f"post {n}" for n in range(1, 5)]


async def test_threads_and_channel_webhooks(http: discord.http.HTTPClient, discord_emulator: DiscordEmulator) -> None:
    thread = await http.start_thread_without_message(CHANNEL, name="A question", auto_archive_duration=1440, type=11)
    assert discord_emulator.parent_of[int(thread["id"])] == CHANNEL
    made = await http.create_webhook(CHANNEL, name="moai")
    assert [w["id"] for w in await http.channel_webhooks(CHANNEL)] == [made["id"]]
    assert made["token"] is not None
    webhook = discord.Webhook.partial(int(made["id"]), made["token"], session=http._HTTPClient__session)  # type: ignore[attr-defined]
    sent = await webhook.send("In the thread", username="GPT", thread=discord.Object(int(thread["id"])), wait=True)
    await webhook.edit_message(sent.id, content="In the thread, edited", thread=discord.Object(int(thread["id"])))
    assert discord_emulator.texts_by_author(int(thread["id"])) == {"GPT": "In the thread, edited"}
    for _ in range(15):  # Discord's cap per channel
        try:
            await http.create_webhook(CHANNEL, name="moai")
        except discord.HTTPException as error:
            assert error.code == 30007
            break
    assert len(await http.channel_webhooks(CHANNEL)) == 15


async def test_interaction_response_original_and_follow_ups(http: discord.http.HTTPClient,
                                                            discord_emulator: DiscordEmulator) -> None:
    """Deferred, then the answer edited into @original, then follow-ups (not webhook creates in a thread: the
    hidden limit does not apply to them)."""
    discord_emulator.thread_creates = 1
    discord_emulator.interactions["interaction-token"] = CHANNEL
    session = http._HTTPClient__session  # type: ignore[attr-defined]
    adapter = webhook_async.async_context.get()
    await adapter.create_interaction_response(
        555, "interaction-token", session=session,
        params=MultipartParameters(payload={"type": 5, "data": {}}, multipart=None, files=None))
    await adapter.edit_original_interaction_response(APPLICATION, "interaction-token", session=session,
                                                     payload={"content": "The answer"})
    followups = discord.Webhook.partial(APPLICATION, "interaction-token", session=session)
    for n in range(3):
        await followups.send(f"more {n}", wait=True)
    assert [m.text for m in discord_emulator.in_channel(CHANNEL)] == ["The answer", "more 0", "more 1", "more 2"]
    assert discord_emulator.limited == []
    with pytest.raises(discord.HTTPException):  # an interaction is answered once
        await adapter.create_interaction_response(
            555, "interaction-token", session=session,
            params=MultipartParameters(payload={"type": 5, "data": {}}, multipart=None, files=None))
