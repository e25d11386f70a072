"""Money and pace in the database, so they hold across processes: monthly guild budgets with holds for runs
in progress, per-member cooldowns, and the usage report."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Sum
from tortoise.timezone import now
from tortoise.transactions import in_transaction

from bot.config import AppConfig
from bot.db.models import BudgetHold, Cooldown, Guild, MemberLimit, Spend
from bot.errors import Hint, UserError
from bot.kinds import LimitScope
from bot.services.ledger import month_start, month_total

# Who took a hold: this process, told apart from an earlier run of it (a crashed one) by its start.
PROCESS_ID = f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
TIME_SLACK = timedelta(milliseconds=1)
HOLD_LIFETIME = timedelta(hours=1)  # longer than any run: a crashed process's holds lapse after this


def budget_of(config: AppConfig, guild: Guild | None) -> float:
    if guild is not None and guild.monthly_budget_usd is not None:
        return guild.monthly_budget_usd
    return config.defaults.monthly_budget_usd


async def guild_budget(config: AppConfig, guild_id: int) -> float:
    return budget_of(config, await Guild.get_or_none(discord_id=guild_id))


class UnpricedRefused(UserError):
    """A model with no known price asked to run where a budget is set."""


@dataclass(frozen=True, slots=True)
class MemberCap:
    """The tightest monthly limit on one member's runs, and where it comes from (for the refusal)."""

    amount: float
    source: str  # "your own limit", "the limit of one of your roles", "this server's limit per member"


async def member_cap(guild: Guild | None, user_id: int | None, role_ids: Sequence[int]) -> MemberCap | None:
    if guild is None or user_id is None:
        return None
    rows = await MemberLimit.filter(Q(scope=LimitScope.EVERYONE) | Q(scope=LimitScope.MEMBER, target_id=user_id)
                                    | Q(scope=LimitScope.ROLE, target_id__in=list(role_ids) or [0]), guild=guild)
    sources = {LimitScope.MEMBER: "your own limit", LimitScope.ROLE: "the limit of one of your roles",
               LimitScope.EVERYONE: "this server's limit per member"}
    caps = [MemberCap(row.amount_usd, sources[row.scope]) for row in rows]
    return min(caps, key=lambda cap: cap.amount) if caps else None


async def member_committed(guild: Guild, user_id: int, connection: BaseDBAsyncClient | None = None) -> float:
    """What the member's runs spent this month in the guild, plus their runs' open holds."""
    current = now()
    spend = Spend.filter(guild_id=guild.discord_id, user_id=user_id, created_at__gte=month_start(current))
    holds = BudgetHold.filter(guild=guild, user_id=user_id, expires_at__gt=current)
    if connection is not None:
        spend, holds = spend.using_db(connection), holds.using_db(connection)
    spent = await spend.annotate(total=Sum("cost_usd")).values_list("total", flat=True)
    held = await holds.annotate(total=Sum("amount_usd")).values_list("total", flat=True)
    return float(spent[0] or 0.0) + float(held[0] or 0.0)  # type: ignore[arg-type]


