"""The vocabulary of a discussion (modes, statuses, round kinds), shared by the core, storage and the cogs."""

from __future__ import annotations

from enum import StrEnum


class DiscussionMode(StrEnum):
    ASK = "ask"
    OPEN = "open"
    DISCUSS = "discuss"
    PREDICT = "predict"


class DiscussionStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"


class RoundKind(StrEnum):
    OPEN = "open"
    DISCUSS = "discuss"
    MENTION = "mention"
    CONSENSUS = "consensus"


# Rounds that count towards a debate's planned rounds (what /continue and Resume carry on from).
DEBATE_KINDS = (RoundKind.OPEN, RoundKind.DISCUSS)
# Rounds in which the panel answers the discussion (what /consensus sums up); consensus rounds are about them.
ANSWERING_KINDS = (RoundKind.OPEN, RoundKind.DISCUSS, RoundKind.MENTION)


class RoundStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


class AuthorKind(StrEnum):
    USER = "user"
    MODEL = "model"
    SYSTEM = "system"


class RunOutcome(StrEnum):
    """How a run ended (the `run_end` log line, the runs metric)."""

    PENDING = "pending"
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # stopped by a member, or before its first step
    SHUTDOWN = "shutdown"  # the process stopped: left resumable
    FAILED = "failed"


class Depth(StrEnum):
    """How many debate rounds run: all planned, or more than one only when round 1 leaves something to settle."""

    FIXED = "fixed"
    AUTO = "auto"


class AttachmentKind(StrEnum):
    IMAGE = "image"
    TEXT = "text"
    PDF = "pdf"


class MessageStatus(StrEnum):
    STREAMING = "streaming"
    COMPLETE = "complete"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


class Ties(StrEnum):
    """What a tie vote does to the ratings: nothing (it says the answers are alike, not which is better), or
    half a win each way."""

    NONE = "none"
    HALF = "half"


class Category(StrEnum):
    """What a discussion asks about: each has its own leaderboard beside the overall one."""

    CODING = "coding"
    CREATIVE = "creative"
    FACTUAL = "factual"
    ADVICE = "advice"
    OTHER = "other"


class MinoritySource(StrEnum):
    """Whose minority report a consensus keeps: the moderator's, or moai's own from the stances (the moderator
    wrote none while a model still dissented), or none (nobody dissented)."""

    MODERATOR = "moderator"
    STANCES = "stances"
    NONE = "none"


class SpendKind(StrEnum):
    """What a ledger row bills: a model call's tokens, or web searches (a provider's or moai's own backend's)."""

    TOKENS = "tokens"
    SEARCH = "search"


class PredictionKind(StrEnum):
    """A /predict question with named outcomes (yes/no or up to six), or a debate resolved after the fact
    (each model's final stance scored as a forecast that its position wins)."""

    QUESTION = "question"
    DEBATE = "debate"


class LimitScope(StrEnum):
    """Whom a monthly member limit applies to: one member, everyone with a role, or every member (the server's
    default per member)."""

    MEMBER = "member"
    ROLE = "role"
    EVERYONE = "everyone"
