"""The optional tagging model: one short, billed call that places a question the category rules left as "other".

It runs beside the discussion's first round (never delaying an answer), is bounded in time, and any failure
keeps the rules' category: a board's categories are a convenience, never a reason for a run to fail. Its
tokens go to the ledger like any answer's, billed to the member who started the discussion.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from bot.arena.categories import TAGGING_PROMPT, category_from_reply
from bot.config import AppConfig, ModelConfig
from bot.db.models import Discussion
from bot.estimate import round_cost
from bot.kinds import Category, DiscussionMode
from bot.llm.registry import ModelClients
from bot.llm.types import ChatMessage, Usage
from bot.logs import log_event
from bot.services import ledger
from bot.services.discussions import DiscussionStore
from bot.services.ledger import Payer
from bot.services.side_calls import billed_call

__all__ = ["TAG_TIMEOUT", "Tagger", "tagger_for"]

log = logging.getLogger(__name__)
TAG_TIMEOUT = 30.0  # seconds: the call gives up after this, the rules' category stays
TAG_MAX_TOKENS = 64  # one word, with room for a model that says a few first
QUESTION_CHARS = 2_000  # what of the question the tagger reads
TAGGED_MODES = (DiscussionMode.OPEN, DiscussionMode.DISCUSS)  # the modes whose rounds get a vote


def tagger_for(config: AppConfig, mode: DiscussionMode, question: str, category: Category) -> ModelConfig | None:
    """The model to tag this question with, as it will be called (short, no thinking), or None: only a
    discussion whose rounds are voted on, and only when the rules could not place it."""
    alias = config.arena.category_model
    if (not alias or alias not in config.models or not config.arena.votes or mode not in TAGGED_MODES
            or category is not Category.OTHER or not question.strip()):
        return None
    return config.models[alias].model_copy(update={"max_tokens": TAG_MAX_TOKENS, "thinking_budget": None})


def tagging_cost(model: ModelConfig, question: str) -> float:
    """The call's worst case, for the run's budget hold."""
    return round_cost([model], len(TAGGING_PROMPT) + len(question[:QUESTION_CHARS]))


@dataclass(slots=True)
class Tagger:
    """Owns its calls' tasks: a call outlives the round it started beside (a vote never waits for it, and a
    late category moves the discussion's votes with it); shutdown cancels what is left, billing the prompt."""

    config: AppConfig
    clients: ModelClients
    store: DiscussionStore
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def start(self, discussion: Discussion, payer: Payer) -> None:
        """Tag the discussion in the background, if it is one to tag."""
        if tagger_for(self.config, discussion.mode, discussion.question, discussion.category) is None:
            return
        task = asyncio.create_task(self.tag(discussion, payer), name=f"tag-{discussion.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait_idle(self) -> None:
        """Wait for every call in flight (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Shutdown: calls in flight stop (each bills the prompt the provider already read)."""
        for task in list(self._tasks):
            task.cancel()
        await self.wait_idle()

    async def tag(self, discussion: Discussion, payer: Payer) -> None:
        """Ask, bill what was spent, and store the category it names (if it names exactly one)."""
        model = tagger_for(self.config, discussion.mode, discussion.question, discussion.category)
        if model is None:
            return
        messages = [ChatMessage("system", TAGGING_PROMPT),
                    ChatMessage("user", discussion.question[:QUESTION_CHARS])]

        async def bill(called: ModelConfig, usage: Usage) -> float | None:
            return await self._bill(discussion, payer, called, usage)

        answered = await billed_call(self.clients, model, messages, bill, seconds=TAG_TIMEOUT,
                                     failed_event="category_tag_failed", discussion=discussion.id)
        if answered is None:  # the rules' category stays
            return
        completion, cost = answered
        category = category_from_reply(completion.text)
        log_event(log, "category_tagged", discussion=discussion.id, model=model.alias,
                  category=category.value if category else None, cost_usd=round(cost or 0.0, 6))
        if category is not None:
            await self.store.set_category(discussion, category)

    async def _bill(self, discussion: Discussion, payer: Payer, model: ModelConfig, usage: Usage) -> float | None:
        """The call's cost in the ledger; a discussion forgotten meanwhile (/forget) is billed anonymously."""
        if await self.store.get(discussion.id) is None:
            return await ledger.charge(Payer(payer.guild_id), None, model, usage)
        return await ledger.charge(payer, discussion.id, model, usage)
