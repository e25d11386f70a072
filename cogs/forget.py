"""/forget: delete a discussion (admins) or everything moai stored about you. Dry run first, then confirm."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.delivery.send import NO_MENTIONS
from cogs.utils.checks import require_manage_guild
from cogs.utils.threads import thread_discussion

if TYPE_CHECKING:
    from cogs.client import MoaiBot


class Forget(commands.GroupCog, group_name="forget", group_description="Delete stored data"):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot
        super().__init__()

    async def _say(self, interaction: discord.Interaction[MoaiBot], text: str) -> None:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="discussion", description="Delete this thread's stored discussion (Manage Server)")
    @app_commands.describe(confirm="Set to True to really delete; without it you see what would go")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def discussion(self, interaction: discord.Interaction[MoaiBot], confirm: bool = False) -> None:
        require_manage_guild(interaction, "Deleting a discussion")
        store = self.bot.services.store
        discussion, _ = await thread_discussion(interaction, "forget discussion", idle=True)
        count = await store.message_count(discussion)
        if not confirm:
            await self._say(interaction, f"This deletes the stored discussion and its {count} messages from moai's "
                                         "database (the Discord messages stay). Run `/forget discussion "
                                         "confirm:True` to do it.")
            return
        await store.forget_discussion(discussion)
        await self._say(interaction, f"🗑️ Deleted this discussion and its {count} stored messages.")

    @app_commands.command(name="me", description="Delete your messages and the discussions you started")
    @app_commands.describe(confirm="Set to True to really delete; without it you see what would go")
    async def me(self, interaction: discord.Interaction[MoaiBot], confirm: bool = False) -> None:
        user_id = interaction.user.id
        started, elsewhere = await self.bot.services.roundtable.forget_member(user_id, dry_run=not confirm)
        if not confirm:
            await self._say(interaction, f"This deletes the {started} discussion(s) you started (with the models' "
                                         f"answers in them) and your {elsewhere} message(s) in other discussions, "
                                         "in every server. Run `/forget me confirm:True` to do it.")
            return
        await self._say(interaction, f"🗑️ Deleted {started} discussion(s) you started and {elsewhere} other "
                                     "message(s) of yours.")


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Forget(bot))
