"""What each model is told: who it is, who else is at the table, and the discussion so far."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.attachments import Attachment
from bot.config import ModelConfig
from bot.kinds import AttachmentKind
from bot.llm.types import ChatMessage, DocumentPart, ImagePart, Part
from bot.seats import Seat

ROUNDTABLE_PROMPT = """\
You are {name}, one of several AI models taking part in a roundtable on Discord, run by the moai bot.
Participants: {participants}. You are {name}.
Each participant answers in its own Discord message under its own name. Answer in your own voice: \
direct, concrete and concise, with Markdown where it helps. Do not speak for other participants and \
do not start your answer with your own name.{topic}{project}"""

AGREE_MARKER = "[AGREE]"

FIRST_ROUND_NOTE = """

This is a roundtable debate of {total} rounds. Round 1: give your own answer; the others will read it."""

LATER_ROUND_NOTE = """

This is round {number} of {total}. Read the earlier rounds, respond to the other participants by name where \
you agree or disagree, and refine your answer. Change your position only for an argument you can name, not \
because others agree. If you fully agree with the others and have nothing to add, put a line containing only \
""" + AGREE_MARKER + " just before your stance."

MENTION_NOTE = """

{user} addressed you directly in the discussion thread: answer their latest message, with the discussion \
so far as context."""


def discuss_note(number: int, total: int) -> str:
    template = FIRST_ROUND_NOTE if number == 1 else LATER_ROUND_NOTE
    return template.format(number=number, total=total)


def mention_note(user: str) -> str:
    return MENTION_NOTE.format(user=user)


def converged(answers: Sequence[str]) -> bool:
    """Early stop rule: every model of a round after the first ended its answer with [AGREE]."""
    return bool(answers) and all(a.rstrip().endswith(AGREE_MARKER) for a in answers)


@dataclass(frozen=True, slots=True)
class Turn:
    """One stored utterance: a user's message or a model's answer, with the files it shared."""

    author_name: str
    content: str
    model_alias: str | None = None  # None for people
    attachments: tuple[Attachment, ...] = ()


def system_prompt(seat: Seat, panel: Sequence[Seat], *, topic: str = "", project_prompt: str = "",
                  labels: Mapping[str, str] | None = None) -> str:
    """`labels`: each model's neutral name ("Panelist A") in an anonymous debate round, its role kept."""
    def label(s: Seat) -> str:
        if labels is None or s.alias not in labels:
            return s.label
        return f"{labels[s.alias]} ({s.role})" if s.role else labels[s.alias]

    return ROUNDTABLE_PROMPT.format(
        name=label(seat),
        participants=", ".join(label(s) for s in panel),
        topic=f"\nProject topic: {topic}" if topic else "",
        project=f"\n\n{project_prompt}" if project_prompt else "",
    )


def turn_message(model: ModelConfig, turn: Turn, *, with_files: bool = True) -> ChatMessage:
    """The model's own earlier answers are assistant turns; everyone else speaks as a labelled user turn.

    Files go as the model can read them: images and PDFs natively where it can, text files (and PDFs' text
    otherwise) fenced in the text, and a one-line note for an image it cannot see. Without `with_files`
    (to fit the context window) each file is a note that it was left out."""
    if turn.model_alias == model.alias:
        return ChatMessage("assistant", turn.content)
    text = f"[{turn.author_name}]: {turn.content}" if turn.content.strip() else f"[{turn.author_name}] shared:"
    notes: list[str] = []
    parts: list[Part] = []
    for file in turn.attachments:
        if not with_files:
            notes.append(f"[{file.kind} `{file.name}` left out to fit your context window]")
        elif file.kind == AttachmentKind.IMAGE and sees_images(model):
            parts.append(ImagePart(file.media_type, file.data_b64))
        elif file.kind == AttachmentKind.IMAGE:
            notes.append(f"[an image, `{file.name}`, was shared here; you cannot see images, the others can]")
        elif file.kind == AttachmentKind.PDF and reads_pdfs(model):
            parts.append(DocumentPart(file.name, file.media_type, file.data_b64))
        else:
            notes.append(file.fenced())
    return ChatMessage("user", "\n\n".join([text, *notes]), tuple(parts))


def sees_images(model: ModelConfig) -> bool:
    return bool(model.vision)


def reads_pdfs(model: ModelConfig) -> bool:
    return bool(model.native_pdf)
