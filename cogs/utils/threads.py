"""Discussion threads on Discord: where a new one may start, the one a command was used in, and Discord's
refusals in words a member can act on."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

import discord

from bot.errors import Hint, UserError
from bot.roundtable import Actor
from bot.roundtable.use_cases import STILL_ANSWERING

if TYPE_CHECKING:
    from bot.services.discussions import Discussion
    from cogs.client import MoaiBot

__all__ = ["THREAD_ARCHIVE_MINUTES", "actor_of", "delete_quietly", "discussion_channel", "refusal_text",
           "require_here", "thread_discussion"]

log = logging.getLogger(__name__)
THREAD_ARCHIVE_MINUTES: Final = 1440
AUTOMOD_CODES = {200000, 200001}  # message, or thread title, blocked by AutoMod


def actor_of(interaction: discord.Interaction[Any]) -> Actor:
    """The member who used a command or pressed a button, with what Discord says they may do here."""
    roles = getattr(interaction.user, "roles", ())  # a Member in a guild; a User has none
    return Actor(interaction.user.id, interaction.user.display_name, interaction.guild_id,
                 manages_threads=interaction.permissions.manage_threads, role_ids=tuple(r.id for r in roles))


def require_thread_permissions(channel: discord.TextChannel) -> None:
    permissions = channel.permissions_for(channel.guild.me)
    missing = [name for name, ok in (("Create Public Threads", permissions.create_public_threads),
                                     ("Send Messages in Threads", permissions.send_messages_in_threads))
               if not ok]
    if missing:
        raise UserError(f"I can't start a discussion here: I'm missing {' and '.join(missing)} in "
                        f"{channel.mention}. Ask an admin to grant it, or use another channel.")


def discussion_channel(interaction: discord.Interaction[MoaiBot], command: str,
                       inside_hint: str) -> discord.TextChannel:
    """The text channel a new discussion thread will hang off, or a UserError saying where to go instead."""
    channel = interaction.channel
    if isinstance(channel, discord.Thread):
        raise UserError(f"Use /{command} in a text channel: it starts its own thread. "
                        f"Inside a discussion thread, {inside_hint}.")
    if not isinstance(channel, discord.TextChannel):
        raise UserError(f"/{command} works in server text channels.")
    require_thread_permissions(channel)
    return channel


async def thread_discussion(interaction: discord.Interaction[MoaiBot], command: str, *,
                            idle: bool = False) -> tuple[Discussion, discord.Thread]:
    """The discussion of the thread the command was used in; with `idle`, only while no models answer there."""
    thread = interaction.channel
    discussion = await interaction.client.services.store.by_thread(interaction.channel_id)
    if discussion is None:
        raise UserError(f"Use /{command} inside a discussion thread started with /open or /discuss.")
    if not isinstance(thread, discord.Thread):
        raise UserError(f"Use /{command} inside a discussion thread started with /open or /discuss.")
    if idle and interaction.client.services.runs.is_running(thread.id):
        raise UserError(STILL_ANSWERING, Hint.STOP)
    return discussion, thread


async def require_here(interaction: discord.Interaction[MoaiBot], discussion_id: int | None) -> None:
    """A button's custom id names a discussion (or a vote or an answer of one): it acts only in that
    discussion's own guild and thread (its channel for /ask), so a copied or forged id does nothing elsewhere."""
    place = await interaction.client.services.store.place_of(discussion_id) if discussion_id is not None else None
    if place is None or place.guild_id != interaction.guild_id or \
            (place.thread_id or place.channel_id) != interaction.channel_id:
        raise UserError("This discussion no longer exists.")


def refusal_text(error: discord.HTTPException, doing: str) -> str:
    """Why Discord said no, in words a member can act on (AutoMod blocks named as such)."""
    if error.code in AUTOMOD_CODES:
        return f"Discord's AutoMod in this server blocked me when I tried to {doing}. Rephrase and try again."
    if isinstance(error, discord.Forbidden):
        return f"Discord refused to let me {doing} (missing permission)."
    return f"Discord would not let me {doing} right now (HTTP {error.status}). Nothing was spent; try again."


async def delete_quietly(thread: discord.Thread) -> None:
    try:
        await thread.delete(reason="moai: the discussion could not start")
    except discord.HTTPException:
        log.warning("could not delete the empty thread %s", thread.id)
