"""The roundtable: the use cases every front end (Discord, the console) calls, each in one place.

Starting, continuing or resuming a discussion, asking for a consensus, answering mentions and stopping all
follow one protocol here: validate everything → admit (budget hold, cooldown) → store or claim → start the
run → give everything back on any error before the run starts. A front end parses what the person typed,
checks what only it can check, makes one call and words the result.
"""

from bot.roundtable.requests import (
    Accepted,
    Actor,
    ConsensusAsked,
    Continued,
    DebateChoices,
    MentionOutcome,
    NewDiscussion,
    Opening,
    Stopping,
)
from bot.roundtable.stage import Stage, Venue
from bot.roundtable.use_cases import Roundtable

__all__ = [
    "Accepted",
    "Actor",
    "ConsensusAsked",
    "Continued",
    "DebateChoices",
    "MentionOutcome",
    "NewDiscussion",
    "Opening",
    "Roundtable",
    "Stage",
    "Stopping",
    "Venue",
]
