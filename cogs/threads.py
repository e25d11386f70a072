"""Runs end with their thread: deleted, archived or locked by a moderator, the models stop (and stop costing)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.logs import log_event

if TYPE_CHECKING:
    from cogs.client import MoaiBot

log = logging.getLogger(__name__)


class ThreadWatch(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot

    async def _stop(self, thread_id: int, reason: str) -> None:
        if await self.bot.services.runs.stop(thread_id):
            log_event(log, "run_stopped", thread=thread_id, reason=reason)

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        await self._stop(payload.thread_id, "thread deleted")

    @commands.Cog.listener()
    async def on_raw_thread_update(self, payload: discord.RawThreadUpdateEvent) -> None:
        metadata = payload.data.get("thread_metadata") or {}
        if metadata.get("locked") or metadata.get("archived"):
            await self._stop(payload.thread_id, "thread locked" if metadata.get("locked") else "thread archived")


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(ThreadWatch(bot))
