"""Open: every model answers the question once, concurrently, without seeing the others."""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import ModelConfig
from bot.kinds import RoundKind
from bot.modes.base import OneRound


class OpenMode(OneRound):
    name = "open"

    def __init__(self, panel: Sequence[ModelConfig]) -> None:
        super().__init__(RoundKind.OPEN, panel)
