"""Votes on rounds, blind reveals, and the per-server leaderboard built from them.

A vote is open from the end of its round until `[arena] vote_minutes` pass, the discussion's starter (or
someone with Manage Threads) closes it, or the next round of the discussion starts; whichever comes first
closes it, once, in any process (one conditional update).
"""

from __future__ import annotations

import asyncio
import random
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.timezone import now
from tortoise.transactions import in_transaction

from bot.arena.blind import names_itself
from bot.arena.ratings import Ballot, Rating, fitted, pairwise_ratings, ranking_ballots
from bot.arena.style import style_of, styles_from_rows
from bot.config import AppConfig
from bot.db.models import Discussion, Guild, Message, PeerRanking, Vote, VoteRound
from bot.engine.notices import Revealed, VoteCall, VoteClosed
from bot.engine.rounds import RoundResult
from bot.errors import UserError
from bot.kinds import AuthorKind, Category, MessageStatus, RoundKind, Ties

TIE, ALL_BAD = "tie", "bad"
SHUFFLE = random.SystemRandom()
VOTED_KINDS = (RoundKind.OPEN, RoundKind.DISCUSS)
PERIODS = {"week": timedelta(days=7), "month": timedelta(days=30), "all": None}


@dataclass(frozen=True, slots=True)
class Closed:
    """A vote just closed, where to announce it, and the notice that says how it went."""

    thread_id: int | None
    notice: VoteClosed


@dataclass(frozen=True, slots=True)
class BoardRow:
    alias: str
    name: str
    rating: Rating | None  # None: not voted on yet
    votes: int  # rated votes the model took part in
    wins: int
    median_latency_s: float | None
    cost_per_answer: float | None
    failure_rate: float | None
    answers: int

    ranked: bool = False  # rated with at least `[arena] min_votes` votes

    @property
    def win_rate(self) -> float | None:
        return self.wins / self.votes if self.votes else None


@dataclass(frozen=True, slots=True)
class BoardScope:
    """Which votes a board reads, and how it rates them."""

    project_id: int | None = None
    period: str = "all"
    category: Category | None = None  # None: every category
    raw: bool = False  # no style control


@dataclass(frozen=True, slots=True)
class Board:
    rows: list[BoardRow]
    peer: dict[str, Rating]  # from /consensus peer reviews: a separate rating, never one's own
    ballots: int  # votes read (ties included, "all bad" not)
    since: datetime | None
    rated_ballots: list[Ballot] = field(default_factory=list)  # what the ratings were fitted to
    scope: BoardScope = BoardScope()
    style: dict[str, float] = field(default_factory=dict)  # Elo worth of each style feature (empty: raw)
    ties: int = 0  # tie votes, which rate nothing when `[arena] ties = "none"`
    min_votes: int = 1

    @property
    def ranked(self) -> list[str]:
        return [r.alias for r in self.rows if r.ranked]

    def rank(self, alias: str) -> int | None:
        """The model's place among the ranked models (1 is best), None while it is unranked."""
        ranked = self.ranked
        return ranked.index(alias) + 1 if alias in ranked else None


@dataclass(frozen=True, slots=True)
class ModelRecord:
    row: BoardRow
    rank: int | None
    board: Board  # the leaderboard it was read from (its size, the peer ratings)
    head_to_head: dict[str, tuple[int, int]] = field(default_factory=dict)  # other name -> (wins, losses)


async def unrevealed_discussions(guild_id: int | None) -> list[int]:
    """Blind discussions (of a guild, or all) not revealed yet, whether or not a vote is open under them (a
    round with fewer than two complete answers opens none): their per-model numbers stay hidden."""
    query = Discussion.filter(revealed=False)
    if guild_id is not None:
        query = query.filter(guild__discord_id=guild_id)
    return [int(i) for i in await query.values_list("id", flat=True)]  # type: ignore[call-overload]


