"""Fitting a discussion into each model's context budget, oldest turns first to go, with a visible note."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.config import ModelConfig
from bot.engine.prompts import Turn, turn_message
from bot.estimate import CHARS_PER_TOKEN, chars_for_tokens, estimate_tokens
from bot.kinds import AttachmentKind
from bot.llm.types import ChatMessage, ImagePart

MESSAGE_OVERHEAD = 4  # role and framing tokens per message
TRUNCATION_MARK = "\n[…]\n"


# A native image at most; a PDF page (parts carry no page count).
PART_TOKENS = {AttachmentKind.IMAGE: 1600, AttachmentKind.PDF: 1500}


def message_tokens(message: ChatMessage, turn: Turn | None = None) -> int:
    """Text estimate, plus the files sent natively (their own estimate when the turn is known)."""
    files = 0
    if message.parts:
        if turn is not None:
            files = sum(a.tokens(native=True) for a in turn.attachments if a.kind in PART_TOKENS)
        else:
            files = sum(PART_TOKENS[AttachmentKind.IMAGE if isinstance(p, ImagePart) else AttachmentKind.PDF]
                        for p in message.parts)
    return estimate_tokens(message.content) + MESSAGE_OVERHEAD + files


def shorten(text: str, tokens: int) -> str:
    """Keep the head and tail of an oversized turn."""
    keep = max(0, chars_for_tokens(tokens) - len(TRUNCATION_MARK) - CHARS_PER_TOKEN)
    if len(text) <= keep:
        return text
    return text[: keep // 2] + TRUNCATION_MARK + text[len(text) - keep // 2 :]


@dataclass(frozen=True, slots=True)
class FittedContext:
    messages: list[ChatMessage]
    dropped: int  # turns left out
    budget: int
    files_dropped: int = 0  # files of older turns left out (their text kept)

    @property
    def tokens(self) -> int:
        return sum(message_tokens(m) for m in self.messages)


def dropped_note(count: int) -> ChatMessage:
    plural = "s were" if count != 1 else " was"
    return ChatMessage("user", f"[moai]: {count} earlier message{plural} left out to fit your context window.")


def fit_context(model: ModelConfig, system: str, turns: Sequence[Turn]) -> FittedContext:
    """System prompt, the opening question (with its files), then as many of the newest turns as fit.

    The budget is the model's context_tokens minus its max_tokens (room for the answer). When it is short,
    the files of older turns go first (the opening's and the newest turn's stay), then older turns.
    """
    fitted = _fit(model, system, turns)
    if not fitted.dropped or not any(t.attachments for t in turns[1:-1]):
        return fitted
    lighter = [turns[0], *(replace(t, attachments=()) if t.attachments else t for t in turns[1:-1]), turns[-1]]
    stripped = sum(len(t.attachments) for t in turns[1:-1])
    slim = _fit(model, system, lighter, keep_notes=turns)
    return replace(slim, files_dropped=stripped) if slim.dropped < fitted.dropped else fitted


def _fit(model: ModelConfig, system: str, turns: Sequence[Turn],
         keep_notes: Sequence[Turn] | None = None) -> FittedContext:
    """`keep_notes`: the turns as they were, so a turn whose files were stripped says which were left out."""
    originals = list(keep_notes) if keep_notes is not None else list(turns)

    def message_for(index: int) -> ChatMessage:
        turn, original = turns[index], originals[index]
        if original.attachments and not turn.attachments:
            return turn_message(model, original, with_files=False)
        return turn_message(model, turn)

    budget = model.context_tokens - model.max_tokens
    system_message = ChatMessage("system", shorten(system, budget // 2))
    left = budget - message_tokens(system_message)
    if not turns:
        return FittedContext([system_message], 0, budget)

    first, *rest = turns
    opening = message_for(0)
    if message_tokens(opening, first) > left // 2:
        opening = ChatMessage(opening.role, shorten(opening.content, left // 2 - MESSAGE_OVERHEAD), opening.parts)
    left -= message_tokens(opening, first)

    note_cost = message_tokens(dropped_note(len(rest))) if rest else 0
    room = left - note_cost  # as if the note will be needed; if nothing is dropped, it is simply unused
    kept: list[ChatMessage] = []
    for index in range(len(turns) - 1, 0, -1):
        turn = turns[index]
        message = message_for(index)
        if message_tokens(message, turn) > room:
            if not kept:  # the newest turn alone is too big: keep its head and tail (and its files)
                files = message_tokens(message, turn) - message_tokens(ChatMessage(message.role, message.content))
                message = ChatMessage(message.role, shorten(message.content, room - MESSAGE_OVERHEAD - files),
                                      message.parts)
                if message_tokens(message, turn) <= room:
                    kept.append(message)
                    room -= message_tokens(message, turn)
            break
        kept.append(message)
        room -= message_tokens(message, turn)
    dropped = len(rest) - len(kept)
    messages = [system_message, opening]
    if dropped and note_cost <= left:
        messages.append(dropped_note(dropped))
    messages.extend(reversed(kept))
    return FittedContext(messages, dropped, budget)
