"""Letting a run in: the guild's budget (a hold on its worst case) and the member's cooldown, or a clear refusal."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from bot.config import AppConfig, ModelConfig
from bot.db.models import BudgetHold
from bot.db.retry import persist
from bot.errors import UserError
from bot.estimate import run_cost
from bot.logs import log_event
from bot.search.pricing import search_estimate
from bot.services.access import require_access
from bot.services.budget import (
    BudgetRefused,
    CooldownClaim,
    refund_cooldown,
    release_budget,
    reserve_budget,
    take_cooldown,
)

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Ticket:
    """What admission took for one run (or, merged, for several members' share of one run).

    `release` when the run ends; `refund` if it never started."""

    holds: list[BudgetHold] = field(default_factory=list)
    cooldowns: list[CooldownClaim] = field(default_factory=list)
    settled: bool = False

    def absorb(self, other: Ticket) -> None:
        """Another member's admission joins this run (coalesced mentions): one run releases both."""
        self.holds += other.holds
        self.cooldowns += other.cooldowns
        other.settled = True

    async def release(self) -> None:
        """The run is over: its real cost is in the ledger now, so the holds go; cooldowns stay spent."""
        if not self.settled:
            self.settled = True
            await persist(self.release_again, "release budget hold")

    async def release_again(self) -> None:
        """Release the holds (again: after a release the database refused); releasing twice is harmless."""
        for hold in self.holds:
            await release_budget(hold)

    async def refund(self) -> None:
        """The run never started: the holds and the members' cooldowns all come back."""
        if not self.settled:
            self.settled = True
            for hold in self.holds:
                await release_budget(hold)
            for claim in self.cooldowns:
                await refund_cooldown(claim)

    @asynccontextmanager
    async def refunded_on_error(self) -> AsyncIterator[Ticket]:
        """For the setup between admission and the run's start: if it fails, nothing was spent."""
        try:
            yield self
        except BaseException:
            await self.refund()
            raise


class Admission:
    def __init__(self, config: AppConfig) -> None:
        self.config = config

    def estimate(self, models: Sequence[ModelConfig], prompt_chars: int, rounds: int = 1,
                 side_calls: Sequence[tuple[ModelConfig, float]] = (), *, search: bool = False) -> float:
        """The run's worst case: every round at max_tokens, the side calls, and with `search` every search."""
        estimate = run_cost(models, prompt_chars, rounds) + sum(cost for _, cost in side_calls)
        return estimate + (search_estimate(self.config, models, rounds) if search else 0.0)

    async def admit(self, guild_id: int | None, user_id: int, models: Sequence[ModelConfig], prompt_chars: int,
                    rounds: int = 1, side_calls: Sequence[tuple[ModelConfig, float]] = (),
                    search: bool = False, role_ids: Sequence[int] = (), project_id: int | None = None) -> Ticket:
        """A ticket for `rounds` rounds of `models` over a prompt of `prompt_chars` (plus one-off `side_calls`:
        a model and its worst-case cost, like the tagging model's; and with `search`, every round's searches at
        their limits), or UserError saying why not."""
        if guild_id is None:
            raise UserError("moai runs models in servers only.")
        await require_access(guild_id, models, role_ids, project_id)  # moai's own side calls are exempt
        estimate = self.estimate(models, prompt_chars, rounds, side_calls, search=search)
        called = [*models, *(model for model, _ in side_calls)]
        try:
            hold = await reserve_budget(self.config, guild_id, estimate, [m.name for m in called if not m.priced],
                                        user_id=user_id, role_ids=role_ids)
        except BudgetRefused:
            log_event(log, "budget_refused", guild=guild_id, user=user_id, models=[m.alias for m in models],
                      rounds=rounds, estimate_usd=round(estimate, 6))
            raise
        ticket = Ticket([hold] if hold is not None else [])
        try:
            claim = await take_cooldown(self.config, guild_id, user_id)
        except BaseException:
            await ticket.refund()
            raise
        ticket.cooldowns = [claim] if claim is not None else []
        return ticket