class ArenaService:
    def __init__(self, config: AppConfig) -> None:
        self.config = config

    # --- opening and voting ---------------------------------------------------------------
    async def open_vote(self, discussion: Discussion, result: RoundResult) -> VoteCall | None:
        """A vote under a finished round with at least two complete answers (when votes are on)."""
        complete = [a for a in result.answers if a.status is MessageStatus.COMPLETE]
        if not self.config.arena.votes or result.round.kind not in VOTED_KINDS or len(complete) < 2:
            return None
        blind = any(a.seat.blind for a in complete)
        if blind:
            complete.sort(key=lambda a: a.seat.label)  # Model A, Model B…: letters shuffled per discussion
        else:
            SHUFFLE.shuffle(complete)  # the first button draws votes: each model takes each place as often
        offenders = [a.seat.label for a in complete if blind and names_itself(f"{a.text}\n{a.reasoning}", a.model)]
        guild = await Guild.get_or_none(id=discussion.guild_id) if discussion.guild_id else None
        closes_at = now() + timedelta(minutes=self.config.arena.vote_minutes)
        row = await VoteRound.create(
            round=result.round, discussion=discussion, guild_id=guild.discord_id if guild else None,
            project_id=discussion.project_id, blind=blind, answered=[a.model.alias for a in complete],
            labels=[a.seat.label for a in complete], closes_at=closes_at, category=discussion.category,
            styles=[style_of(a.text).stored() for a in complete],
            voided=(f"{', '.join(offenders)} gave away who they are" if offenders else "")[:200])
        return VoteCall(row.id, tuple(row.labels), closes_at)

    async def cast(self, vote_id: int, user_id: int, choice: str) -> str:
        """Record (or change) a member's vote; returns what they voted for, as they saw it.

        The vote's row is locked (SELECT ... FOR UPDATE on PostgreSQL) while the vote is written, and closing
        is an update of that row: a vote lands before the tally or is refused, never after it."""
        try:
            return await self._cast(vote_id, user_id, choice)
        except IntegrityError:  # a second click raced the first (SQLite in two processes): it is a change now
            return await self._cast(vote_id, user_id, choice)

    async def _cast(self, vote_id: int, user_id: int, choice: str) -> str:
        async with in_transaction() as connection:
            row = await VoteRound.select_for_update().using_db(connection).get_or_none(id=vote_id)
            if row is None:
                raise UserError("This vote no longer exists.")
            if row.closed_at is not None or row.closes_at <= now():
                raise UserError("This vote is closed.")
            if choice in (TIE, ALL_BAD):
                stored, shown = choice, {"tie": "a tie", "bad": "all bad"}[choice]
            else:
                index = int(choice)
                if not 0 <= index < len(row.answered):
                    raise UserError("That answer is not in this vote.")
                stored, shown = row.answered[index], row.labels[index]
            mine = Vote.filter(vote_round_id=vote_id, user_id=user_id).using_db(connection)
            if not await mine.update(choice=stored):
                await Vote.create(vote_round_id=vote_id, user_id=user_id, choice=stored, using_db=connection)
        return shown

    # --- closing --------------------------------------------------------------------------
    async def close(self, vote_id: int) -> Closed | None:
        """Close it if still open (None if another click, timer or process already did) and tally it."""
        if not await VoteRound.filter(id=vote_id, closed_at=None).update(closed_at=now()):
            return None
        row = await VoteRound.get(id=vote_id)
        await Vote.filter(vote_round_id=vote_id, forget_on_close=True).update(user_id=None)
        discussion = await Discussion.get(id=row.discussion_id)  # type: ignore[attr-defined]
        if row.blind and not discussion.revealed:
            await Discussion.filter(id=discussion.id).update(revealed=True)
        counts = Counter(str(c) for c in await Vote.filter(vote_round_id=vote_id).values_list("choice", flat=True))
        tally = sorted(((label, self._name(alias), counts.get(alias, 0))
                        for alias, label in zip(row.answered, row.labels, strict=True)), key=lambda t: -t[2])
        return Closed(discussion.thread_id, VoteClosed(tuple(tally), counts.get(TIE, 0), counts.get(ALL_BAD, 0),
                                                       row.voided, row.blind))

    async def before_round(self, discussion: Discussion) -> list[VoteClosed | Revealed]:
        """A new round starts: its discussion's open votes close; a blind discussion is revealed."""
        notices: list[VoteClosed | Revealed] = []
        for vote_id in await VoteRound.filter(discussion=discussion, closed_at=None).values_list("id", flat=True):
            closed = await self.close(int(vote_id))  # type: ignore[call-overload]
            if closed is not None:
                notices.append(closed.notice)
        if not discussion.blind_names:  # never blind: nothing to reveal
            return notices
        await discussion.refresh_from_db(fields=["revealed"])
        if not discussion.revealed and await Message.filter(discussion=discussion,
                                                            author_kind=AuthorKind.MODEL).exists():
            await Discussion.filter(id=discussion.id).update(revealed=True)
            discussion.revealed = True
            notices.append(Revealed(tuple((label, self._name(alias))
                                          for alias, label in sorted(discussion.blind_names.items(),
                                                                     key=lambda item: item[1]))))
        return notices

    async def close_expired(self, guild_ids: Iterable[int]) -> list[Closed]:
        """Votes whose time is up, in these guilds (the ones this process serves)."""
        due = await VoteRound.filter(closed_at=None, closes_at__lte=now(),
                                     guild_id__in=list(guild_ids)).values_list("id", flat=True)
        closed = [await self.close(int(vote_id)) for vote_id in due]  # type: ignore[call-overload]
        return [c for c in closed if c is not None]

    async def discussion_of(self, vote_id: int) -> int | None:
        rows = await VoteRound.filter(id=vote_id).values_list("discussion_id", flat=True)
        return int(rows[0]) if rows else None  # type: ignore[call-overload]

    async def may_close(self, vote_id: int, user_id: int, manages_threads: bool) -> bool:
        row = await VoteRound.get_or_none(id=vote_id)
        if row is None:
            return False
        discussion = await Discussion.get(id=row.discussion_id)  # type: ignore[attr-defined]
        return manages_threads or discussion.created_by == user_id

    def _name(self, alias: str) -> str:
        model = self.config.models.get(alias)
        return model.name if model is not None else alias

    # --- the leaderboard ------------------------------------------------------------------
    async def board(self, guild_id: int | None, scope: BoardScope | None = None) -> Board:
        """A server's leaderboard (every server's with guild_id None: the operator's CLI)."""
        scope = scope or BoardScope()
        span = PERIODS[scope.period]
        since = now() - span if span is not None else None
        rounds = VoteRound.filter(voided="").exclude(closed_at=None)
        answers = Message.filter(author_kind=AuthorKind.MODEL).exclude(
            status__in=[MessageStatus.CANCELLED, MessageStatus.STREAMING])
        reviews = PeerRanking.filter(error=None)
        if guild_id is not None:
            rounds = rounds.filter(guild_id=guild_id)
            answers = answers.filter(discussion__guild__discord_id=guild_id)
            reviews = reviews.filter(round__discussion__guild__discord_id=guild_id)
        else:
            answers = answers.filter(discussion__guild_id__isnull=False)  # console runs are no server's
            reviews = reviews.filter(round__discussion__guild_id__isnull=False)
        if scope.project_id is not None:
            rounds = rounds.filter(project_id=scope.project_id)
            answers = answers.filter(discussion__project_id=scope.project_id)
            reviews = reviews.filter(round__discussion__project_id=scope.project_id)
        if scope.category is not None:
            rounds = rounds.filter(category=scope.category)
            answers = answers.filter(discussion__category=scope.category)
            reviews = reviews.filter(round__discussion__category=scope.category)
        if since is not None:
            rounds = rounds.filter(created_at__gte=since)
            answers = answers.filter(created_at__gte=since)
            reviews = reviews.filter(round__started_at__gte=since)
        # A blind vote still open: its answers' numbers (latency, cost, failures) would pair labels with names.
        answers = answers.exclude(discussion_id__in=await unrevealed_discussions(guild_id))
        seated = {row["id"]: (tuple(row["answered"]), styles_from_rows(row["styles"], len(row["answered"])))
                  for row in await rounds.values("id", "answered", "styles")}
        ballots = [Ballot(seated[v["vote_round_id"]][0], None if v["choice"] == TIE else v["choice"],
                          seated[v["vote_round_id"]][1])
                   for v in await Vote.filter(vote_round_id__in=list(seated)).values("vote_round_id", "choice")
                   if v["choice"] != ALL_BAD]
        models = sorted({alias for answered, _ in seated.values() for alias in answered})
        arena = self.config.arena
        rated_ballots = [b for b in ballots if b.chosen is not None or arena.ties is Ties.HALF]
        fit = await asyncio.to_thread(fitted, rated_ballots, models, ties=arena.ties, style=not scope.raw)
        rated = {r.model: r for r in fit.ratings}
        wins = Counter(b.chosen for b in rated_ballots if b.chosen is not None)
        stats = self._answer_stats(await answers.values("model_alias", "status", "latency_ms", "cost_usd"))
        peer_pairs = ranking_ballots([list(r) for r in await reviews.values_list("ranking", flat=True)])
        peer_models = sorted({m for pair in peer_pairs for m in pair})
        peer = {r.model: r for r in await asyncio.to_thread(pairwise_ratings, peer_pairs, peer_models)}
        ranked = {alias for alias, r in rated.items() if r.games >= arena.min_votes}
        # Ranked models first (best first), then those with too few votes, then those never voted on.
        aliases = sorted(set(models) | set(stats),
                         key=lambda a: (a not in ranked, -(rated[a].rating if a in rated else -1e9), a))
        rows = [BoardRow(alias, self._name(alias), rated.get(alias), rated[alias].games if alias in rated else 0,
                         wins.get(alias, 0), *stats.get(alias, (None, None, None, 0)), ranked=alias in ranked)
                for alias in aliases]
        return Board(rows, peer, len(ballots), since, rated_ballots, scope, fit.style,
                     sum(1 for b in ballots if b.chosen is None), arena.min_votes)

    @staticmethod
    def _answer_stats(rows: Sequence[dict[str, object]]) -> dict[str, tuple[float | None, float | None,
                                                                                 float | None, int]]:
        """Per model: median latency (s) of complete answers, cost per answer, failure rate, answers."""
        grouped: dict[str, list[dict[str, object]]] = {}
        for row in rows:
            grouped.setdefault(str(row["model_alias"]), []).append(row)
        stats: dict[str, tuple[float | None, float | None, float | None, int]] = {}
        for alias, items in grouped.items():
            latencies = [int(str(r["latency_ms"])) / 1000 for r in items
                         if r["status"] == MessageStatus.COMPLETE and r["latency_ms"] is not None]
            failed = sum(1 for r in items if r["status"] == MessageStatus.FAILED)
            cost = sum(float(str(r["cost_usd"] or 0)) for r in items)
            stats[alias] = (statistics.median(latencies) if latencies else None, cost / len(items),
                            failed / len(items), len(items))
        return stats

    async def record(self, guild_id: int, alias: str, scope: BoardScope | None = None) -> ModelRecord:
        board = await self.board(guild_id, scope)
        row = next((r for r in board.rows if r.alias == alias), None)
        if row is None:
            raise UserError(f"{self._name(alias)} has no answers in this server yet.")
        rank = board.rank(alias)
        head: dict[str, list[int]] = {}
        for ballot in board.rated_ballots:  # the same votes (project, period) the rating comes from
            if alias not in ballot.answered or ballot.chosen is None:
                continue
            if ballot.chosen == alias:
                for other in ballot.answered:
                    if other != alias:
                        head.setdefault(self._name(other), [0, 0])[0] += 1
            else:
                head.setdefault(self._name(ballot.chosen), [0, 0])[1] += 1
        return ModelRecord(row, rank, board, {name: (w, lost) for name, (w, lost) in sorted(head.items())})
