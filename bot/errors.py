"""Errors whose text is written for the person who asked, in words every front end can show as they are.

A `hint` names what the person can do next; each front end words it (a slash command in Discord, a flag in the
console), so the core never names a front end's commands.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Hint", "UserError"]


class Hint(StrEnum):
    """What to do next, as each front end says it."""

    CONTINUE = "continue"  # add rounds to the discussion
    STOP = "stop"  # wait for the models, or stop them
    STOP_WHERE = "stop-where"  # stopping works where models are answering
    PROJECTS = "projects"  # list this server's projects
    BUDGET = "budget"  # raise the server's budget


class CostConfirmation(Exception):
    """A new run's worst case is above `[defaults] confirm_above_usd`: the member is shown it and confirms first.
    Nothing was taken (no hold, no cooldown, no row)."""

    def __init__(self, estimate: float, threshold: float) -> None:
        super().__init__(f"worst case ${estimate:.4f} above ${threshold:.2f}")
        self.estimate = estimate
        self.threshold = threshold


class UserError(Exception):
    """Bad input or a state the user can fix; shown to them as is (ephemeral in Discord), with its hint."""

    def __init__(self, message: str, hint: Hint | None = None) -> None:
        super().__init__(message)
        self.hint = hint
