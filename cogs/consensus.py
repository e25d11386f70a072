"""/consensus: a moderator model synthesises the thread; optionally the models peer-review each other first."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.utils.actions import start_consensus

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot


class Consensus(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot

    @app_commands.command(name="consensus", description="A moderator model sums up where the models agree and differ")
    @app_commands.describe(peer_review="First let each model rank the others' answers, anonymised")
    @app_commands.guild_only()
    async def consensus(self, interaction: discord.Interaction[MoaiBot], peer_review: bool = False) -> None:
        await start_consensus(interaction, peer_review=peer_review)


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Consensus(bot))
