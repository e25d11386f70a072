"""/stop and the Stop button: cancel the round running in this thread; partial answers are kept and marked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.roundtable import Stopping
from cogs.delivery.components import ACTIONS
from cogs.delivery.render import member_name
from cogs.delivery.send import NO_MENTIONS
from cogs.utils.errors import IdButton
from cogs.utils.threads import actor_of, require_here

if TYPE_CHECKING:
    from cogs.client import MoaiBot

async def stop_here(interaction: discord.Interaction[MoaiBot]) -> None:
    """Stop the discussion running in this channel, else an /ask there (the member's own first)."""
    async def accepted(_: Stopping) -> None:
        await interaction.response.defer(thinking=True)

    await interaction.client.services.roundtable.stop(interaction.channel_id or 0, actor_of(interaction), accepted)
    who = member_name(interaction.user.display_name)
    await interaction.followup.send(f"⏹️ Stopped by {who}. Partial answers are kept.",
                                    allowed_mentions=NO_MENTIONS)


class StopButton(IdButton, discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
                 template=ACTIONS["stop"].template.pattern):
    TEMPLATE = ACTIONS["stop"].template

    async def pressed(self, interaction: discord.Interaction[MoaiBot]) -> None:
        await require_here(interaction, self.target_id)
        await stop_here(interaction)


class Stop(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot

    @app_commands.command(name="stop", description="Stop the models answering in this discussion thread")
    @app_commands.guild_only()
    async def stop(self, interaction: discord.Interaction[MoaiBot]) -> None:
        await stop_here(interaction)


async def setup(bot: MoaiBot) -> None:
    bot.add_dynamic_items(StopButton)
    await bot.add_cog(Stop(bot))
