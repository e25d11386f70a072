"""A discussion as stored, turned into the turns every later round sees."""

from __future__ import annotations

from bot.db.models import AuthorKind, Discussion, Message, MessageStatus
from bot.prompts import Turn

CUT_OFF = " [cut off]"


def as_turn(row: Message) -> Turn:
    content = row.content
    if row.author_kind is AuthorKind.MODEL and row.status is not MessageStatus.COMPLETE:
        content += CUT_OFF
    return Turn(row.author_name or "someone", content, row.model_alias if row.author_kind is AuthorKind.MODEL else None)


async def transcript_chars(discussion: Discussion) -> int:
    """How much text later rounds will carry: what admission estimates a run's cost from."""
    return sum(len(turn.content) for turn in await load_turns(discussion))


async def load_turns(discussion: Discussion) -> list[Turn]:
    """Every user message and every model answer with text, in the order they were made."""
    rows = await Message.filter(discussion=discussion).exclude(content="").exclude(
        author_kind=AuthorKind.SYSTEM).order_by("id")
    return [as_turn(row) for row in rows]
