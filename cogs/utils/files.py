"""Files attached to a slash command or a thread message, read from Discord and prepared for the models.

Sizes are checked against Discord's own numbers before anything is downloaded; the preparing (Pillow, pypdf)
runs in a thread so the event loop keeps streaming other answers meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import discord

from bot.attachments import Attachment, check_sizes, prepare_all
from bot.config import AttachmentsConfig
from bot.errors import UserError

__all__ = ["file_note", "read_files", "read_with_deferral"]


async def read_files(files: Sequence[discord.Attachment | None], limits: AttachmentsConfig) -> list[Attachment]:
    given = [f for f in files if f is not None]
    if not given:
        return []
    check_sizes([(f.filename, f.size) for f in given], limits)  # before downloading anything
    try:
        contents = [await file.read() for file in given]
    except (discord.HTTPException, discord.NotFound):
        raise UserError("Discord would not hand over the attached files; try again.") from None
    return await asyncio.to_thread(prepare_all, [(f.filename, f.content_type, data)
                                                 for f, data in zip(given, contents, strict=True)], limits)


def file_note(files: Sequence[Attachment]) -> str:
    """For the intro post: what was shared with the question."""
    return f"\n-# 📎 {', '.join(f'`{f.name}`' for f in files)}" if files else ""


async def read_with_deferral(interaction: discord.Interaction[Any], files: Sequence[discord.Attachment | None],
                             limits: AttachmentsConfig) -> list[Attachment]:
    """A command's files: the interaction is deferred first (Discord allows 3 s to answer; downloading and
    preparing may take longer). Nothing is deferred when no file was attached."""
    if any(f is not None for f in files) and not interaction.response.is_done():
        await interaction.response.defer(thinking=True)
    return await read_files(files, limits)
