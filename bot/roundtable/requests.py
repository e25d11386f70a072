"""What a front end asks of the roundtable, and what the roundtable tells it back (events it words itself)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.attachments import Attachment
from bot.config import ModelConfig
from bot.kinds import Depth, DiscussionMode
from bot.modes.debate import DebateSetup
from bot.panel import Panel
from bot.services.discussions import Author

__all__ = ["Accepted", "Actor", "ConsensusAsked", "Continued", "DebateChoices", "MentionOutcome", "NewDiscussion",
           "Opening", "Stopping"]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks, as the front end vouches for them.

    `local` is the operator at the console: no server budget or cooldown applies to them."""

    id: int | None
    name: str
    guild_id: int | None = None
    manages_threads: bool = False  # may steer discussions others started (Discord: Manage Threads)
    local: bool = False
    role_ids: tuple[int, ...] = ()  # their roles in the guild (role limits on what their runs may cost)

    @property
    def author(self) -> Author:
        return Author(self.id, self.name)


@dataclass(frozen=True, slots=True)
class DebateChoices:
    """How a new debate is to run, as typed: None takes the project's default, then the config's."""

    roles: str | None = None  # "claude=devil's advocate, gpt=skeptic"
    rotate: bool = False
    depth: Depth | None = None


@dataclass(frozen=True, slots=True)
class NewDiscussion:
    """A new discussion as the member asked for it; the roundtable validates every part before admitting it."""

    mode: DiscussionMode
    question: str
    actor: Actor
    models: Sequence[ModelConfig] | None = None  # None: the project's panel, else the configured one
    project: str | None = None  # a project's name; None: the channel's default project, if any
    channel_id: int | None = None  # where the channel's default project is looked up
    rounds: int | None = None  # debates: None takes the project's default, then the config's
    debate: DebateChoices = field(default_factory=DebateChoices)
    blind: bool | None = None  # None: the project's default
    files: Sequence[Attachment] = ()
    search: bool | None = None  # web search; None: the project's default, then `[search] default`
    confirmed: bool = False  # the member saw the worst-case cost and said run it (`[defaults] confirm_above_usd`)
    question_outcomes: Sequence[str] = ()  # /predict: the outcomes (yes/no when none)
    resolves_at: datetime | None = None  # /predict: when the truth is known


@dataclass(frozen=True, slots=True)
class Opening:
    """A new discussion once validated and admitted: what the venue shows when it makes its place."""

    mode: DiscussionMode
    question: str
    actor: Actor
    panel: Panel
    rounds: int
    setup: DebateSetup | None
    blind: bool
    files: Sequence[Attachment]
    search: bool = False
    outcomes: Sequence[str] = ()  # /predict
    resolves_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Continued:
    """More rounds were admitted and planned; the run starts right after the front end says so."""

    rounds: int


@dataclass(frozen=True, slots=True)
class ConsensusAsked:
    peer_review: bool


@dataclass(frozen=True, slots=True)
class Stopping:
    """The stop was allowed; the run is being stopped (this may take a moment: partial answers are saved)."""


Accepted = Continued | ConsensusAsked | Stopping


class MentionOutcome(StrEnum):
    STARTED = "started"  # a round for these models starts (after whatever runs in the thread now)
    JOINED = "joined"  # joined the mentions already waiting for the thread: one round asks them all
    QUEUE_FULL = "queue-full"  # too many mentions wait already; nothing was taken
