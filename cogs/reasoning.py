"""Registers the persistent "Show reasoning" buttons that round status lines carry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from discord.ext import commands

from cogs.utils.reasoning import ReasoningButton

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot


class Reasoning(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot


async def setup(bot: MoaiBot) -> None:
    bot.add_dynamic_items(ReasoningButton)
    await bot.add_cog(Reasoning(bot))
