"""What each model is told: who it is, who else is at the table, and the discussion so far."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import ModelConfig
from bot.llm.types import ChatMessage

ROUNDTABLE_PROMPT = """\
You are {name}, one of several AI models taking part in a roundtable on Discord, run by the moai bot.
Participants: {participants}. You are {name}.
Each participant answers in its own Discord message under its own name. Answer in your own voice: \
direct, concrete and concise, with Markdown where it helps. Do not speak for other participants and \
do not start your answer with your own name.{topic}{project}"""


@dataclass(frozen=True, slots=True)
class Turn:
    """One stored utterance: a user's message or a model's answer."""

    author_name: str
    content: str
    model_alias: str | None = None  # None for people


def system_prompt(model: ModelConfig, panel: Sequence[ModelConfig], *, topic: str = "",
                  project_prompt: str = "") -> str:
    return ROUNDTABLE_PROMPT.format(
        name=model.name,
        participants=", ".join(m.name for m in panel),
        topic=f"\nProject topic: {topic}" if topic else "",
        project=f"\n\n{project_prompt}" if project_prompt else "",
    )


def build_messages(model: ModelConfig, panel: Sequence[ModelConfig], turns: Sequence[Turn], *,
                   topic: str = "", project_prompt: str = "") -> list[ChatMessage]:
    """The model's own earlier answers are assistant turns; everyone else speaks as a labelled user turn."""
    messages = [ChatMessage("system", system_prompt(model, panel, topic=topic, project_prompt=project_prompt))]
    for turn in turns:
        if turn.model_alias == model.alias:
            messages.append(ChatMessage("assistant", turn.content))
        else:
            messages.append(ChatMessage("user", f"[{turn.author_name}]: {turn.content}"))
    return messages
