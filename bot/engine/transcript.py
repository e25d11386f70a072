"""A discussion as stored, turned into the turns every later round sees."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from bot.attachments import Attachment, files_chars
from bot.config import ModelConfig
from bot.db.models import AttachmentRecord, Discussion, Message, Project
from bot.engine.context import fit_context
from bot.engine.prompts import Turn, system_prompt
from bot.engine.rounds import MessagesFor
from bot.kinds import AttachmentKind, AuthorKind, MessageStatus
from bot.seats import Seat

CUT_OFF = " [cut off]"


def as_turn(row: Message, attachments: tuple[Attachment, ...] = ()) -> Turn:
    content = row.content
    if row.author_kind is AuthorKind.MODEL and row.status is not MessageStatus.COMPLETE:
        content += CUT_OFF
    return Turn(row.author_name or "someone", content, row.model_alias if row.author_kind is AuthorKind.MODEL else None,
                attachments)


def as_attachment(row: AttachmentRecord) -> Attachment:
    return Attachment(row.name, AttachmentKind(row.kind), row.media_type, bytes(row.data), row.text,
                      row.width, row.height, row.pages)


async def transcript_chars(discussion: Discussion) -> int:
    """How much later rounds will carry, in characters (files as their token estimate in characters): what
    admission estimates a run's cost from."""
    turns = await load_turns(discussion)
    return sum(len(turn.content) for turn in turns) + files_chars([a for t in turns for a in t.attachments])


async def load_turns(discussion: Discussion) -> list[Turn]:
    """Every user message (with its files) and every model answer with text, in the order they were made."""
    files: dict[int, list[Attachment]] = {}
    for record in await AttachmentRecord.filter(discussion=discussion).order_by("id"):
        files.setdefault(record.message_id, []).append(as_attachment(record))  # type: ignore[attr-defined]
    rows = await Message.filter(discussion=discussion).exclude(author_kind=AuthorKind.SYSTEM).order_by("id")
    return [as_turn(row, tuple(files.get(row.id, ()))) for row in rows if row.content or row.id in files]


def label_members(turns: Sequence[Turn], panel: Sequence[ModelConfig]) -> list[Turn]:
    """A member whose name is a model's name (or alias) is labelled as a member, so no model mistakes them.

    Model names are those at this round's table and every model that has spoken in the discussion."""
    taken = {name.lower() for m in panel for name in (m.name, m.alias, *m.aliases)}
    taken |= {t.author_name.lower() for t in turns if t.model_alias is not None}
    return [replace(t, author_name=f"{t.author_name} (member)") if t.model_alias is None and
            t.author_name.lower() in taken else t for t in turns]


def panelist_labels(discussion: Discussion, turns: Sequence[Turn]) -> dict[str, str]:
    """Each model's neutral name for an anonymous debate, stable for the discussion: its panel order, then
    any other model that spoke, in order of first answer."""
    aliases = list(dict.fromkeys([*discussion.models, *(t.model_alias for t in turns if t.model_alias)]))
    return {alias: f"Panelist {chr(ord('A') + i) if i < 26 else i + 1}" for i, alias in enumerate(aliases)}


def anonymise(turns: Sequence[Turn], labels: Mapping[str, str], panel: Sequence[ModelConfig]) -> list[Turn]:
    """The models' turns under their neutral names, and their names inside the models' answers replaced too
    ("as Claude said" reads "as Panelist B said"); people keep their names and words."""
    names: dict[str, str] = {}
    for model in panel:
        for name in (model.name, model.alias, *model.aliases):
            names[name.lower()] = labels.get(model.alias, name)
    for turn in turns:
        if turn.model_alias is not None:
            names.setdefault(turn.author_name.lower(), labels.get(turn.model_alias, turn.author_name))
    names = {name: label for name, label in names.items() if len(name) >= 3}  # "o3" is also just a word
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
                         + r")(?![\w-])", re.IGNORECASE) if names else None

    def masked(text: str) -> str:
        return pattern.sub(lambda m: names[m.group(1).lower()], text) if pattern else text

    return [replace(t, author_name=labels.get(t.model_alias, t.author_name), content=masked(t.content))
            if t.model_alias is not None else t for t in turns]


async def round_context(discussion: Discussion, panel: Sequence[Seat], note: str = "",
                        notes: Mapping[str, str] | None = None, *,
                        anonymous: bool = False) -> tuple[MessagesFor, Trimmed]:
    """Each model's prompt: roundtable system prompt plus the stored discussion, fitted to its budget.
    `anonymous`: the models see each other as "Panelist A"… (identity labels feed sycophancy).

    Returns the prompt builder and, per model alias, how many old turns had to be left out.
    """
    project = await Project.get_or_none(id=discussion.project_id) if discussion.project_id else None
    topic, project_prompt = (project.topic, project.system_prompt) if project else ("", "")
    models = [s.model for s in panel]
    turns = label_members(await load_turns(discussion), models)
    labels = panelist_labels(discussion, turns) if anonymous else None
    if labels is not None:
        turns = anonymise(turns, labels, models)
    extra = notes or {}
    fitted = {s.alias: fit_context(s.model, system_prompt(s, panel, topic=topic, project_prompt=project_prompt,
                                                          labels=labels)
                                   + note + extra.get(s.alias, ""), turns) for s in panel}
    dropped = {alias: f.dropped for alias, f in fitted.items() if f.dropped}
    files = {alias: f.files_dropped for alias, f in fitted.items() if f.files_dropped}
    return (lambda model: fitted[model.alias].messages), Trimmed(dropped, files)


@dataclass(frozen=True, slots=True)
class Trimmed:
    """Per model alias: turns left out, and files of older turns left out, to fit its context window."""

    turns: dict[str, int]
    files: dict[str, int]

    def __bool__(self) -> bool:
        return bool(self.turns or self.files)


async def shared_images(discussion: Discussion) -> bool:
    return await AttachmentRecord.filter(discussion=discussion, kind=AttachmentKind.IMAGE).exists()
