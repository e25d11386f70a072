"""What a front end hands the roundtable to show a run: a stage (where it plays) and, for a new discussion,
a venue (which makes the stage: a Discord thread, the terminal)."""

from __future__ import annotations

from typing import Protocol

from bot.engine.display import Display
from bot.roundtable.requests import Accepted, Opening
from bot.services.discussions import Place

__all__ = ["Stage", "Venue"]


class Stage(Protocol):
    """Where one discussion's runs play.

    `key` orders its runs (one after another per key: a thread, an /ask interaction, the console);
    `channel_id` is where a stop finds runs keyed otherwise."""

    key: int
    place: Place

    @property
    def channel_id(self) -> int | None: ...

    def display(self) -> Display: ...

    async def accepted(self, event: Accepted) -> None:
        """Tell the member the request was taken, before the run starts (an error here refunds it)."""

    async def crashed(self, error: BaseException) -> None:
        """The run failed on an internal error: say so where it played."""


class Venue(Protocol):
    """Makes the stage of a new discussion once it has been validated and admitted."""

    async def open(self, opening: Opening) -> Stage:
        """Make the place and show the question there; UserError if the front end cannot (nothing is kept)."""

    async def abandon(self, stage: Stage) -> None:
        """The discussion could not be stored after all: remove the place `open` made."""
