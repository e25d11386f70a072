"""The spend ledger: one append-only row per billed model call, and a running monthly total per guild.

Budgets, /usage and the month's spend read it, never the (deletable) discussions: forgetting a member or a
discussion clears their ids here instead of deleting rows, so it never gives money back.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.timezone import now

from bot import metrics
from bot.config import ModelConfig
from bot.db.models import MonthlySpend, Spend, SpendKind
from bot.estimate import message_cost
from bot.llm.types import Usage


@dataclass(frozen=True, slots=True)
class Payer:
    """Whom a run's calls are billed to: the guild's budget, and the member who triggered the run."""

    guild_id: int | None = None
    user_id: int | None = None


def month_key(at: datetime) -> str:
    return at.strftime("%Y-%m")


def month_start(at: datetime) -> datetime:
    return at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class SearchBill:
    """Web searches to bill beside (or without) a model call: their own ledger row, under their own line."""

    searches: int
    cost: float


SEARCH_ALIAS_SUFFIX = ":search"  # a model's searches: "<alias>:search"; moai's own backend: "search:<backend>"


async def record(payer: Payer, discussion_id: int | None, model: ModelConfig, usage: Usage, cost: float,
                 search: SearchBill | None = None) -> None:
    """One billed call (and the searches it made, as a row of their own, in the same statement); the guild's
    month total moves with them in one atomic update."""
    rows = [Spend(guild_id=payer.guild_id, user_id=payer.user_id, discussion_id=discussion_id,
                  model_alias=model.alias, model_name=model.name[:100], provider=model.provider[:32],
                  input_tokens=usage.input_tokens or 0, output_tokens=usage.output_tokens or 0,
                  reasoning_tokens=usage.reasoning_tokens, cost_usd=cost, estimated=usage.estimated)]
    if search is not None and search.searches:
        rows.append(Spend(guild_id=payer.guild_id, user_id=payer.user_id, discussion_id=discussion_id,
                          model_alias=(model.alias + SEARCH_ALIAS_SUFFIX)[:32],
                          model_name=f"{model.name} · web search"[:100], provider=model.provider[:32],
                          cost_usd=search.cost, kind=SpendKind.SEARCH, searches=search.searches))
        metrics.SEARCHES.labels(model.provider, "ok").inc(search.searches)
        metrics.SPEND.labels(rows[-1].model_alias).inc(search.cost)
    await (rows[0].save() if len(rows) == 1 else Spend.bulk_create(rows))
    metrics.SPEND.labels(model.alias).inc(cost)
    metrics.TOKENS.labels(model.alias, "input").inc(usage.input_tokens or 0)
    metrics.TOKENS.labels(model.alias, "output").inc(usage.output_tokens or 0)
    await _add_to_month(payer, cost + (search.cost if search is not None and search.searches else 0.0))


async def record_backend_search(payer: Payer, discussion_id: int | None, backend: str, label: str,
                                cost: float) -> None:
    """One request to moai's own search backend: a ledger row of its own, whoever's models read the results."""
    await Spend.create(guild_id=payer.guild_id, user_id=payer.user_id, discussion_id=discussion_id,
                       model_alias=f"search:{backend}"[:32], model_name=f"Web search · {label}"[:100],
                       provider=backend[:32], cost_usd=cost, kind=SpendKind.SEARCH, searches=1)
    metrics.SPEND.labels(f"search:{backend}").inc(cost)
    await _add_to_month(payer, cost)


async def _add_to_month(payer: Payer, cost: float) -> None:
    if payer.guild_id is None or not cost:
        return
    month = month_key(now())
    if await MonthlySpend.filter(guild_id=payer.guild_id, month=month).update(total_usd=F("total_usd") + cost):
        return
    try:
        await MonthlySpend.create(guild_id=payer.guild_id, month=month, total_usd=cost)
    except IntegrityError:  # another process created the month's row first
        await MonthlySpend.filter(guild_id=payer.guild_id, month=month).update(total_usd=F("total_usd") + cost)


async def charge(payer: Payer, discussion_id: int | None, model: ModelConfig, usage: Usage,
                 search: SearchBill | None = None) -> float | None:
    """A call's cost at the model's prices, recorded (and returned), with its searches; None for an unpriced
    model, which records no tokens (its searches are still billed: their price is known)."""
    cost = message_cost(model, usage)
    if cost is not None:
        await record(payer, discussion_id, model, usage, cost, search)
    elif search is not None and search.searches:
        await record(payer, discussion_id, model, Usage(0, 0), 0.0, search)
    return cost


async def month_total(guild_id: int, at: datetime | None = None, connection: BaseDBAsyncClient | None = None) -> float:
    query = MonthlySpend.filter(guild_id=guild_id, month=month_key(at or now()))
    if connection is not None:
        query = query.using_db(connection)
    row = await query.first()
    return row.total_usd if row is not None else 0.0


async def anonymise_member(user_id: int) -> int:
    """The member's calls stay counted; who made them is forgotten."""
    return await Spend.filter(user_id=user_id).update(user_id=None)


