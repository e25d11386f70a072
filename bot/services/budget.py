"""Money and pace in the database, so they hold across processes: monthly guild budgets with holds for runs
in progress, per-member cooldowns, and the usage report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.timezone import now
from tortoise.transactions import in_transaction

from bot.config import AppConfig
from bot.db.models import BudgetHold, Cooldown, Guild, Message
from bot.errors import UserError
from bot.kinds import AuthorKind

TIME_SLACK = timedelta(milliseconds=1)
HOLD_LIFETIME = timedelta(hours=1)  # longer than any run: a crashed process's holds lapse after this


def month_start(at: datetime) -> datetime:
    return at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def month_spend(guild_id: int, at: datetime | None = None,
                      connection: BaseDBAsyncClient | None = None) -> float:
    # Tortoise's Sum() here groups by every column (one row per message), so add up the costs ourselves.
    query = Message.filter(discussion__guild__discord_id=guild_id, created_at__gte=month_start(at or now()),
                           cost_usd__isnull=False)
    if connection is not None:
        query = query.using_db(connection)
    costs: list[float] = await query.values_list("cost_usd", flat=True)  # type: ignore[assignment]
    return float(sum(costs))


def budget_of(config: AppConfig, guild: Guild | None) -> float:
    if guild is not None and guild.monthly_budget_usd is not None:
        return guild.monthly_budget_usd
    return config.defaults.monthly_budget_usd


async def guild_budget(config: AppConfig, guild_id: int) -> float:
    return budget_of(config, await Guild.get_or_none(discord_id=guild_id))


async def reserve_budget(config: AppConfig, guild_id: int, estimate: float) -> BudgetHold | None:
    """Set the run's worst-case cost aside, or refuse (UserError) if it could take the guild over budget.

    The guild row is locked (SELECT ... FOR UPDATE on PostgreSQL) while spend and open holds are added
    up, so runs admitted at the same moment by different processes cannot overspend together.
    """
    guild = await Guild.get_or_none(discord_id=guild_id)
    budget = budget_of(config, guild)
    if not budget:
        return None
    if guild is None:
        await create_guild_row(guild_id)
    async with in_transaction() as connection:
        guild = await Guild.select_for_update().using_db(connection).get(discord_id=guild_id)
        current = now()
        held: list[float] = await BudgetHold.filter(  # type: ignore[assignment]
            guild=guild, expires_at__gt=current).using_db(connection).values_list("amount_usd", flat=True)
        spent = await month_spend(guild_id, connection=connection)
        committed = spent + float(sum(held))
        if committed + estimate > budget:
            raise BudgetRefused(f"This server's monthly budget is ${budget:.2f}; ${committed:.2f} is spent or in use "
                                f"and this run could cost up to ${estimate:.2f}. Try fewer models, or ask an admin "
                                "to raise it with /budget.")
        return await BudgetHold.create(guild=guild, amount_usd=estimate, expires_at=current + HOLD_LIFETIME,
                                       using_db=connection)


async def create_guild_row(guild_id: int) -> None:
    """The row the budget lock is taken on; two processes may race to create it, and one insert wins."""
    try:
        await Guild.create(discord_id=guild_id)
    except IntegrityError:
        pass


async def release_budget(hold: BudgetHold | None) -> None:
    """The run is over: its real cost is on its messages now."""
    if hold is not None:
        await BudgetHold.filter(id=hold.id).delete()


class BudgetRefused(UserError):
    """The run could take the guild over its monthly budget."""


@dataclass(frozen=True, slots=True)
class CooldownClaim:
    """A member's cooldown as taken for one run: enough to give it back if the run never starts."""

    guild_id: int
    user_id: int
    taken_at: datetime
    previous: datetime | None  # None: the member had no cooldown row before


async def take_cooldown(config: AppConfig, guild_id: int, user_id: int) -> CooldownClaim | None:
    """Atomic in the database: of two processes racing for the same user, exactly one gets through."""
    seconds = config.defaults.user_cooldown_seconds
    if not seconds:
        return None
    current = now()
    row = await Cooldown.get_or_none(guild_id=guild_id, user_id=user_id)
    if row is not None:
        claimed = await Cooldown.filter(id=row.id, last_at__lte=current - timedelta(seconds=seconds)).update(
            last_at=current)
        if claimed:
            return CooldownClaim(guild_id, user_id, current, row.last_at)
    else:
        try:
            await Cooldown.create(guild_id=guild_id, user_id=user_id, last_at=current)
            return CooldownClaim(guild_id, user_id, current, None)
        except IntegrityError:
            pass
    row = await Cooldown.get(guild_id=guild_id, user_id=user_id)
    wait = seconds - (current - row.last_at).total_seconds()
    raise UserError(f"Slow down: you can start another run in {max(wait, 1):.0f} s.")


async def refund_cooldown(claim: CooldownClaim | None) -> None:
    """The run never started: the member's previous cooldown comes back, unless a newer run took it since."""
    if claim is None:
        return
    # A small window rather than equality: databases may round the stored time.
    mine = Cooldown.filter(guild_id=claim.guild_id, user_id=claim.user_id,
                           last_at__gte=claim.taken_at - TIME_SLACK, last_at__lte=claim.taken_at + TIME_SLACK)
    if claim.previous is None:
        await mine.delete()
    else:
        await mine.update(last_at=claim.previous)


async def set_guild_budget(guild_id: int, amount: float) -> None:
    await create_guild_row(guild_id)
    await Guild.filter(discord_id=guild_id).update(monthly_budget_usd=amount)


async def forget_cooldowns(user_id: int) -> None:
    await Cooldown.filter(user_id=user_id).delete()


@dataclass
class UsageLine:
    name: str
    messages: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0


@dataclass
class UsageReport:
    since: datetime
    lines: dict[str, UsageLine] = field(default_factory=dict)

    @property
    def total(self) -> UsageLine:
        total = UsageLine("Total")
        for line in self.lines.values():
            total.messages += line.messages
            total.input_tokens += line.input_tokens
            total.output_tokens += line.output_tokens
            total.cost += line.cost
        return total


async def usage_report(guild_id: int, user_id: int | None = None, at: datetime | None = None) -> UsageReport:
    """This month's model usage in a guild, per model; for one user, only runs they started."""
    since = month_start(at or now())
    query = Message.filter(discussion__guild__discord_id=guild_id, author_kind=AuthorKind.MODEL, created_at__gte=since)
    if user_id is not None:
        query = query.filter(discussion__created_by=user_id)
    report = UsageReport(since)
    rows = await query.values("model_alias", "author_name", "input_tokens", "output_tokens", "cost_usd")
    for row in rows:
        line = report.lines.setdefault(row["model_alias"] or "?", UsageLine(row["author_name"] or "?"))
        line.messages += 1
        line.input_tokens += row["input_tokens"] or 0
        line.output_tokens += row["output_tokens"] or 0
        line.cost += row["cost_usd"] or 0.0
    return report
