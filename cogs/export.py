"""/export: the whole discussion as a Markdown, HTML or JSON file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from cogs.utils.actions import export_file

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot


class Export(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot

    @app_commands.command(name="export", description="Download this discussion as a file")
    @app_commands.describe(format="md (default), html or json")
    @app_commands.guild_only()
    async def export(self, interaction: discord.Interaction[MoaiBot],
                     format: Literal["md", "html", "json"] = "md") -> None:
        await export_file(interaction, format)


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Export(bot))
