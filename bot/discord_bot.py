"""The bot object: owns the shared services (HTTP session, model clients, database) and loads the cogs."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

import aiohttp
import discord
from discord.ext import commands

from bot.config import AppConfig
from bot.db.setup import close_database, open_database
from bot.llm.registry import ModelClients
from bot.secrets import Redactor

if TYPE_CHECKING:
    from cogs.orchestrator import Orchestrator

log = logging.getLogger(__name__)

EXTENSIONS = (
    "cogs.orchestrator", "cogs.ask", "cogs.open", "cogs.discuss", "cogs.mentions", "cogs.stop", "cogs.consensus",
    "cogs.export", "cogs.projects", "cogs.usage", "cogs.forget", "cogs.help", "cogs.errors",
)


def make_intents(config: AppConfig) -> discord.Intents:
    intents = discord.Intents.default()
    intents.message_content = config.discord.message_content_intent
    return intents


class MoaiBot(commands.AutoShardedBot):
    def __init__(self, config: AppConfig, *, environ: Mapping[str, str] | None = None,
                 manage_database: bool = True, **kwargs: object) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=make_intents(config),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            **kwargs,  # type: ignore[arg-type]
        )
        self.config = config
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.redact = Redactor.from_config(config, self.environ)
        self.manage_database = manage_database
        self.http_session: aiohttp.ClientSession | None = None
        self.models: ModelClients | None = None

    @property
    def orchestrator(self) -> Orchestrator:
        cog = self.get_cog("Orchestrator")
        if cog is None:
            raise RuntimeError("the orchestrator cog is not loaded")
        return cog  # type: ignore[return-value]

    async def setup_hook(self) -> None:
        # No connection cap here: each provider's own semaphore limits its concurrent requests.
        self.http_session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        self.models = ModelClients(self.config, self.http_session, environ=self.environ, redact=self.redact)
        if self.manage_database:
            await open_database(self.config.database.url)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if self.config.discord.sync_commands:
            await self.sync_commands()

    async def sync_commands(self) -> None:
        for guild_id in self.config.discord.dev_guild_ids:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        if not self.config.discord.dev_guild_ids:
            await self.tree.sync()

    async def on_ready(self) -> None:
        log.info("logged in as %s in %d guilds", self.user, len(self.guilds))

    async def close(self) -> None:
        await super().close()
        if self.http_session is not None:
            await self.http_session.close()
        if self.manage_database:
            await close_database()
