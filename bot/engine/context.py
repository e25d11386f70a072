"""Fitting a discussion into each model's context budget, oldest turns first to go, with a visible note."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import ModelConfig
from bot.engine.prompts import Turn, turn_message
from bot.estimate import CHARS_PER_TOKEN, chars_for_tokens, estimate_tokens
from bot.llm.types import ChatMessage

MESSAGE_OVERHEAD = 4  # role and framing tokens per message
TRUNCATION_MARK = "\n[…]\n"


def message_tokens(message: ChatMessage) -> int:
    return estimate_tokens(message.content) + MESSAGE_OVERHEAD


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

    @property
    def tokens(self) -> int:
        return sum(message_tokens(m) for m in self.messages)


def dropped_note(count: int) -> ChatMessage:
    plural = "s were" if count != 1 else " was"
    return ChatMessage("user", f"[moai]: {count} earlier message{plural} left out to fit your context window.")


def fit_context(model: ModelConfig, system: str, turns: Sequence[Turn]) -> FittedContext:
    """System prompt, the opening question, then as many of the newest turns as the budget allows.

    The budget is the model's context_tokens minus its max_tokens (room for the answer).
    """
    budget = model.context_tokens - model.max_tokens
    system_message = ChatMessage("system", shorten(system, budget // 2))
    left = budget - message_tokens(system_message)
    if not turns:
        return FittedContext([system_message], 0, budget)

    first, *rest = turns
    opening = turn_message(model, first)
    if message_tokens(opening) > left // 2:
        opening = ChatMessage(opening.role, shorten(opening.content, left // 2 - MESSAGE_OVERHEAD))
    left -= message_tokens(opening)

    note_cost = message_tokens(dropped_note(len(rest))) if rest else 0
    room = left - note_cost  # as if the note will be needed; if nothing is dropped, it is simply unused
    kept: list[ChatMessage] = []
    for turn in reversed(rest):
        message = turn_message(model, turn)
        if message_tokens(message) > room:
            if not kept:  # the newest turn alone is too big: keep its head and tail
                message = ChatMessage(message.role, shorten(message.content, room - MESSAGE_OVERHEAD))
                if message_tokens(message) <= room:
                    kept.append(message)
                    room -= message_tokens(message)
            break
        kept.append(message)
        room -= message_tokens(message)
    dropped = len(rest) - len(kept)
    messages = [system_message, opening]
    if dropped and note_cost <= left:
        messages.append(dropped_note(dropped))
    messages.extend(reversed(kept))
    return FittedContext(messages, dropped, budget)
