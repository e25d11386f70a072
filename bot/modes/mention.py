"""Mention: the models a member addressed in the thread answer them, with the whole thread as context."""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import ModelConfig
from bot.engine.notices import Notice
from bot.engine.prompts import mention_note
from bot.engine.rounds import RoundResult
from bot.kinds import RoundKind
from bot.modes.base import ModeState, RoundPlan


class MentionMode:
    name = "mention"

    def __init__(self, panel: Sequence[ModelConfig], user_name: str) -> None:
        self.panel = panel
        self.user_name = user_name
        self._played = False

    async def next_round(self, state: ModeState) -> RoundPlan | None:
        if self._played:
            return None
        self._played = True
        return RoundPlan(RoundKind.MENTION, self.panel, note=mention_note(self.user_name))

    async def after_round(self, state: ModeState, plan: RoundPlan, result: RoundResult) -> Sequence[Notice]:
        return ()
