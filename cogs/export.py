"""/export: the whole discussion as a Markdown, HTML or JSON file."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.export import export
from cogs.utils.send import NO_MENTIONS

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot
    from bot.services.discussions import Discussion


def file_name(discussion: Discussion, fmt: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", discussion.question.lower())[:40].strip("-") or "discussion"
    return f"moai-{discussion.id}-{slug}.{fmt}"


class Export(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot

    @app_commands.command(name="export", description="Download this discussion as a file")
    @app_commands.describe(format="md (default), html or json")
    @app_commands.guild_only()
    async def export(self, interaction: discord.Interaction[MoaiBot],
                     format: Literal["md", "html", "json"] = "md") -> None:
        discussion = await self.bot.services.store.in_thread(interaction.channel_id, "export")
        await interaction.response.defer(thinking=True)
        text = await export(discussion, format)
        data = io.BytesIO(self.bot.redact(text).encode("utf-8"))
        await interaction.followup.send(f"📄 Transcript ({format})",
                                        file=discord.File(data, filename=file_name(discussion, format)),
                                        allowed_mentions=NO_MENTIONS)


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Export(bot))
