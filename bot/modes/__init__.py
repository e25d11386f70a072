"""Modes of a discussion. Adding one is a module here (a class with next_round/after_round) plus one cog."""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import DebateConfig, ModelConfig
from bot.db.models import Discussion
from bot.kinds import Depth, DiscussionMode
from bot.modes.base import Chain, Mode
from bot.modes.debate import DebateMode, DebateSetup
from bot.modes.open import OpenMode


def debate_setup(discussion: Discussion, config: DebateConfig) -> DebateSetup:
    """How this discussion debates: its roles, rotation and depth as stored when it started."""
    return DebateSetup(config, dict(discussion.roles or {}), discussion.rotate_roles,
                       Depth(discussion.depth))


def continuation(discussion: Discussion, panel: Sequence[ModelConfig], rounds: int, done: int,
                 config: DebateConfig | None = None) -> Mode:
    """What /continue and Resume play, by the discussion's mode.

    An open discussion whose answer round never completed plays it first; any further rounds are debate.
    """
    setup = debate_setup(discussion, config or DebateConfig())
    if discussion.mode is DiscussionMode.OPEN and done == 0:
        first = OpenMode(panel)
        return first if rounds == 1 else Chain(first, DebateMode(panel, rounds - 1, setup))
    return DebateMode(panel, rounds, setup)
