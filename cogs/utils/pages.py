"""Lists a member can grow, shown a page at a time: each page within Discord's 2,000 characters, with ◀ ▶
buttons for the member who asked (the pages live in memory for `TIMEOUT` seconds; the list command shows
them again after that)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord

from cogs.delivery.send import NO_MENTIONS

__all__ = ["PAGE_LIMIT", "TIMEOUT", "Pages", "paginate"]

PAGE_LIMIT = 1900  # Discord's 2,000 less room for the page line
TIMEOUT = 600.0


def paginate(lines: Sequence[str], limit: int = PAGE_LIMIT) -> list[str]:
    """Lines joined into pages of at most `limit` characters (a longer line is cut)."""
    pages: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        line = line if len(line) <= limit else line[: limit - 1] + "…"
        if current and size + len(line) + 1 > limit:
            pages.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        pages.append("\n".join(current))
    return pages or [""]


class Pages(discord.ui.View):
    def __init__(self, pages: Sequence[str], owner: int) -> None:
        super().__init__(timeout=TIMEOUT)
        self.pages = list(pages)
        self.owner = owner
        self.index = 0
        self._update()

    def text(self) -> str:
        footer = f"\n-# page {self.index + 1} of {len(self.pages)}" if len(self.pages) > 1 else ""
        return self.pages[self.index] + footer

    def _update(self) -> None:
        self.previous.disabled = self.index == 0
        self.next.disabled = self.index >= len(self.pages) - 1

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        return interaction.user.id == self.owner

    async def _show(self, interaction: discord.Interaction[Any]) -> None:
        self._update()
        await interaction.response.edit_message(content=self.text(), view=self, allowed_mentions=NO_MENTIONS)

    @discord.ui.button(emoji="◀️", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Pages]) -> None:
        self.index = max(0, self.index - 1)
        await self._show(interaction)

    @discord.ui.button(emoji="▶️", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Pages]) -> None:
        self.index = min(len(self.pages) - 1, self.index + 1)
        await self._show(interaction)

    async def show(self, interaction: discord.Interaction[Any], *, ephemeral: bool = True) -> None:
        extra: dict[str, Any] = {"view": self} if len(self.pages) > 1 else {}
        await interaction.response.send_message(self.text(), ephemeral=ephemeral, allowed_mentions=NO_MENTIONS,
                                                **extra)
