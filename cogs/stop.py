"""/stop: cancel the round running in this thread; partial answers are kept and marked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserError
from bot.policy import require_steer
from bot.services.budget import anyone_steers
from cogs.utils.send import NO_MENTIONS

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot


class Stop(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot

    @app_commands.command(name="stop", description="Stop the models answering in this discussion thread")
    @app_commands.guild_only()
    async def stop(self, interaction: discord.Interaction[MoaiBot]) -> None:
        runs = self.bot.services.runs
        channel_id = interaction.channel_id or 0
        asks = sorted(runs.in_channel(channel_id), key=lambda r: r.info.started_by != interaction.user.id)
        run = runs.get(channel_id) or (asks[0] if asks else None)  # a discussion, else an /ask (yours first)
        if run is None:
            raise UserError("Nothing is running in this channel. Use /stop inside a discussion thread "
                            "while the models are answering.")
        require_steer(run.discussion.created_by, interaction.user.id, action="stop",
                      manages_threads=interaction.permissions.manage_threads,
                      anyone=await anyone_steers(interaction.guild_id))
        await interaction.response.defer(thinking=True)
        await runs.stop(run.key)
        await interaction.followup.send(f"⏹️ Stopped by {interaction.user.display_name}. "
                                        "Partial answers are kept.", allowed_mentions=NO_MENTIONS)


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Stop(bot))
