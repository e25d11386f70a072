"""The buttons under each round's status line: One more round, Consensus, Stop, Export.

Persistent (the discussion id is in the custom id), so they work after a restart; each does exactly what its
command does, with the same permission and budget checks (cogs/utils/actions.py).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord

from bot.errors import UserError
from cogs.utils.actions import continue_discussion, export_file, start_consensus, stop_here
from cogs.utils.send import reply_ephemeral

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot

ACTION_ROW = 4  # the last of Discord's five rows; rows 0-3 hold the reasoning buttons
ACTIONS = {  # action -> (label, emoji, style)
    "more": ("One more round", "➕", discord.ButtonStyle.primary),
    "consensus": ("Consensus", "🧭", discord.ButtonStyle.secondary),
    "stop": ("Stop", "⏹️", discord.ButtonStyle.danger),
    "export": ("Export", "📄", discord.ButtonStyle.secondary),
}


class RoundActionButton(discord.ui.DynamicItem[discord.ui.Button["discord.ui.View"]],
                        template=r"moai:act:(?P<action>more|consensus|stop|export):(?P<id>[0-9]+)"):
    def __init__(self, action: str, discussion_id: int) -> None:
        label, emoji, style = ACTIONS[action]
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=style, row=ACTION_ROW,
                                           custom_id=f"moai:act:{action}:{discussion_id}"))
        self.action = action
        self.discussion_id = discussion_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[MoaiBot],  # type: ignore[override]
                             item: discord.ui.Item[discord.ui.View], match: re.Match[str]) -> RoundActionButton:
        return cls(match["action"], int(match["id"]))

    async def callback(self, interaction: discord.Interaction[MoaiBot]) -> None:  # type: ignore[override]
        try:
            discussion = await interaction.client.services.store.get(self.discussion_id)
            if discussion is None or discussion.thread_id != interaction.channel_id:
                raise UserError("This discussion no longer exists.")
            if self.action == "more":
                await continue_discussion(interaction, self.discussion_id, rounds=1)
            elif self.action == "consensus":
                await start_consensus(interaction, peer_review=False)
            elif self.action == "stop":
                await stop_here(interaction)
            else:
                await export_file(interaction, "md")
        except UserError as error:
            await reply_ephemeral(interaction, str(error))


def add_round_actions(view: discord.ui.View, discussion_id: int) -> discord.ui.View:
    for action in ACTIONS:
        view.add_item(RoundActionButton(action, discussion_id))
    return view
