"""Predictions and their forecasts in the database: made with a /predict discussion, forecast by its models
each round and by members until they close, reminded exactly once when due (claimed by one process, then
marked; a claim lapses if its process dies), resolved by the starter or Manage Server, and scored.

Errors: UserError for anything a member did wrong (forecasts closed, already resolved, unknown outcome)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.timezone import now

from bot.db.models import Discussion, ForecastRecord, Prediction
from bot.errors import UserError
from bot.forecasting.parse import Forecast
from bot.forecasting.scores import Scored, ScoreSummary, summarise
from bot.kinds import AuthorKind, PredictionKind
from bot.positions import clusters
from bot.services.budget import PROCESS_ID
from bot.stances import Stance

__all__ = ["CROWD", "VOID", "AccuracyLine", "ForecastService", "Resolution"]

VOID = "void"
CROWD = "All members"
REMINDER_CLAIM = timedelta(seconds=60)  # a process that claimed a reminder and died: another posts it after this


@dataclass(frozen=True, slots=True)
class ResolvedForecast:
    name: str  # the model's name or the member's display name
    probabilities: Mapping[str, float]
    scored: Scored | None  # None when the question was void


@dataclass(frozen=True, slots=True)
class Resolution:
    prediction: Prediction
    outcome: str | None  # None: void
    forecasts: tuple[ResolvedForecast, ...]


@dataclass(slots=True)
class AccuracyLine:
    name: str
    kind: AuthorKind
    forecasts: list[Scored] = field(default_factory=list)

    @property
    def summary(self) -> ScoreSummary | None:
        return summarise(self.forecasts)


class ForecastService:
    async def create(self, discussion: Discussion, outcomes: Sequence[str], resolves_at: datetime,
                     closes_at: datetime, guild_id: int | None) -> Prediction:
        return await Prediction.create(discussion=discussion, guild_id=guild_id, outcomes=list(outcomes),
                                       resolves_at=resolves_at, closes_at=closes_at)

    async def of_discussion(self, discussion_id: int) -> Prediction | None:
        return await Prediction.filter(discussion_id=discussion_id).order_by("-id").first()

    async def get(self, prediction_id: int) -> Prediction | None:
        return await Prediction.get_or_none(id=prediction_id)

    async def record_models(self, prediction: Prediction, round_number: int, final: bool,
                            forecasts: Iterable[tuple[str, str, Forecast]]) -> None:
        """A round's model forecasts (alias, name, forecast); the final round's replace any earlier final."""
        rows = [ForecastRecord(prediction_id=prediction.id, author_kind=AuthorKind.MODEL, model_alias=alias[:32],
                               author_name=name[:100], probabilities=f.probabilities, round_number=round_number,
                               final=final, normalised=f.normalised) for alias, name, f in forecasts]
        if rows:
            await ForecastRecord.bulk_create(rows)

    async def record_member(self, prediction_id: int, user_id: int, name: str, forecast: Forecast) -> Prediction:
        """A member's forecast: one each, replaced by a later one until forecasts close."""
        prediction = await Prediction.get_or_none(id=prediction_id)
        if prediction is None:
            raise UserError("That question is no longer stored.")
        self.require_open(prediction)
        mine = ForecastRecord.filter(prediction_id=prediction_id, user_id=user_id)
        changes = {"probabilities": forecast.probabilities, "normalised": forecast.normalised,
                   "author_name": name[:100], "updated_at": now()}
        if not await mine.update(**changes):
            try:
                await ForecastRecord.create(prediction_id=prediction_id, author_kind=AuthorKind.USER,
                                            user_id=user_id, author_name=name[:100],
                                            probabilities=forecast.probabilities, normalised=forecast.normalised)
            except IntegrityError:  # their other submit (or process) made it first: this one replaces it
                await mine.update(**changes)
        return prediction

    @staticmethod
    def require_open(prediction: Prediction) -> None:
        if prediction.resolved_at is not None:
            raise UserError("That question is resolved: forecasts are closed.")
        if prediction.closes_at is not None and prediction.closes_at <= now():
            raise UserError(f"Forecasts closed <t:{int(prediction.closes_at.timestamp())}:R>.")

    async def claim_due_reminders(self, guild_ids: Iterable[int]) -> list[Prediction]:
        """Due reminders this process now owns: each claimed by one atomic update, so that of several processes
        (and of a restart) exactly one posts it; a claim held by a dead process lapses after a minute."""
        at = now()
        due = await Prediction.filter(Q(reminder_until=None) | Q(reminder_until__lt=at), reminded_at=None,
                                      resolved_at=None, resolves_at__lte=at,
                                      guild_id__in=list(guild_ids)).values_list("id", flat=True)
        claimed = []
        for prediction_id in due:
            won = await Prediction.filter(Q(reminder_until=None) | Q(reminder_until__lt=at), id=prediction_id,
                                          reminded_at=None).update(reminder_owner=PROCESS_ID,
                                                                   reminder_until=at + REMINDER_CLAIM)
            if won:
                claimed.append(await Prediction.get(id=prediction_id))
        return claimed

    async def reveal_closed(self, guild_ids: Iterable[int]) -> list[tuple[Prediction, dict[str, str]]]:
        """Blind forecasts whose forecasts have closed: revealed once (the update that flips `revealed` wins),
        with each label's model alias, for the thread to be told who was who."""
        at = now()
        masked = await Prediction.filter(closes_at__lte=at, guild_id__in=list(guild_ids),
                                         discussion__revealed=False).prefetch_related("discussion")
        return [(p, p.discussion.blind_names) for p in masked if await self.reveal(p.discussion)]

    @staticmethod
    async def reveal(discussion: Discussion) -> bool:
        """True for the one caller that revealed it (of any number, in any processes)."""
        if not discussion.blind_names:
            return False
        won = bool(await Discussion.filter(id=discussion.id, revealed=False).update(revealed=True))
        discussion.revealed = discussion.revealed or won
        return won

    async def mark_reminded(self, prediction: Prediction) -> None:
        await Prediction.filter(id=prediction.id, reminder_owner=PROCESS_ID).update(reminded_at=now())

    async def resolve(self, prediction: Prediction, outcome: str, by: int) -> Resolution:
        """The truth (an outcome, or "void"), once: a second /resolve is refused."""
        chosen = None if outcome.strip().lower() == VOID else self._outcome(prediction, outcome)
        won = await Prediction.filter(id=prediction.id, resolved_at=None).update(
            outcome=chosen, void=chosen is None, resolved_at=now(), resolved_by=by)
        if not won:
            raise UserError("This question is already resolved.")
        prediction.outcome, prediction.void = chosen, chosen is None
        return await self.resolution(prediction)

    async def resolve_debate(self, discussion: Discussion, winner: str, stances: Mapping[str, Stance],
                             names: Mapping[str, str], similarity: float, by: int) -> Resolution:
        """A debate resolved after the fact: each model's final stance becomes a forecast that its position
        wins, at its confidence (no confidence: 50%); the outcome is whether its position is the winner's."""
        if await Prediction.filter(discussion_id=discussion.id).exists():
            raise UserError("This discussion is already resolved.")
        known = {alias: s for alias, s in stances.items() if s.known}
        if not known:
            raise UserError("No model stated a position here, so there is nothing to score.")
        groups = clusters([winner, *(s.position or "" for s in known.values())], similarity)
        prediction = await Prediction.create(discussion=discussion, guild_id=await self._guild(discussion),
                                             kind=PredictionKind.DEBATE, outcomes=["right", "wrong"],
                                             outcome=winner[:200], resolved_at=now(), resolved_by=by)
        rows = []
        for (alias, stance), group in zip(known.items(), groups[1:], strict=True):
            sure = (stance.confidence if stance.confidence is not None else 50) / 100
            right = group == groups[0]
            rows.append(ForecastRecord(prediction_id=prediction.id, author_kind=AuthorKind.MODEL, model_alias=alias,
                                       author_name=names.get(alias, alias)[:100],
                                       probabilities={"right": sure, "wrong": 1 - sure} if right else
                                       {"right": 1 - sure, "wrong": sure}))
        await ForecastRecord.bulk_create(rows)
        prediction.outcome = "right"  # every row above is scored against "right"
        return await self.resolution(prediction, scored_as="right")

    async def resolution(self, prediction: Prediction, scored_as: str | None = None) -> Resolution:
        finals = await ForecastRecord.filter(prediction_id=prediction.id, final=True).order_by("author_kind", "id")
        truth = scored_as or (None if prediction.void else prediction.outcome)
        return Resolution(prediction, None if prediction.void else prediction.outcome, tuple(
            ResolvedForecast(f.author_name or "(forgotten)", f.probabilities,
                             Scored(f.probabilities, truth) if truth is not None else None) for f in finals))

    async def accuracy(self, guild_id: int | None, aliases: Mapping[str, str]) -> list[AccuracyLine]:
        """Every resolved, non-void final forecast in the guild, grouped per model and per member."""
        resolved = Prediction.filter(void=False).exclude(resolved_at=None)
        if guild_id is not None:
            resolved = resolved.filter(guild_id=guild_id)
        questions = {p.id: p for p in await resolved}
        lines: dict[tuple[AuthorKind, str], AccuracyLine] = {}
        crowd = AccuracyLine(CROWD, AuthorKind.USER)  # every member's forecast, forgotten ones too
        rows = await ForecastRecord.filter(prediction_id__in=list(questions), final=True)
        for row in rows:
            question = questions[row.prediction_id]
            truth = "right" if question.kind is PredictionKind.DEBATE else question.outcome
            if truth is None:
                continue
            if row.author_kind is AuthorKind.MODEL:
                key, name = row.model_alias or "?", aliases.get(row.model_alias or "", row.model_alias or "?")
            else:
                crowd.forecasts.append(Scored(row.probabilities, truth))
                if row.user_id is None:
                    continue  # a forgotten member counts in the crowd's line, never under a name
                key, name = f"user:{row.user_id}", row.author_name
            line = lines.setdefault((row.author_kind, key), AccuracyLine(name, row.author_kind))
            line.forecasts.append(Scored(row.probabilities, truth))
        return list(lines.values()) + ([crowd] if crowd.forecasts else [])

    async def forget_member(self, user_id: int) -> int:
        """Their forecasts stay in every question's record and score, without their id or name."""
        return await ForecastRecord.filter(user_id=user_id).update(user_id=None, author_name="")

    @staticmethod
    def _outcome(prediction: Prediction, typed: str) -> str:
        for outcome in prediction.outcomes:
            if outcome.lower() == typed.strip().lower():
                return outcome
        raise UserError(f"`{typed[:80]}` is not one of this question's outcomes: "
                        + ", ".join(prediction.outcomes) + " (or void).")

    @staticmethod
    async def _guild(discussion: Discussion) -> int | None:
        rows = await Discussion.filter(id=discussion.id).values_list("guild__discord_id", flat=True)
        return int(rows[0]) if rows and rows[0] is not None else None  # type: ignore[call-overload]
