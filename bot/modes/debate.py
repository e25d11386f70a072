"""Debate: rounds one after another, each model seeing every earlier round; stops early when all agree."""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import ModelConfig
from bot.engine.notices import EarlyStop, Notice
from bot.engine.prompts import converged, discuss_note
from bot.engine.rounds import RoundResult
from bot.kinds import MessageStatus, RoundKind
from bot.modes.base import ModeState, RoundPlan


class DebateMode:
    name = "debate"

    def __init__(self, panel: Sequence[ModelConfig], rounds: int) -> None:
        self.panel = panel
        self.rounds = rounds
        self._next = 0  # number of the next round; counted from the stored rounds on the first call
        self._total = 0
        self._stop = False

    async def next_round(self, state: ModeState) -> RoundPlan | None:
        if not self._next:
            done = await state.store.completed_rounds(state.discussion)
            self._next, self._total = done + 1, done + self.rounds
        if self._stop or self._next > self._total:
            return None
        number = self._next
        self._next += 1
        return RoundPlan(RoundKind.DISCUSS, self.panel, note=discuss_note(number, self._total))

    async def after_round(self, state: ModeState, plan: RoundPlan, result: RoundResult) -> Sequence[Notice]:
        """Early stop: every model of a round after the first (and before the last) agreed."""
        number = self._next - 1
        answered = [a.text for a in result.answers if a.status is MessageStatus.COMPLETE]
        if 1 < number < self._total and len(answered) == len(self.panel) and converged(answered):
            self._stop = True
            return (EarlyStop(number, self._total - number),)
        return ()
