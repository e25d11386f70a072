"""Where a run's rounds are shown. The core calls these; the Discord side and the console implement them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.db.models import Round
from bot.engine.notices import Notice
from bot.engine.rounds import Answer, RoundEvent, RoundResult


class RoundView(Protocol):
    """One round on screen. `on_event` is called from the model tasks and must not block."""

    def on_event(self, event: RoundEvent) -> None: ...

    async def settle(self) -> None:
        """The round is over (finished or stopped): bring the screen up to date. Always awaited, shielded."""


class Display(Protocol):
    async def begin_round(self, round_: Round, answers: Sequence[Answer]) -> RoundView: ...

    async def end_round(self, result: RoundResult) -> None:
        """After settle(), for a round that finished: the round's status line or summary."""

    async def notice(self, notice: Notice) -> None: ...


class SilentView:
    def on_event(self, event: RoundEvent) -> None:
        pass

    async def settle(self) -> None:
        pass


class SilentDisplay:
    """Runs rounds with nothing shown (tests, benchmarks)."""

    def __init__(self) -> None:
        self.notices: list[Notice] = []

    async def begin_round(self, round_: Round, answers: Sequence[Answer]) -> RoundView:
        return SilentView()

    async def end_round(self, result: RoundResult) -> None:
        pass

    async def notice(self, notice: Notice) -> None:
        self.notices.append(notice)
