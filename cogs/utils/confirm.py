"""The pre-flight confirmation of an expensive run (`[defaults] confirm_above_usd`): the member sees the worst
case and runs it with a button, or lets it go. Nothing is held while they decide; the run is admitted (budget,
limits, cooldown) only when they confirm, and a confirmation that comes too late runs nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.errors import CostConfirmation
from bot.estimate import money_text
from cogs.delivery.send import NO_MENTIONS
from cogs.utils.errors import answer_error

__all__ = ["CONFIRM_SECONDS", "ConfirmRun", "confirmed_or_asked"]

CONFIRM_SECONDS = 120.0
Start = Callable[[discord.Interaction[Any], bool], Awaitable[None]]  # (who pressed or asked, confirmed)


class ConfirmRun(discord.ui.View):
    """Run it / Cancel, for the member who asked only; times out to "not run"."""

    def __init__(self, member_id: int, start: Start) -> None:
        super().__init__(timeout=CONFIRM_SECONDS)
        self.member_id = member_id
        self.start = start
        self.message: discord.InteractionMessage | discord.WebhookMessage | None = None

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self.member_id:
            await interaction.response.send_message("Only the member who asked can confirm this run.",
                                                    ephemeral=True, allowed_mentions=NO_MENTIONS)
            return False
        return True

    @discord.ui.button(label="Run it", emoji="▶️", style=discord.ButtonStyle.primary)
    async def run(self, interaction: discord.Interaction[Any], button: discord.ui.Button[ConfirmRun]) -> None:
        self.stop()
        await self._settle("▶️ Confirmed.")
        try:
            await self.start(interaction, True)
        except Exception as error:
            await answer_error(interaction, error, "confirmed run")

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction[Any], button: discord.ui.Button[ConfirmRun]) -> None:
        self.stop()
        await interaction.response.edit_message(content="Not run: cancelled. Nothing was spent.", view=None,
                                                allowed_mentions=NO_MENTIONS)

    async def on_timeout(self) -> None:
        await self._settle(f"Not run: no confirmation within {CONFIRM_SECONDS / 60:g} minutes. Nothing was spent.")

    async def _settle(self, text: str) -> None:
        if self.message is not None:
            try:
                await self.message.edit(content=text, view=None, allowed_mentions=NO_MENTIONS)
            except discord.HTTPException:
                pass  # the ephemeral message is gone (the member dismissed it): nothing to tidy


async def confirmed_or_asked(interaction: discord.Interaction[Any], start: Start) -> None:
    """Start the run, or, when its worst case is above the threshold, ask the member first."""
    try:
        await start(interaction, False)
    except CostConfirmation as asked:
        view = ConfirmRun(interaction.user.id, start)
        text = (f"💰 This run could cost up to **{money_text(asked.estimate)}** (its worst case: every model "
                f"writing its full answer; the server asks above {money_text(asked.threshold)}). Run it?")
        if interaction.response.is_done():
            view.message = await interaction.followup.send(text, view=view, ephemeral=True, wait=True,
                                                           allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(text, view=view, ephemeral=True, allowed_mentions=NO_MENTIONS)
            view.message = await interaction.original_response()
