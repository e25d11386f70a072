"""What a run reports besides the answers themselves, as data: each display (Discord, terminal) words it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ContextTrimmed:
    """Old turns were left out of some models' prompts to fit their context windows."""

    dropped: tuple[tuple[str, int], ...]  # (model name, turns left out)


@dataclass(frozen=True, slots=True)
class EarlyStop:
    """Every model agreed: the debate ended before its planned last round."""

    round_number: int
    rounds_unused: int


@dataclass(frozen=True, slots=True)
class ModeratorFallback:
    failed: str  # the moderator that could not write the synthesis
    next: str  # the one asked instead


@dataclass(frozen=True, slots=True)
class NoModerator:
    """Every configured moderator failed."""


@dataclass(frozen=True, slots=True)
class PeerReviewed:
    """The aggregate ranking of a peer review; `record` is the stored text, the same one that is shown."""

    record: str
    scores: tuple[tuple[str, float], ...]  # (model alias, average Borda points), best first
    reviewers: int


Notice = ContextTrimmed | EarlyStop | ModeratorFallback | NoModerator | PeerReviewed
