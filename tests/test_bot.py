"""The bot object as `moai run` builds it: sharded, mention-safe, every cog loaded, DB opened in setup_hook."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import aiohttp
import discord
import pytest
from aiohttp import web
from discord.ext import commands

from bot import metrics
from cogs.client import MoaiBot, walk_extensions
from cogs.delivery import ratelimits
from tests.conftest import TEST_ENV, make_config
from tests.fake_llm import FakeLLM


async def test_setup_hook_opens_database_and_loads_every_cog(tmp_path: Path, fake_llm: FakeLLM) -> None:
    db_file = tmp_path / "bot.sqlite3"
    config = make_config(fake_llm, database__url=f"sqlite://{db_file}")
    bot = MoaiBot(config, environ=TEST_ENV)
    assert isinstance(bot, commands.AutoShardedBot)
    assert bot.allowed_mentions is not None
    assert bot.allowed_mentions.to_dict() == discord.AllowedMentions.none().to_dict()
    assert not bot.intents.message_content and not bot.intents.members
    await bot._async_setup_hook()
    try:
        await bot.setup_hook()
        found = walk_extensions()
        assert set(bot.extensions) == set(found)
        assert {"cogs.ask", "cogs.open", "cogs.discuss", "cogs.mentions", "cogs.stop", "cogs.consensus", "cogs.export",
                "cogs.projects", "cogs.usage", "cogs.forget", "cogs.help", "cogs.reasoning", "cogs.threads",
                "cogs.admin", "cogs.arena"} <= set(found)
        assert {c.name for c in bot.tree.get_commands()} >= {"open", "ask", "stop"}
        assert bot.services.runs is bot.services.orchestrator.runs  # one registry behind every cog
        tables = {r[0] for r in sqlite3.connect(db_file).execute("select name from sqlite_master")}
        assert "discussion" in tables
    finally:
        await bot.close()
    assert bot.http_session is not None and bot.http_session.closed


def test_redactor_knows_the_token_and_keys(fake_llm: FakeLLM) -> None:
    bot = MoaiBot(make_config(fake_llm), environ=TEST_ENV)
    text = " ".join(TEST_ENV.values())
    assert bot.redact(text) == " ".join(["[redacted]"] * len(TEST_ENV))


async def test_a_discord_429_is_one_structured_log_line(monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    """Through discord.py's real webhook client: a 429 (with Discord's Via header) is waited out and logged."""
    calls: list[int] = []

    def discord_json(data: dict[str, object], status: int = 200, **headers: str) -> web.Response:
        """Discord answers with exactly `application/json` (discord.py compares the header verbatim)."""
        return web.Response(body=json.dumps(data).encode(), status=status,
                            headers={"Content-Type": "application/json", **headers})

    async def execute(request: web.Request) -> web.Response:
        calls.append(1)
        if len(calls) == 1:
            return discord_json({"message": "You are being rate limited.", "retry_after": 0.05, "global": False},
                                status=429, Via="1.1 google", **{"Retry-After": "1"})
        return discord_json({"id": "1", "channel_id": "2", "type": 0, "content": "hi", "embeds": [],
                                  "attachments": [], "mentions": [], "mention_roles": [], "pinned": False,
                                  "mention_everyone": False, "tts": False, "timestamp": "2026-01-01T00:00:00+00:00",
                                  "edited_timestamp": None, "flags": 0,
                                  "author": {"id": "3", "username": "moai", "discriminator": "0", "avatar": None}})

    app = web.Application()
    app.router.add_post("/api/v10/webhooks/{id}/{token}", execute)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{port}/api/v10")
    ratelimits.install()
    caplog.set_level(logging.INFO)
    before = metrics.DISCORD_429.labels("route")._value.get()
    try:
        async with aiohttp.ClientSession() as session:
            hook = discord.Webhook.partial(55, "token", session=session)
            await hook.send("hi", wait=True)
    finally:
        await runner.cleanup()
    assert len(calls) == 2
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("discord_429")]
    assert "route=55" in line and "retry_after_s=0.05" in line
    assert metrics.DISCORD_429.labels("route")._value.get() == before + 1
