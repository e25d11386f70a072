"""The buttons moai shows, built from custom-id templates.

A button's press is answered by the cog whose feature it is: a `discord.ui.DynamicItem` whose template is one
of these, registered by that cog. This module only builds what members see, so the delivery code imports no
callback; and custom ids carry positions and row ids, never a model's name (blind rounds stay blind).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import discord

from bot.engine.notices import VoteCall
from bot.engine.rounds import Answer, RoundResult

__all__ = [
    "ACTIONS",
    "FORECAST",
    "REASONING",
    "RESUME",
    "SOURCES",
    "VOTE",
    "VOTE_EXTRAS",
    "ShownButton",
    "Template",
    "add_round_actions",
    "add_sources_button",
    "forecast_view",
    "reasoning_view",
    "resume_view",
    "vote_text",
    "vote_view",
]

ACTION_ROW = 4  # the last of Discord's five rows; rows 0-3 hold the reasoning or answer buttons
MAX_REASONING_BUTTONS = 25  # Discord: 5 rows of 5
MAX_ANSWER_BUTTONS = 20  # rows 0-3; the last row holds Tie, All bad and Close
_FIELD = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class Template:
    """A persistent custom id such as `moai:resume:{id}`: `pattern` is what a DynamicItem matches (each field
    by its regex), `custom_id` builds one."""

    form: str
    fields: Mapping[str, str]

    @property
    def pattern(self) -> str:
        parts, last = [], 0
        for match in _FIELD.finditer(self.form):
            parts += [re.escape(self.form[last:match.start()]), f"(?P<{match[1]}>{self.fields[match[1]]})"]
            last = match.end()
        return "".join([*parts, re.escape(self.form[last:])])

    def custom_id(self, **values: object) -> str:
        return self.form.format(**values)


ID = "[0-9]+"
RESUME = Template("moai:resume:{id}", {"id": ID})
REASONING = Template("moai:reasoning:{id}", {"id": ID})  # a stored answer's row id
SOURCES = Template("moai:sources:{id}", {"id": ID})  # a round's row id
FORECAST = Template("moai:forecast:{id}", {"id": ID})  # a prediction's row id
VOTE = Template("moai:vote:{id}:{choice}", {"id": ID, "choice": "[0-9]+|tie|bad|close"})  # choice: a position


@dataclass(frozen=True, slots=True)
class Action:
    template: Template
    label: str
    emoji: str
    style: discord.ButtonStyle


# The buttons under each round's status line, each answered by its own cog (discuss, consensus, stop, export).
ACTIONS = {
    "more": Action(Template("moai:act:more:{id}", {"id": ID}), "One more round", "➕", discord.ButtonStyle.primary),
    "consensus": Action(Template("moai:act:consensus:{id}", {"id": ID}), "Consensus", "🧭",
                        discord.ButtonStyle.secondary),
    "stop": Action(Template("moai:act:stop:{id}", {"id": ID}), "Stop", "⏹️", discord.ButtonStyle.danger),
    "export": Action(Template("moai:act:export:{id}", {"id": ID}), "Export", "📄", discord.ButtonStyle.secondary),
}
VOTE_EXTRAS = {"tie": ("Tie", "🤝", discord.ButtonStyle.secondary),
               "bad": ("All bad", "👎", discord.ButtonStyle.secondary),
               "close": ("Close vote", "🔒", discord.ButtonStyle.danger)}


class ShownButton(discord.ui.Button[discord.ui.View]):
    """A button as members see it. Its press goes to the DynamicItem its custom id matches, so discord.py is
    told not to keep the view that carries it."""

    def is_dispatchable(self) -> bool:
        return False


def forecast_view(prediction_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ShownButton(label="Add your forecast", emoji="🔮", style=discord.ButtonStyle.primary,
                              custom_id=FORECAST.custom_id(id=prediction_id)))
    return view


def resume_view(discussion_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ShownButton(label="Resume", emoji="▶️", style=discord.ButtonStyle.primary,
                              custom_id=RESUME.custom_id(id=discussion_id)))
    return view


def add_round_actions(view: discord.ui.View, discussion_id: int) -> discord.ui.View:
    """One more round, Consensus, Stop, Export: on the last row, under the reasoning buttons."""
    for action in ACTIONS.values():
        view.add_item(ShownButton(label=action.label, emoji=action.emoji, style=action.style, row=ACTION_ROW,
                                  custom_id=action.template.custom_id(id=discussion_id)))
    return view


def add_sources_button(view: discord.ui.View | None, result: RoundResult) -> discord.ui.View | None:
    """A "Sources" button on the last row when some answer of a searching round has sources to show."""
    if result.search is None or not result.search.with_sources:
        return view
    view = view or discord.ui.View(timeout=None)
    view.add_item(ShownButton(label="Sources", emoji="🔗", style=discord.ButtonStyle.secondary, row=ACTION_ROW,
                              custom_id=SOURCES.custom_id(id=result.round.id)))
    return view


def reasoning_view(answers: Sequence[Answer], reserve: int = 0) -> discord.ui.View | None:
    """A button per answer that has reasoning, or None when no model showed any; `reserve` leaves room for
    other buttons on the same message."""
    thinking = [a for a in answers if a.reasoning][:MAX_REASONING_BUTTONS - reserve]
    if not thinking:
        return None
    view = discord.ui.View(timeout=None)
    for answer in thinking:
        name = answer.seat.label
        view.add_item(ShownButton(label=f"{name}'s reasoning"[:80] if name else "Reasoning", emoji="🧠",
                                  style=discord.ButtonStyle.secondary, custom_id=REASONING.custom_id(id=answer.row.id)))
    return view


def vote_view(vote: VoteCall) -> discord.ui.View:
    """One button per answer (as members saw it: a label, never the model behind a blind one), then the extras."""
    view = discord.ui.View(timeout=None)
    for index, label in enumerate(vote.labels[:MAX_ANSWER_BUTTONS]):
        view.add_item(ShownButton(label=label[:80] or f"Answer {index + 1}", style=discord.ButtonStyle.primary,
                                  custom_id=VOTE.custom_id(id=vote.id, choice=index)))
    for choice, (text, emoji, style) in VOTE_EXTRAS.items():
        view.add_item(ShownButton(label=text, emoji=emoji, style=style, row=ACTION_ROW,
                                  custom_id=VOTE.custom_id(id=vote.id, choice=choice)))
    return view


def vote_text(vote: VoteCall) -> str:
    return (f"🗳️ **Which answer is best?** One vote each, changeable until the vote closes "
            f"(<t:{int(vote.closes_at.timestamp())}:R>, when the starter closes it, or when the next round starts).")
