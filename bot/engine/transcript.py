"""A discussion as stored, turned into the turns every later round sees."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.config import ModelConfig
from bot.db.models import Discussion, Message, Project
from bot.engine.context import fit_context
from bot.engine.prompts import Turn, system_prompt
from bot.engine.rounds import MessagesFor
from bot.kinds import AuthorKind, MessageStatus

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


def label_members(turns: Sequence[Turn], panel: Sequence[ModelConfig]) -> list[Turn]:
    """A member whose name is a model's name (or alias) is labelled as a member, so no model mistakes them.

    Model names are those at this round's table and every model that has spoken in the discussion."""
    taken = {name.lower() for m in panel for name in (m.name, m.alias, *m.aliases)}
    taken |= {t.author_name.lower() for t in turns if t.model_alias is not None}
    return [Turn(f"{t.author_name} (member)", t.content) if t.model_alias is None and
            t.author_name.lower() in taken else t for t in turns]


async def round_context(discussion: Discussion, panel: Sequence[ModelConfig], note: str = "",
                        notes: Mapping[str, str] | None = None) -> tuple[MessagesFor, dict[str, int]]:
    """Each model's prompt: roundtable system prompt plus the stored discussion, fitted to its budget.

    Returns the prompt builder and, per model alias, how many old turns had to be left out.
    """
    project = await Project.get_or_none(id=discussion.project_id) if discussion.project_id else None
    topic, project_prompt = (project.topic, project.system_prompt) if project else ("", "")
    turns = label_members(await load_turns(discussion), panel)
    extra = notes or {}
    fitted = {m.alias: fit_context(m, system_prompt(m, panel, topic=topic, project_prompt=project_prompt) + note
                                   + extra.get(m.alias, ""), turns) for m in panel}
    dropped = {alias: f.dropped for alias, f in fitted.items() if f.dropped}
    return (lambda model: fitted[model.alias].messages), dropped
