"""The command tree: every slash command's errors go the one way members' errors go (cogs/utils/errors.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from cogs.utils.errors import answer_error

if TYPE_CHECKING:
    from cogs.client import MoaiBot

__all__ = ["MoaiTree"]


class MoaiTree(app_commands.CommandTree["MoaiBot"]):
    async def on_error(self, interaction: discord.Interaction[MoaiBot],
                       error: app_commands.AppCommandError) -> None:
        command = interaction.command.qualified_name if interaction.command else None
        await answer_error(interaction, error, f"command {command}")
