"""The command tree: one error path for every slash command (user mistakes get their message, bugs a reference)."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.errors import UserError
from bot.logs import log_event
from cogs.utils.send import reply_ephemeral

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot

log = logging.getLogger(__name__)


def describe(error: app_commands.AppCommandError) -> str | None:
    """The member-facing text of an error, or None for a bug."""
    original = getattr(error, "original", None) or error.__cause__ or error
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


class MoaiTree(app_commands.CommandTree["MoaiBot"]):
    async def on_error(self, interaction: discord.Interaction[MoaiBot],
                       error: app_commands.AppCommandError) -> None:
        message = describe(error)
        command = interaction.command.qualified_name if interaction.command else None
        if message is None:
            reference = uuid.uuid4().hex[:8]
            log.error("command %s failed (ref %s)", command, reference,
                      exc_info=getattr(error, "original", error))
            message = f"Something went wrong on my side (ref `{reference}`). Nothing you sent was lost."
        elif isinstance(getattr(error, "original", None) or error.__cause__ or error, UserError):
            log_event(log, "command_refused", command=command, guild=interaction.guild_id,
                      user=interaction.user.id, reason=message[:200])
        await reply_ephemeral(interaction, message)
