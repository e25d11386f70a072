"""The optional position judge: one short, billed call that groups a round's stances when the word rules are
unsure (`[debate] position_judge`, off by default).

The rules stay the tested default and the fallback: the judge is asked only when two stances the rules put
apart are not explicitly opposed (no "X, not Y" between them), its answer is used only when it groups every
stance, and any failure (provider, timeout, a reply that is no grouping) keeps the rules' groups. Its tokens
go to the ledger, billed like an answer, and each debate round's worst case is in the run's budget hold.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import AppConfig, ModelConfig
from bot.estimate import round_cost
from bot.llm.registry import ModelClients
from bot.llm.types import ChatMessage, Usage
from bot.logs import log_event
from bot.modes.base import GroupPositions
from bot.services import ledger
from bot.services.ledger import Payer
from bot.services.side_calls import billed_call

__all__ = ["JUDGE_PROMPT", "PositionJudge", "judge_cost", "judge_for", "parse_groups"]

log = logging.getLogger(__name__)
JUDGE_TIMEOUT = 30.0
JUDGE_MAX_TOKENS = 64
POSITION_CHARS = 300  # a stance's position is stored at most this long
JUDGE_PROMPT = ("Debate participants stated these positions. Group the positions that mean the same thing (same "
                "recommendation, same direction). Reply with the groups only, numbers separated by commas, "
                "groups separated by |, for example: 1,3 | 2")


def judge_for(config: AppConfig) -> ModelConfig | None:
    """The judge as it is called (short, no thinking), or None when none is configured."""
    alias = config.debate.position_judge
    if not alias or alias not in config.models:
        return None
    return config.models[alias].model_copy(update={"max_tokens": JUDGE_MAX_TOKENS, "thinking_budget": None})


def judge_cost(model: ModelConfig, panel_size: int) -> float:
    """One call's worst case: the prompt and every position at its longest."""
    return round_cost([model], len(JUDGE_PROMPT) + panel_size * (POSITION_CHARS + 8))


def parse_groups(reply: str, count: int) -> list[int] | None:
    """'1,3 | 2' as group numbers per position ([0, 1, 0]); None unless every position is in exactly one group."""
    found: list[int | None] = [None] * count
    for number, part in enumerate(p for p in reply.split("|") if p.strip()):
        for index in (int(n) - 1 for n in re.findall(r"\d+", part)):
            if not 0 <= index < count or found[index] is not None:
                return None
            found[index] = number
    if any(g is None for g in found):
        return None
    order: dict[int, int] = {}
    return [order.setdefault(g, len(order)) for g in found if g is not None]


@dataclass(slots=True)
class PositionJudge:
    config: AppConfig
    clients: ModelClients

    def for_run(self, discussion_id: int, payer: Payer) -> GroupPositions | None:
        """The judge as a run's debate rounds call it (billed to its payer), or None when none is configured."""
        if judge_for(self.config) is None:
            return None

        async def group(positions: Sequence[str]) -> list[int] | None:
            return await self.group(discussion_id, payer, positions)

        return group

    async def group(self, discussion_id: int, payer: Payer, positions: Sequence[str]) -> list[int] | None:
        """The judge's groups for these positions, or None (keep the rules')."""
        model = judge_for(self.config)
        if model is None or len(positions) < 2:
            return None
        listed = "\n".join(f"{i}. {p[:POSITION_CHARS]}" for i, p in enumerate(positions, start=1))
        messages = [ChatMessage("system", JUDGE_PROMPT), ChatMessage("user", listed)]

        async def bill(called: ModelConfig, usage: Usage) -> float | None:
            return await ledger.charge(payer, discussion_id, called, usage)

        answered = await billed_call(self.clients, model, messages, bill, seconds=JUDGE_TIMEOUT,
                                     failed_event="position_judge_failed", discussion=discussion_id)
        if answered is None:  # the rules' grouping stays
            return None
        completion, _ = answered
        groups = parse_groups(completion.text, len(positions))
        log_event(log, "positions_judged", discussion=discussion_id, model=model.alias, groups=groups)
        return groups
