"""The Discord front end's composition root: the bot owns the HTTP session, model clients, the core's services
and the delivery machinery, and loads every cog it finds in this package."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import os
import pkgutil
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import discord
from discord.ext import commands

from bot import metrics
from bot.charts import chart_palette
from bot.config import AppConfig, ConfigError
from bot.container import Services
from bot.db.setup import close_database, open_database
from bot.llm.registry import ModelClients
from bot.logs import log_event
from bot.ops_server import GatewayHealth, OpsServer
from bot.reload import Reloaded, reload_config
from bot.secrets import Redactor, learn_secrets
from bot.services.limit_stores import provider_limits
from cogs.delivery import ratelimits
from cogs.delivery.display import Screens
from cogs.delivery.lanes import WindowFor, window_for
from cogs.delivery.ratelimit_headers import HeaderWatch
from cogs.utils.tree import MoaiTree

log = logging.getLogger(__name__)

NOT_COGS = ("delivery", "utils")  # packages of helpers, not features


def walk_extensions() -> tuple[str, ...]:
    """Every cog of this package: its modules and feature packages that have a `setup`, skipping `_private`
    ones and the helper packages. A new feature is a new module here, nothing to register."""
    import cogs

    found = []
    for module in pkgutil.iter_modules(cogs.__path__, "cogs."):
        short = module.name.rpartition(".")[2]
        if short.startswith("_") or short in NOT_COGS:
            continue
        if inspect.isfunction(getattr(importlib.import_module(module.name), "setup", None)):
            found.append(module.name)
    return tuple(sorted(found))


def make_intents(config: AppConfig) -> discord.Intents:
    intents = discord.Intents.default()
    intents.message_content = config.discord.message_content_intent
    return intents


class MoaiBot(commands.AutoShardedBot):
    def __init__(self, config: AppConfig, *, environ: Mapping[str, str] | None = None,
                 manage_database: bool = True, config_path: Path | None = None,
                 rate_window: WindowFor = window_for, **kwargs: Any) -> None:
        rate_headers = HeaderWatch()
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=make_intents(config),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            tree_cls=MoaiTree,
            **{"http_trace": rate_headers.trace_config(), **kwargs},
        )
        self.rate_headers = rate_headers  # Discord's rate-limit headers, read off every answer for the pacing
        self.config = config
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.redact = Redactor.from_config(config, self.environ)
        self.manage_database = manage_database
        self.config_path = config_path  # re-read by SIGHUP and /admin reload
        self.http_session: aiohttp.ClientSession | None = None
        self._clients: ModelClients | None = None
        self._services: Services | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self.ops_server: OpsServer | None = None
        self._screens: Screens | None = None
        self._rate_window = rate_window  # each bucket's first guess, until Discord's headers say otherwise
        ratelimits.install()

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("services are built in setup_hook")
        return self._services

    @property
    def clients(self) -> ModelClients:
        if self._clients is None:
            raise RuntimeError("clients are built in setup_hook")
        return self._clients

    @property
    def screens(self) -> Screens:
        if self._screens is None:
            raise RuntimeError("screens are built in setup_hook")
        return self._screens

    async def setup_hook(self) -> None:
        # No connection cap here: each provider's own semaphore limits its concurrent requests.
        self.http_session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        clients = ModelClients(self.config, self.http_session, environ=self.environ, redact=self.redact,
                               limits=provider_limits(self.config))
        self._clients = clients
        self._services = Services.build(self.config, clients)
        self._screens = Screens(self.config.discord, self._services.store, self.rate_headers,
                                window_for=self._rate_window)
        self._screens.palette = chart_palette(self.config)
        if self.manage_database:
            await open_database(self.config.database.url)
        for extension in walk_extensions():
            await self.load_extension(extension)
        if self.config.metrics.port:
            self.ops_server = OpsServer(self.config.metrics.host, self.config.metrics.port, self.gateway_health,
                                        lag_interval=self.config.metrics.loop_lag_interval)
            try:
                await self.ops_server.start()
            except OSError as error:
                raise StartupFailed(f"metrics: cannot listen on {self.config.metrics.host}:"
                                    f"{self.config.metrics.port} ({error.strerror or error})") from None
        if self.config.discord.sync_commands:
            await self.sync_commands()
        if self.config_path is not None:
            self.reload_on_sighup()

    def gateway_health(self) -> GatewayHealth:
        """For /healthz: connected means logged in with every shard of this process up."""
        shards = {shard_id: (None if shard.is_closed() else shard.latency) for shard_id, shard in self.shards.items()}
        connected = self.is_ready() and not self.is_closed() and all(v is not None for v in shards.values())
        return GatewayHealth(connected, shards)

    def reload_on_sighup(self) -> None:
        """`kill -HUP <pid>` re-reads config.toml, like /admin reload (no-op where there are no signals)."""
        if hasattr(signal, "SIGHUP"):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._reload_on_signal)

    def _reload_on_signal(self) -> None:
        task = asyncio.get_running_loop().create_task(self._reload_logged(), name="moai-reload")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _reload_logged(self) -> None:
        try:
            await self.reload_config()
        except ConfigError:
            pass  # logged by reload_config

    async def reload_config(self) -> Reloaded:
        """Re-read config.toml (SIGHUP, /admin reload). A ConfigError leaves the running config untouched."""
        if self.config_path is None:
            raise ConfigError("this process was not started from a config file, so there is nothing to re-read")
        try:
            reloaded = await asyncio.to_thread(reload_config, self.config, self.config_path)
        except ConfigError as error:
            log_event(log, "config_reload_failed", logging.ERROR, error=str(error))
            metrics.CONFIG_RELOADS.labels("refused").inc()
            raise
        self.apply_config(reloaded.config)
        metrics.CONFIG_RELOADS.labels("applied").inc()
        log_event(log, "config_reloaded", changed=",".join(reloaded.changed) or "nothing",
                  needs_restart=",".join(reloaded.needs_restart), unpriced=",".join(reloaded.unpriced))
        return reloaded

    def apply_config(self, config: AppConfig) -> None:
        """New runs, commands and edits use `config`; running discussions are left as they are."""
        self.config = config
        self.redact.learn(learn_secrets(config, self.environ))
        if self._clients is not None:
            self._clients.reconfigure(config)
        if self._services is not None:
            self._services.reconfigure(config)
        if self._screens is not None:
            self._screens.pool.interval = config.discord.edit_interval
            self._screens.pool.creates.configured = config.discord.thread_creates_per_minute
            self._screens.webhooks.size = config.discord.webhooks_per_channel
            self._screens.palette = chart_palette(config)

    async def sync_commands(self) -> None:
        for guild_id in self.config.discord.dev_guild_ids:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        if not self.config.discord.dev_guild_ids:
            await self.tree.sync()

    async def on_ready(self) -> None:
        log.info("logged in as %s in %d guilds", self.user, len(self.guilds))

    async def shutdown_runs(self) -> None:
        """Stop every run of this process; their partial answers are kept and the next start offers Resume."""
        if self._services is not None:
            await self._services.runs.interrupt_all()
            if self._services.orchestrator.tagger is not None:
                await self._services.orchestrator.tagger.close()
        if self._screens is not None:
            self._screens.close()

    async def close(self) -> None:
        if hasattr(signal, "SIGHUP"):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        await self.shutdown_runs()
        await super().close()
        if self._clients is not None:
            await self._clients.limits.close()
        if self.ops_server is not None:
            await self.ops_server.close()
        if self.http_session is not None:
            await self.http_session.close()
        if self.manage_database:
            await close_database()


class StartupFailed(Exception):
    """Something of this machine's (a port, a file) stops the bot from starting; one line says what."""


class DiscordRefused(Exception):
    """Discord would not let the bot in, for a reason the owner fixes in config or the developer portal."""


def run_bot_until_closed(config: AppConfig, token: str, environ: Mapping[str, str], *,
                         config_path: Path | None = None, **shard_kwargs: Any) -> None:
    """Run the bot in this process until it is stopped; Discord's refusals become one-line DiscordRefused."""
    bot = MoaiBot(config, environ=environ, config_path=config_path, **shard_kwargs)
    try:
        bot.run(token, log_handler=None)
    except discord.LoginFailure:
        raise DiscordRefused(f"Discord rejected the token in {config.discord.token_env}; reset it in the developer "
                             "portal") from None
    except discord.PrivilegedIntentsRequired:
        raise DiscordRefused("message_content_intent = true in config.toml, but the Message Content intent is off "
                             "in the Discord developer portal (Bot > Privileged Gateway Intents)") from None
