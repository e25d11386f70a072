"""Predict: each model gives a probability for every outcome of a question that resolves later, with its
reasoning; with more rounds, they read each other and revise. The last round's forecasts are final."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.config import ModelConfig
from bot.db.models import Prediction
from bot.engine.notices import ForecastsRead, Notice
from bot.engine.rounds import RoundResult
from bot.forecasting.parse import parse_forecast
from bot.kinds import MessageStatus, RoundKind
from bot.modes.base import ModeState, RoundPlan
from bot.seats import seats
from bot.services.forecasts import ForecastService

__all__ = ["PredictMode", "forecast_note"]


def forecast_note(outcomes: Sequence[str], resolves_at: datetime, round_number: int, rounds: int) -> str:
    listed = "\n".join(f"- {o}: NN%" for o in outcomes)
    revise = ("" if round_number == 1 else
              " Read the other forecasts above, say what changed your mind (or why not), and give your revised "
              "forecast.")
    last = " This is the final round: your forecast below is the one scored." if round_number == rounds else ""
    return (f"\n\nThis is a forecasting question that resolves on {resolves_at:%Y-%m-%d %H:%M} UTC. Reason "
            f"briefly and concretely (base rates, current evidence, what would change the answer).{revise}{last} "
            f"End with exactly this block, the probabilities adding up to 100%:\n\n**Forecast**\n{listed}")


class PredictMode:
    name = "predict"

    def __init__(self, panel: Sequence[ModelConfig], rounds: int, prediction: Prediction,
                 forecasts: ForecastService, played: int = 0) -> None:
        self.panel = list(panel)
        self.rounds = rounds
        self.prediction = prediction
        self.forecasts = forecasts
        self._played = played  # rounds already complete (a resumed forecast)

    async def next_round(self, state: ModeState) -> RoundPlan | None:
        if self._played >= self.rounds:
            return None
        self._played += 1
        kind = RoundKind.OPEN if self._played == 1 else RoundKind.DISCUSS
        assert self.prediction.resolves_at is not None
        return RoundPlan(kind, seats(self.panel), note=forecast_note(self.prediction.outcomes,
                                                                     self.prediction.resolves_at, self._played,
                                                                     self.rounds))

    async def after_round(self, state: ModeState, plan: RoundPlan, result: RoundResult) -> Sequence[Notice]:
        final = self._played == self.rounds
        read = []
        for answer in result.answers:
            forecast = parse_forecast(answer.text, self.prediction.outcomes) \
                if answer.status is MessageStatus.COMPLETE else None
            read.append((answer, forecast))
        await self.forecasts.record_models(self.prediction, self._played, final,
                                           [(a.model.alias, a.model.name, f) for a, f in read if f is not None])
        return (ForecastsRead(self.prediction.id, tuple(self.prediction.outcomes), final,
                              tuple((a.seat.label, f.probabilities if f else None, bool(f and f.normalised))
                                    for a, f in read), self.prediction.closes_at),)