async def reserve_budget(config: AppConfig, guild_id: int, estimate: float,
                         unpriced: Sequence[str] = (), user_id: int | None = None,
                         role_ids: Sequence[int] = ()) -> BudgetHold | None:
    """Set the run's worst-case cost aside, or refuse (UserError) if it could take the guild over budget or
    the member over their monthly limit (their own, a role's or the server's per member: the tightest).

    The guild row is locked (SELECT ... FOR UPDATE on PostgreSQL) while spend and open holds are added
    up, so runs admitted at the same moment by different processes cannot overspend together.
    """
    guild = await Guild.get_or_none(discord_id=guild_id)
    budget = budget_of(config, guild)
    cap = await member_cap(guild, user_id, role_ids)
    if not budget and cap is None:
        return None
    if unpriced and not config.defaults.allow_unpriced:
        raise UnpricedRefused(
            f"This server has a budget, and moai knows no price for {', '.join(unpriced)}, so it cannot promise to "
            "stay within it. Pick other models, or ask the bot owner to price them (input_price/output_price in "
            "config.toml, or `moai models sync`).")
    if guild is None:
        await create_guild_row(guild_id)
    async with in_transaction() as connection:
        guild = await Guild.select_for_update().using_db(connection).get(discord_id=guild_id)
        current = now()
        held: list[float] = await BudgetHold.filter(  # type: ignore[assignment]
            guild=guild, expires_at__gt=current).using_db(connection).values_list("amount_usd", flat=True)
        spent = await month_total(guild_id, connection=connection)
        committed = spent + float(sum(held))
        if budget and committed + estimate > budget:
            raise BudgetRefused(f"This server's monthly budget is ${budget:.2f}; ${committed:.2f} is spent or in use "
                                f"and this run could cost up to ${estimate:.2f}. Try fewer models, or ask an admin "
                                "to raise the budget.", Hint.BUDGET)
        if cap is not None and user_id is not None:
            mine = await member_committed(guild, user_id, connection)
            if mine + estimate > cap.amount:
                raise BudgetRefused(f"Your monthly limit here is ${cap.amount:.2f} ({cap.source}); ${mine:.2f} of it "
                                    f"is spent or in use and this run could cost up to ${estimate:.2f}. Try fewer "
                                    "models or rounds, or ask an admin.", Hint.BUDGET)
        return await BudgetHold.create(guild=guild, amount_usd=estimate, expires_at=current + HOLD_LIFETIME,
                                       owner=PROCESS_ID, user_id=user_id, using_db=connection)


async def create_guild_row(guild_id: int, name: str = "") -> Guild:
    """The guild's row (the one the budget lock is taken on); two processes may race to create it, one wins."""
    try:
        row, _ = await Guild.get_or_create(discord_id=guild_id, defaults={"name": name[:100]})
    except IntegrityError:  # another process created it between the get and the insert
        row = await Guild.get(discord_id=guild_id)
    return row


async def release_orphaned_holds(guild_ids: Sequence[int]) -> int:
    """At startup: holds in this process's guilds that no living run of it owns (a crash left them)."""
    return await BudgetHold.filter(guild__discord_id__in=list(guild_ids)).exclude(owner=PROCESS_ID).delete()


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


async def set_anyone_steers(guild_id: int, anyone: bool) -> None:
    await create_guild_row(guild_id)
    await Guild.filter(discord_id=guild_id).update(anyone_steers=anyone)


async def anyone_steers(guild_id: int | None) -> bool:
    """The server's choice: may every member /stop, /continue or Resume any discussion?"""
    guild = await Guild.get_or_none(discord_id=guild_id) if guild_id is not None else None
    return bool(guild and guild.anyone_steers)


async def set_guild_budget(guild_id: int, amount: float) -> None:
    await create_guild_row(guild_id)
    await Guild.filter(discord_id=guild_id).update(monthly_budget_usd=amount)


async def set_member_limit(guild_id: int, scope: LimitScope, target_id: int, amount: float) -> None:
    """A monthly limit for a member, a role or every member (0 removes it)."""
    guild = await create_guild_row(guild_id)
    rows = MemberLimit.filter(guild=guild, scope=scope, target_id=target_id)
    if not amount:
        await rows.delete()
        return
    if not await rows.update(amount_usd=amount):
        try:
            await MemberLimit.create(guild=guild, scope=scope, target_id=target_id, amount_usd=amount)
        except IntegrityError:  # set at the same moment elsewhere: this one is the last word
            await rows.update(amount_usd=amount)


async def member_limits(guild_id: int) -> list[MemberLimit]:
    return await MemberLimit.filter(guild__discord_id=guild_id).order_by("scope", "target_id")


async def member_month(guild_id: int, user_id: int, role_ids: Sequence[int]) -> tuple[float, MemberCap | None]:
    """(spent or held this month, their tightest limit) for /usage member:."""
    guild = await Guild.get_or_none(discord_id=guild_id)
    if guild is None:
        return 0.0, None
    return await member_committed(guild, user_id), await member_cap(guild, user_id, role_ids)
