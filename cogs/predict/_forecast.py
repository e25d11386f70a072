"""A member's own forecast: the "Add your forecast" button under the final forecasts opens a modal pre-filled
with the outcomes; what they type is read like a model's forecast (normalised and said when it does not add
up), one per member, changeable until forecasts close."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from bot.errors import UserError
from bot.forecasting.parse import parse_forecast
from cogs.delivery.components import FORECAST
from cogs.delivery.send import NO_MENTIONS
from cogs.utils.errors import IdButton, answer_error
from cogs.utils.threads import require_here

if TYPE_CHECKING:
    from cogs.client import MoaiBot

__all__ = ["ForecastButton", "ForecastModal"]


class ForecastModal(discord.ui.Modal, title="Your forecast"):
    def __init__(self, prediction_id: int, outcomes: list[str]) -> None:
        super().__init__(timeout=600)
        self.prediction_id = prediction_id
        self.outcomes = outcomes
        even = 100 // len(outcomes)
        self.entry: discord.ui.TextInput[ForecastModal] = discord.ui.TextInput(
            label="A probability for each outcome, in %", style=discord.TextStyle.paragraph, max_length=600,
            default="\n".join(f"{o}: {even}" for o in outcomes))
        self.add_item(self.entry)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await self.submitted(interaction)
        except Exception as error:
            await answer_error(interaction, error, "forecast modal")

    async def submitted(self, interaction: discord.Interaction[MoaiBot]) -> None:
        forecast = parse_forecast(self.entry.value, self.outcomes)
        if forecast is None:
            raise UserError("Give a percentage for at least one outcome, like `Yes: 70`.")
        forecasts = interaction.client.services.roundtable.forecasts
        assert forecasts is not None
        await forecasts.record_member(self.prediction_id, interaction.user.id, interaction.user.display_name,
                                      forecast)
        said = " · ".join(f"{o} {forecast.probabilities[o]:.0%}" for o in self.outcomes)
        scaled = " (it did not add up to 100%, so it was scaled)" if forecast.normalised else ""
        await interaction.response.send_message(f"🔮 Your forecast: {said}{scaled}. You can change it until "
                                                "forecasts close.", ephemeral=True, allowed_mentions=NO_MENTIONS)


class ForecastButton(IdButton, discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
                     template=FORECAST.pattern):
    """Persistent across restarts: the prediction's id lives in the custom id."""

    TEMPLATE = FORECAST

    async def pressed(self, interaction: discord.Interaction[MoaiBot]) -> None:
        forecasts = interaction.client.services.roundtable.forecasts
        assert forecasts is not None
        prediction = await forecasts.get(self.target_id)
        if prediction is None:
            raise UserError("That question is no longer stored.")
        await require_here(interaction, prediction.discussion_id)
        forecasts.require_open(prediction)  # said now, not after the member has typed
        await interaction.response.send_modal(ForecastModal(prediction.id, list(prediction.outcomes)))
