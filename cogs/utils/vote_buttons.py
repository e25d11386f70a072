"""The vote under a round: one button per answer (as members saw it), Tie, All bad, and Close vote.

Persistent across restarts. A custom id carries the vote's id and a position, never a model's name, so the
payload gives nothing away in a blind round.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord

from bot.engine.notices import VoteCall
from bot.errors import UserError
from cogs.utils.render import notice_text
from cogs.utils.send import NO_MENTIONS, reply_ephemeral

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot

MAX_ANSWER_BUTTONS = 20  # rows 0-3; the last row holds Tie, All bad and Close
EXTRA = {"tie": ("Tie", "🤝", discord.ButtonStyle.secondary), "bad": ("All bad", "👎", discord.ButtonStyle.secondary),
         "close": ("Close vote", "🔒", discord.ButtonStyle.danger)}


class VoteButton(discord.ui.DynamicItem[discord.ui.Button["discord.ui.View"]],
                 template=r"moai:vote:(?P<id>[0-9]+):(?P<choice>[0-9]+|tie|bad|close)"):
    def __init__(self, vote_id: int, choice: str, label: str = "") -> None:
        if choice in EXTRA:
            text, emoji, style = EXTRA[choice]
            button: discord.ui.Button[discord.ui.View] = discord.ui.Button(
                label=text, emoji=emoji, style=style, row=4, custom_id=f"moai:vote:{vote_id}:{choice}")
        else:
            button = discord.ui.Button(label=label[:80] or f"Answer {int(choice) + 1}",
                                       style=discord.ButtonStyle.primary, custom_id=f"moai:vote:{vote_id}:{choice}")
        super().__init__(button)
        self.vote_id = vote_id
        self.choice = choice

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[MoaiBot],  # type: ignore[override]
                             item: discord.ui.Item[discord.ui.View], match: re.Match[str]) -> VoteButton:
        return cls(int(match["id"]), match["choice"])

    async def callback(self, interaction: discord.Interaction[MoaiBot]) -> None:  # type: ignore[override]
        arena = interaction.client.services.arena
        try:
            if self.choice == "close":
                await close_by_member(interaction, self.vote_id)
                return
            shown = await arena.cast(self.vote_id, interaction.user.id, self.choice)
            await interaction.response.send_message(
                f"🗳️ Your vote: **{shown}**. You can change it until the vote closes.", ephemeral=True,
                allowed_mentions=NO_MENTIONS)
        except UserError as error:
            await reply_ephemeral(interaction, str(error))


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


def vote_view(vote: VoteCall) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for index, label in enumerate(vote.labels[:MAX_ANSWER_BUTTONS]):
        view.add_item(VoteButton(vote.id, str(index), label))
    for choice in EXTRA:
        view.add_item(VoteButton(vote.id, choice))
    return view


def vote_text(vote: VoteCall) -> str:
    return (f"🗳️ **Which answer is best?** One vote each, changeable until the vote closes "
            f"(<t:{int(vote.closes_at.timestamp())}:R>, when the starter closes it, or when the next round starts).")
