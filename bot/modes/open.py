"""Open: every model answers the question once, concurrently, without seeing the others."""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import ModelConfig
from bot.engine.notices import Notice
from bot.engine.rounds import RoundResult
from bot.kinds import RoundKind
from bot.modes.base import ModeState, RoundPlan


class OpenMode:
    name = "open"

    def __init__(self, panel: Sequence[ModelConfig]) -> None:
        self.panel = panel
        self._played = False

    async def next_round(self, state: ModeState) -> RoundPlan | None:
        if self._played:
            return None
        self._played = True
        return RoundPlan(RoundKind.OPEN, self.panel)

    async def after_round(self, state: ModeState, plan: RoundPlan, result: RoundResult) -> Sequence[Notice]:
        return ()
