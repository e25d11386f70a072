"""Mention: the models a member addressed in the thread answer them, with the whole thread as context."""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import ModelConfig
from bot.engine.prompts import mention_note
from bot.kinds import RoundKind
from bot.modes.base import OneRound


class MentionMode(OneRound):
    name = "mention"

    def __init__(self, panel: Sequence[ModelConfig], user_name: str) -> None:
        super().__init__(RoundKind.MENTION, panel, note=mention_note(user_name))
