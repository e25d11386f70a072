"""The "Show reasoning" buttons under a round's status line: the member who presses one alone sees that model's
thinking (a file when it is long)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from cogs.delivery.components import REASONING
from cogs.delivery.send import NO_MENTIONS
from cogs.utils.errors import IdButton
from cogs.utils.threads import require_here

if TYPE_CHECKING:
    from cogs.client import MoaiBot

INLINE_LIMIT = 1900  # longer reasoning goes as a file


class ReasoningButton(IdButton, discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
                      template=REASONING.pattern):
    """Persistent across restarts: the stored answer's id lives in the custom id."""

    TEMPLATE = REASONING

    async def pressed(self, interaction: discord.Interaction[MoaiBot]) -> None:
        store = interaction.client.services.store
        discussion_id = await store.discussion_of_answer(self.target_id)
        if discussion_id is not None:  # gone (forgotten): said below; else only where the answer was given
            await require_here(interaction, discussion_id)
        found = await store.reasoning_of(self.target_id)
        if found is None:
            await interaction.response.send_message("That reasoning is no longer stored.", ephemeral=True,
                                                    allowed_mentions=NO_MENTIONS)
            return
        name, reasoning = found
        reasoning = interaction.client.redact(reasoning)
        if len(reasoning) <= INLINE_LIMIT:
            await interaction.response.send_message(f"🧠 **{name}** thought:\n>>> {reasoning}", ephemeral=True,
                                                    allowed_mentions=NO_MENTIONS)
            return
        file = discord.File(io.BytesIO(reasoning.encode("utf-8")), filename=f"reasoning-{self.target_id}.md")
        await interaction.response.send_message(f"🧠 **{name}** thought at length ({len(reasoning):,} characters):",
                                                file=file, ephemeral=True, allowed_mentions=NO_MENTIONS)


class Reasoning(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot


async def setup(bot: MoaiBot) -> None:
    bot.add_dynamic_items(ReasoningButton)
    await bot.add_cog(Reasoning(bot))
