"""The "Sources" button under a round that searched the web: the member who presses it alone sees each answer's
sources, numbered as the answers' [n] markers use them (a file when they are many)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.search.shown import sources_text
from cogs.delivery.components import SOURCES
from cogs.delivery.send import NO_MENTIONS
from cogs.utils.errors import IdButton
from cogs.utils.threads import require_here

if TYPE_CHECKING:
    from cogs.client import MoaiBot

__all__ = ["SourcesButton"]

INLINE_LIMIT = 1900  # longer lists go as a file


class SourcesButton(IdButton, discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
                    template=SOURCES.pattern):
    """Persistent across restarts: the round's id lives in the custom id."""

    TEMPLATE = SOURCES

    async def pressed(self, interaction: discord.Interaction[MoaiBot]) -> None:
        found = await interaction.client.services.store.round_sources(self.target_id)
        if found is None:
            await interaction.response.send_message("Those sources are no longer stored.", ephemeral=True,
                                                    allowed_mentions=NO_MENTIONS)
            return
        discussion_id, answers = found
        await require_here(interaction, discussion_id)
        text = f"🔗 **Sources**\n\n{sources_text(answers)}"
        if len(text) <= INLINE_LIMIT:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS,
                                                    suppress_embeds=True)
            return
        file = discord.File(io.BytesIO(sources_text(answers, clean=False).encode("utf-8")),
                            filename=f"sources-round-{self.target_id}.md")
        await interaction.response.send_message(f"🔗 **Sources** ({sum(len(a.sources) for a in answers)}), in "
                                                "the file:", file=file, ephemeral=True, allowed_mentions=NO_MENTIONS)


class Sources(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot


async def setup(bot: MoaiBot) -> None:
    bot.add_dynamic_items(SourcesButton)
    await bot.add_cog(Sources(bot))
