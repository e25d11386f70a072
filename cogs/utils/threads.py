"""Starting a discussion in a new thread: shared by /open and /discuss."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.db.models import BudgetHold, DiscussionMode
from bot.errors import UserError
from bot.panel import Panel, thread_title
from cogs.utils.live import NO_MENTIONS

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot

THREAD_ARCHIVE_MINUTES = 1440


def require_thread_permissions(channel: discord.TextChannel) -> None:
    permissions = channel.permissions_for(channel.guild.me)
    missing = [name for name, ok in (("Create Public Threads", permissions.create_public_threads),
                                     ("Send Messages in Threads", permissions.send_messages_in_threads))
               if not ok]
    if missing:
        raise UserError(f"I can't start a discussion here: I'm missing {' and '.join(missing)} in "
                        f"{channel.mention}. Ask an admin to grant it, or use another channel.")


def discussion_channel(interaction: discord.Interaction, command: str, inside_hint: str) -> discord.TextChannel:
    """The text channel a new discussion thread will hang off, or a UserError saying where to go instead."""
    channel = interaction.channel
    if isinstance(channel, discord.Thread):
        raise UserError(f"Use /{command} in a text channel: it starts its own thread. "
                        f"Inside a discussion thread, {inside_hint}.")
    if not isinstance(channel, discord.TextChannel):
        raise UserError(f"/{command} works in server text channels.")
    require_thread_permissions(channel)
    return channel


async def begin_thread_discussion(bot: MoaiBot, interaction: discord.Interaction, channel: discord.TextChannel, *,
                                  mode: DiscussionMode, question: str, panel: Panel, rounds: int, intro: str,
                                  announce: str, hold: BudgetHold | None) -> None:
    """Thread, stored discussion, the question posted in the thread, then the rounds in the background.

    `announce` is the reply to the command; "{thread}" in it becomes the thread's mention.
    """
    await interaction.response.defer(thinking=True)
    try:
        thread = await channel.create_thread(name=thread_title(question), type=discord.ChannelType.public_thread,
                                             auto_archive_duration=THREAD_ARCHIVE_MINUTES,
                                             reason=f"moai /{mode.value} by {interaction.user.id}")
    except discord.Forbidden:
        raise UserError("Discord refused to let me create a thread here (missing permission).") from None
    orchestrator = bot.orchestrator
    discussion = await orchestrator.create_discussion(
        mode=mode, question=question, panel=panel, author=interaction.user, guild=interaction.guild,
        channel_id=channel.id, thread_id=thread.id, rounds_planned=rounds,
    )
    await orchestrator.send_text(thread, f"{intro}\n>>> {question}")
    await interaction.followup.send(announce.format(thread=thread.mention), allowed_mentions=NO_MENTIONS)
    orchestrator.start(thread.id, lambda: orchestrator.run_discussion(discussion, thread, panel.models, rounds),
                       report_to=thread, hold=hold)