async def anonymise_discussion(discussion_id: int) -> int:
    return await Spend.filter(discussion_id=discussion_id).update(discussion_id=None, user_id=None)


@dataclass
class UsageLine:
    name: str
    messages: int = 0  # billed calls (for a search line: ledger rows)
    searches: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cost: float = 0.0

    @property
    def counted(self) -> str:
        """"12 answers", "3 searches", or both: what the line billed, in words."""
        parts = [f"{self.messages} answers"] if self.messages or not self.searches else []
        searches = f"{self.searches} search{'' if self.searches == 1 else 'es'}"
        return " · ".join(parts + ([searches] if self.searches else []))


@dataclass
class UsageReport:
    since: datetime
    lines: dict[str, UsageLine] = field(default_factory=dict)
    daily: dict[date, dict[str, float]] = field(default_factory=dict)  # UTC day -> model name -> USD

    @property
    def total(self) -> UsageLine:
        total = UsageLine("Total")
        for line in self.lines.values():
            total.messages += line.messages
            total.searches += line.searches
            total.input_tokens += line.input_tokens
            total.output_tokens += line.output_tokens
            total.reasoning_tokens += line.reasoning_tokens
            total.cost += line.cost
        return total


BLIND = "(blind)"  # the line of answers given under a blind label whose vote is still open


async def usage_report(guild_id: int | None, user_id: int | None = None, at: datetime | None = None,
                       blind: Collection[int] = ()) -> UsageReport:
    """This month's billed calls in a guild (None: everywhere), per model and per day; for one member, only the
    runs they triggered. Calls of the `blind` discussions (a vote still open) are one line of their own:
    per-model numbers would pair the labels with the names."""
    since = month_start(at or now())
    query = Spend.filter(created_at__gte=since)
    if guild_id is not None:
        query = query.filter(guild_id=guild_id)
    if user_id is not None:
        query = query.filter(user_id=user_id)
    report = UsageReport(since)
    rows = await query.values("model_alias", "model_name", "input_tokens", "output_tokens", "reasoning_tokens",
                              "cost_usd", "created_at", "discussion_id", "kind", "searches")
    for row in rows:
        if row["discussion_id"] in blind:
            line = report.lines.setdefault(BLIND, UsageLine("Blind rounds, not revealed yet"))
        else:
            line = report.lines.setdefault(row["model_alias"], UsageLine(row["model_name"] or row["model_alias"]))
        line.messages += row["kind"] != SpendKind.SEARCH
        line.searches += row["searches"] or 0
        line.input_tokens += row["input_tokens"] or 0
        line.output_tokens += row["output_tokens"] or 0
        line.reasoning_tokens += row["reasoning_tokens"] or 0
        line.cost += row["cost_usd"] or 0.0
        day = report.daily.setdefault(row["created_at"].astimezone(UTC).date(), {})
        day[line.name] = day.get(line.name, 0.0) + (row["cost_usd"] or 0.0)
    return report
