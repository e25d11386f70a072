"""The mode seam: a mode decides which rounds to play, with which prompts, and when to stop.

The orchestrator asks `next_round` until it returns None, plays each plan (building each model's context
unless the plan brings its own) and hands the result to `after_round`, which may report notices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.config import ModelConfig
from bot.db.models import Discussion
from bot.engine.notices import Notice
from bot.engine.rounds import MessagesFor, RoundResult
from bot.kinds import RoundKind
from bot.seats import Seat, seats

if TYPE_CHECKING:  # the services play modes: modes only see the store they are handed
    from bot.services.discussions import DiscussionStore


@dataclass(frozen=True, slots=True)
class RoundPlan:
    kind: RoundKind
    panel: Sequence[Seat]
    note: str = ""  # appended to each model's system prompt
    notes: Mapping[str, str] = field(default_factory=dict)  # appended to one model's (alias -> text): its role
    messages_for: MessagesFor | None = None  # a prompt of the mode's own instead of the discussion
    shown: bool = True  # False: stored, not streamed to the display (peer reviewers' raw rankings)
    anonymous: bool = False  # the models see each other as "Panelist A"… (debate rounds; people still see names)
    search: bool = False  # search the web this round even if the discussion does not (a `search:` mention)


@dataclass(slots=True)
class ModeState:
    discussion: Discussion
    store: DiscussionStore
    results: list[RoundResult] = field(default_factory=list)
    judge: GroupPositions | None = None  # `[debate] position_judge`, billed to the run's payer


class GroupPositions(Protocol):
    """Groups of positions by meaning (one group number per position), or None to keep the word rules'."""

    async def __call__(self, positions: Sequence[str]) -> list[int] | None: ...


class Mode(Protocol):
    name: str  # for log lines

    async def next_round(self, state: ModeState) -> RoundPlan | None: ...

    async def after_round(self, state: ModeState, plan: RoundPlan, result: RoundResult) -> Sequence[Notice]: ...


class OneRound:
    """A mode of a single round (open answers, a mention): played once, nothing to decide afterwards."""

    name = "one-round"

    def __init__(self, kind: RoundKind, panel: Sequence[ModelConfig], note: str = "") -> None:
        self.plan = RoundPlan(kind, seats(panel), note=note)
        self._played = False

    async def next_round(self, state: ModeState) -> RoundPlan | None:
        if self._played:
            return None
        self._played = True
        return self.plan

    async def after_round(self, state: ModeState, plan: RoundPlan, result: RoundResult) -> Sequence[Notice]:
        return ()


class Chain:
    """Modes one after another (an interrupted /open resumed with more rounds: its answer round, then debate)."""

    def __init__(self, *modes: Mode) -> None:
        self.modes = list(modes)
        self.name = "+".join(m.name for m in modes)
        self._current = 0

    async def next_round(self, state: ModeState) -> RoundPlan | None:
        while self._current < len(self.modes):
            plan = await self.modes[self._current].next_round(state)
            if plan is not None:
                return plan
            self._current += 1
        return None

    async def after_round(self, state: ModeState, plan: RoundPlan, result: RoundResult) -> Sequence[Notice]:
        return await self.modes[self._current].after_round(state, plan, result)
