"""/export and the Export button: the whole discussion as a Markdown, HTML or JSON file."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.charts import chart_palette
from bot.export import Look, export, package
from cogs.delivery.components import ACTIONS
from cogs.delivery.send import NO_MENTIONS
from cogs.utils.errors import IdButton
from cogs.utils.threads import require_here, thread_discussion

if TYPE_CHECKING:
    from bot.services.discussions import Discussion
    from cogs.client import MoaiBot

def file_name(discussion: Discussion, fmt: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", discussion.question.lower())[:40].strip("-") or "discussion"
    return f"moai-{discussion.id}-{slug}.{fmt}"


async def export_file(interaction: discord.Interaction[MoaiBot], fmt: str) -> None:
    bot = interaction.client
    discussion, _ = await thread_discussion(interaction, "export")
    await interaction.response.defer(thinking=True)
    text = await export(discussion, fmt, Look(bot.config.debate.similarity, chart_palette(bot.config)))
    # Discord refuses a file over the interaction's upload limit (413): zip it, else send it in parts.
    files = package(file_name(discussion, fmt), bot.redact(text).encode("utf-8"), interaction.filesize_limit)
    for number, (name, data) in enumerate(files, start=1):
        what = f"📄 Transcript ({fmt})" if len(files) == 1 else f"📄 Transcript ({fmt}), part {number} of {len(files)}"
        if name.endswith(".zip") and len(files) == 1:
            what += ", zipped to fit Discord's upload limit"
        await interaction.followup.send(what, file=discord.File(io.BytesIO(data), filename=name),
                                        allowed_mentions=NO_MENTIONS)


class ExportButton(IdButton, discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
                   template=ACTIONS["export"].template.pattern):
    TEMPLATE = ACTIONS["export"].template

    async def pressed(self, interaction: discord.Interaction[MoaiBot]) -> None:
        await require_here(interaction, self.target_id)
        await export_file(interaction, "md")


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
    bot.add_dynamic_items(ExportButton)
    await bot.add_cog(Export(bot))
