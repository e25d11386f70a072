"""The vote under a round: one button per answer (as members saw it), Tie, All bad, and Close vote.

Persistent across restarts. A custom id carries the vote's id and a position, never a model's name, so the
payload gives nothing away in a blind round.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord

from bot.errors import UserError
from cogs.delivery.components import VOTE
from cogs.delivery.render import notice_text
from cogs.delivery.send import NO_MENTIONS
from cogs.utils.errors import Answered
from cogs.utils.threads import require_here

if TYPE_CHECKING:
    from cogs.client import MoaiBot

__all__ = ["VoteButton"]


class VoteButton(Answered, discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=VOTE.pattern):
    def __init__(self, vote_id: int, choice: str) -> None:
        super().__init__(discord.ui.Button(custom_id=VOTE.custom_id(id=vote_id, choice=choice)))
        self.vote_id = vote_id
        self.choice = choice

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[MoaiBot],  # type: ignore[override]
                             item: discord.ui.Item[discord.ui.View], match: re.Match[str]) -> VoteButton:
        return cls(int(match["id"]), match["choice"])

    async def pressed(self, interaction: discord.Interaction[MoaiBot]) -> None:
        if interaction.user.bot or interaction.user.system:
            raise UserError("Bots and webhooks do not vote.")
        await require_here(interaction, await interaction.client.services.arena.discussion_of(self.vote_id))
        if self.choice == "close":
            await close_by_member(interaction, self.vote_id)
            return
        shown = await interaction.client.services.arena.cast(self.vote_id, interaction.user.id, self.choice)
        await interaction.response.send_message(
            f"🗳️ Your vote: **{shown}**. You can change it until the vote closes.", ephemeral=True,
            allowed_mentions=NO_MENTIONS)


async def close_by_member(interaction: discord.Interaction[MoaiBot], vote_id: int) -> None:
    arena = interaction.client.services.arena
    if not await arena.may_close(vote_id, interaction.user.id, interaction.permissions.manage_threads):
        raise UserError("Only the member who started this discussion, or someone with Manage Threads, can close "
                        "the vote.")
    closed = await arena.close(vote_id)
    if closed is None:
        raise UserError("This vote is closed.")
    await interaction.response.send_message(notice_text(closed.notice), allowed_mentions=NO_MENTIONS)
    if interaction.message is not None:
        try:
            await interaction.message.edit(view=None, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            pass  # the buttons stay; pressing them says the vote is closed
