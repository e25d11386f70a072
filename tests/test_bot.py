"""The bot object as `moai run` builds it: sharded, mention-safe, every cog loaded, DB opened in setup_hook."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import discord
from discord.ext import commands

from bot.discord_bot import EXTENSIONS, MoaiBot
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
        assert set(bot.extensions) == set(EXTENSIONS)
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
