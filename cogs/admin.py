"""/admin reload: the bot owner re-reads config.toml without a restart (SIGHUP does the same from a shell)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import ConfigError
from bot.errors import UserError
from cogs.delivery.send import NO_MENTIONS

if TYPE_CHECKING:
    from bot.reload import Reloaded
    from cogs.client import MoaiBot


def reload_text(reloaded: Reloaded) -> str:
    lines = [f"🔄 Config reloaded. Changed: {', '.join(reloaded.changed) or 'nothing'}."]
    if reloaded.needs_restart:
        lines.append(f"⏳ Kept until a restart: {', '.join(reloaded.needs_restart)}.")
    if reloaded.unpriced:
        lines.append(f"⚠️ No known price: {', '.join(reloaded.unpriced)}.")
    lines.append("Running discussions carry on with the models they started with.")
    return "\n".join(lines)


class Admin(commands.Cog):
    admin = app_commands.Group(name="admin", description="Bot owner tools",
                               default_permissions=discord.Permissions(administrator=True))

    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot

    @admin.command(name="reload", description="Re-read config.toml without a restart (bot owner only)")
    async def reload(self, interaction: discord.Interaction[MoaiBot]) -> None:
        if not await self.bot.is_owner(interaction.user):
            raise UserError("Only the bot's owner can reload its config.")
        try:
            reloaded = await self.bot.reload_config()
        except ConfigError as error:
            raise UserError(f"Config not reloaded, the running config stays: {error}") from None
        await interaction.response.send_message(reload_text(reloaded), ephemeral=True, allowed_mentions=NO_MENTIONS)


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Admin(bot))
