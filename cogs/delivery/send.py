"""Sending to Discord safely: never a ping from model or member text, long text split, errors ephemeral."""

from __future__ import annotations

import logging
from typing import Any

import discord

from cogs.delivery.split import split_message

__all__ = ["NO_MENTIONS", "reply_ephemeral", "send_text", "try_send"]

log = logging.getLogger(__name__)

# discord.py applies the bot-wide setting to channel sends but not to interaction responses: pass it on every send.
NO_MENTIONS = discord.AllowedMentions.none()


async def send_text(channel: discord.abc.Messageable, text: str, view: discord.ui.View | None = None, *,
                    file: discord.File | None = None) -> None:
    """Split to Discord's limit; a view (buttons) and a file go on the last message."""
    chunks = split_message(text)
    for index, chunk in enumerate(chunks):
        if index == len(chunks) - 1:
            extra: dict[str, Any] = {"view": view} if view is not None else {}
            if file is not None:
                extra["file"] = file
            await channel.send(chunk, allowed_mentions=NO_MENTIONS, **extra)
        else:
            await channel.send(chunk, allowed_mentions=NO_MENTIONS)


async def try_send(channel: discord.abc.Messageable, text: str, view: discord.ui.View | None = None) -> bool:
    """For notices in a thread that may be gone or locked meanwhile: the database has everything anyway."""
    try:
        await send_text(channel, text, view)
        return True
    except discord.HTTPException as error:
        log.warning("could not post in channel %s: %s", getattr(channel, "id", "?"), error.status)
        return False


async def reply_ephemeral(interaction: discord.Interaction[Any], text: str) -> None:
    """Ephemeral whether or not the interaction was answered already."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException:
        log.warning("could not deliver an error message to the user")
