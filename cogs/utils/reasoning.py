"""The "Show reasoning" buttons under a round's status line: the clicker alone sees a model's thinking."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.engine.rounds import Answer
from cogs.utils.send import NO_MENTIONS

if TYPE_CHECKING:
    from bot.discord_bot import MoaiBot

INLINE_LIMIT = 1900  # longer reasoning goes as a file
MAX_BUTTONS = 25  # Discord: 5 rows of 5


class ReasoningButton(discord.ui.DynamicItem[discord.ui.Button["discord.ui.View"]],
                      template=r"moai:reasoning:(?P<id>[0-9]+)"):
    """Persistent across restarts: the stored answer's id lives in the custom id."""

    def __init__(self, message_row_id: int, model_name: str = "") -> None:
        super().__init__(discord.ui.Button(label=f"{model_name}'s reasoning"[:80] if model_name else "Reasoning",
                                           emoji="🧠", style=discord.ButtonStyle.secondary,
                                           custom_id=f"moai:reasoning:{message_row_id}"))
        self.message_row_id = message_row_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[MoaiBot],  # type: ignore[override]
                             item: discord.ui.Item[discord.ui.View], match: re.Match[str]) -> ReasoningButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction[MoaiBot]) -> None:  # type: ignore[override]
        found = await interaction.client.services.store.reasoning_of(self.message_row_id)
        if found is None:
            await interaction.response.send_message("That reasoning is no longer stored.", ephemeral=True,
                                                    allowed_mentions=NO_MENTIONS)
            return
        name, reasoning = found
        reasoning = interaction.client.redact(reasoning)
        if len(reasoning) <= INLINE_LIMIT:
            await interaction.response.send_message(f"🧠 **{name}** thought:\n>>> {reasoning}", ephemeral=True,
                                                    allowed_mentions=NO_MENTIONS)
            return
        file = discord.File(io.BytesIO(reasoning.encode("utf-8")), filename=f"reasoning-{self.message_row_id}.md")
        await interaction.response.send_message(f"🧠 **{name}** thought at length ({len(reasoning):,} characters):",
                                                file=file, ephemeral=True, allowed_mentions=NO_MENTIONS)


def reasoning_view(answers: Sequence[Answer], reserve: int = 0) -> discord.ui.View | None:
    """A button per answer that has reasoning, or None when no model showed any; `reserve` leaves room for
    other buttons on the same message."""
    thinking = [a for a in answers if a.reasoning][:MAX_BUTTONS - reserve]
    if not thinking:
        return None
    view = discord.ui.View(timeout=None)
    for answer in thinking:
        view.add_item(ReasoningButton(answer.row.id, answer.model.label))
    return view


def view_kwargs(answers: Sequence[Answer]) -> dict[str, Any]:
    view = reasoning_view(answers)
    return {"view": view} if view is not None else {}
