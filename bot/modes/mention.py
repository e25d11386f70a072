"""Mention: the models members addressed in the thread answer them, with the whole thread as context.

Mentions that arrive while the thread is busy wait in one batch: when its turn comes, the batch is one round
for the union of the models named, asked on behalf of everyone who asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.config import ModelConfig
from bot.engine.notices import Notice
from bot.engine.prompts import mention_note
from bot.engine.rounds import RoundResult
from bot.kinds import RoundKind
from bot.modes.base import ModeState, RoundPlan
from bot.seats import seats


@dataclass(slots=True)
class MentionBatch:
    models: list[ModelConfig] = field(default_factory=list)
    askers: list[str] = field(default_factory=list)
    mentions: int = 0
    started: bool = False  # once its round begins, later mentions start a new batch
    search: bool = False  # some mention asked for web search (`search:`): the round searches

    def add(self, models: Sequence[ModelConfig], asker: str, *, search: bool = False) -> list[ModelConfig]:
        """Merge a mention; returns the models it adds to the round (what its admission must cover)."""
        self.search = self.search or search
        new = [m for m in models if m not in self.models]
        self.models += new
        if asker not in self.askers:
            self.askers.append(asker)
        self.mentions += 1
        return new


class MentionMode:
    name = "mention"

    def __init__(self, batch: MentionBatch) -> None:
        self.batch = batch

    async def next_round(self, state: ModeState) -> RoundPlan | None:
        if self.batch.started:
            return None
        self.batch.started = True
        askers = " and ".join(self.batch.askers)
        return RoundPlan(RoundKind.MENTION, seats(self.batch.models), note=mention_note(askers),
                         search=self.batch.search)

    async def after_round(self, state: ModeState, plan: RoundPlan, result: RoundResult) -> Sequence[Notice]:
        return ()
