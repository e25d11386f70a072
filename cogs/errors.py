"""One error handler for every slash command: user mistakes get their message, bugs a short apology."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserError
from cogs.utils.live import NO_MENTIONS

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot

log = logging.getLogger(__name__)


async def reply_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """Ephemeral whether or not the interaction was answered already."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException:
        log.warning("could not deliver an error message to the user")


def describe(error: app_commands.AppCommandError) -> str | None:
    original = getattr(error, "original", error)
    if isinstance(original, UserError):
        return str(original)
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server."
    if isinstance(error, app_commands.MissingPermissions):
        return f"You need the {', '.join(error.missing_permissions)} permission for this."
    if isinstance(error, app_commands.BotMissingPermissions):
        return f"I need the {', '.join(error.missing_permissions)} permission here."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.TransformerError | app_commands.CheckFailure):
        return str(error)
    return None


class Errors(commands.Cog):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot
        self._previous = bot.tree.on_error
        bot.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def cog_unload(self) -> None:
        self.bot.tree.on_error = self._previous  # type: ignore[method-assign]

    async def on_app_command_error(self, interaction: discord.Interaction,
                                   error: app_commands.AppCommandError) -> None:
        message = describe(error)
        if message is None:
            reference = uuid.uuid4().hex[:8]
            log.error("command %s failed (ref %s)", interaction.command and interaction.command.qualified_name,
                      reference, exc_info=getattr(error, "original", error))
            message = f"Something went wrong on my side (ref `{reference}`). Nothing you sent was lost."
        await reply_ephemeral(interaction, message)


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Errors(bot))
