"""/forget: delete a discussion (admins) or everything moai stored about you. Dry run first, then confirm."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.db.models import AuthorKind, Cooldown, Discussion, Message
from bot.errors import UserError
from cogs.utils.checks import require_manage_guild
from cogs.utils.live import NO_MENTIONS

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot


class Forget(commands.GroupCog, group_name="forget", group_description="Delete stored data"):
    def __init__(self, bot: MoaiBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="discussion", description="Delete this thread's stored discussion (Manage Server)")
    @app_commands.describe(confirm="Set to True to really delete; without it you see what would go")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def discussion(self, interaction: discord.Interaction, confirm: bool = False) -> None:
        require_manage_guild(interaction, "Deleting a discussion")
        discussion = await Discussion.get_or_none(thread_id=interaction.channel_id or 0)
        if discussion is None:
            raise UserError("Use /forget discussion inside a discussion thread.")
        if self.bot.orchestrator.is_running(discussion.thread_id or 0):
            raise UserError("The models are still answering here: /stop first.")
        count = await Message.filter(discussion=discussion).count()
        if not confirm:
            await interaction.response.send_message(
                f"This deletes the stored discussion and its {count} messages from moai's database (the Discord "
                "messages stay). Run `/forget discussion confirm:True` to do it.",
                ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        await discussion.delete()
        await interaction.response.send_message(f"🗑️ Deleted this discussion and its {count} stored messages.",
                                                ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="me", description="Delete your messages and the discussions you started")
    @app_commands.describe(confirm="Set to True to really delete; without it you see what would go")
    async def me(self, interaction: discord.Interaction, confirm: bool = False) -> None:
        user_id = interaction.user.id
        started = Discussion.filter(created_by=user_id)
        own_messages = Message.filter(author_kind=AuthorKind.USER, author_id=user_id).exclude(
            discussion__created_by=user_id)
        counts = (await started.count(), await own_messages.count())
        if not confirm:
            await interaction.response.send_message(
                f"This deletes the {counts[0]} discussion(s) you started (with the models' answers in them) and "
                f"your {counts[1]} message(s) in other discussions, in every server. Run `/forget me confirm:True` "
                "to do it.", ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        await started.delete()
        deleted = await Message.filter(author_kind=AuthorKind.USER, author_id=user_id).delete()
        await Cooldown.filter(user_id=user_id).delete()
        await interaction.response.send_message(
            f"🗑️ Deleted {counts[0]} discussion(s) you started and {deleted} other message(s) of yours.",
            ephemeral=True, allowed_mentions=NO_MENTIONS)


async def setup(bot: MoaiBot) -> None:
    await bot.add_cog(Forget(bot))
