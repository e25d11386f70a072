"""/stop: cancel the round running in this thread; partial answers are kept and marked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.utils.actions import stop_here

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot


class Stop(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot

    @app_commands.command(name="stop", description="Stop the models answering in this discussion thread")
    @app_commands.guild_only()
    async def stop(self, interaction: discord.Interaction[MoaiBot]) -> None:
        await stop_here(interaction)


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Stop(bot))
