"""Consensus: optionally a peer review (each model ranks the others' answers, anonymised), then a moderator's
synthesis; when a moderator fails, the next one tries."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from bot.config import ModelConfig
from bot.consensus_sections import MODERATOR_NOTE, minority_report, parse_sections, stance_summary
from bot.engine.notices import ConsensusWritten, ModeratorFallback, NoModerator, Notice, PeerReviewed
from bot.engine.rounds import RoundResult
from bot.errors import UserError
from bot.kinds import MessageStatus, RoundKind
from bot.modes.base import ModeState, RoundPlan
from bot.modes.peer_review import aggregate, ballot_for, format_ranking, parse_ranking, review_messages
from bot.seats import seat, seats
from bot.stances import Stance

MIN_REVIEWED_ANSWERS = 3


def reviewers_for(models: Mapping[str, ModelConfig], answers: Mapping[str, str]) -> list[ModelConfig]:
    """The models whose answers are up for review, or UserError when too few answered for a fair review."""
    reviewers = [models[alias] for alias in answers if alias in models]
    if len(reviewers) < MIN_REVIEWED_ANSWERS:
        raise UserError("Peer review needs at least three answers (each model ranks the others, not itself).")
    return reviewers


class ConsensusMode:
    name = "consensus"

    def __init__(self, models: Mapping[str, ModelConfig], moderators: Sequence[ModelConfig],
                 answers: Mapping[str, str], reviewers: Sequence[ModelConfig] = (),
                 rng: random.Random | None = None, stances: Mapping[str, Stance] | None = None,
                 similarity: float = 0.5) -> None:
        self.models = models
        self.stances = {self.models[a].name if a in self.models else a: s for a, s in (stances or {}).items()}
        self.similarity = similarity
        self.moderators = list(moderators)
        self.answers = dict(answers)
        # A reviewer needs at least two answers other than its own to rank.
        self.reviewers = [m for m in reviewers if len([a for a in answers if a != m.alias]) >= 2]
        self.rng = rng or random.Random()
        self._reviewed = not self.reviewers
        self._moderator = 0
        self._done = False

    async def next_round(self, state: ModeState) -> RoundPlan | None:
        if not self._reviewed:
            self._reviewed = True
            question = state.discussion.question
            self._ballots = {m.alias: ballot_for(m.alias, list(self.answers), self.rng) for m in self.reviewers}
            return RoundPlan(RoundKind.CONSENSUS, seats(self.reviewers), shown=False,
                             messages_for=lambda model: review_messages(question, self._ballots[model.alias],
                                                                        self.answers))
        if self._done or self._moderator >= len(self.moderators):
            return None
        return RoundPlan(RoundKind.CONSENSUS, [seat(self.moderators[self._moderator])], note=self._note())

    def _note(self) -> str:
        if not self.stances:
            return MODERATOR_NOTE
        held = "\n".join(f"- {name}: {stance_summary(s)}" for name, s in self.stances.items())
        return f"{MODERATOR_NOTE}\n\nEach participant's last stated stance:\n{held}"

    async def after_round(self, state: ModeState, plan: RoundPlan, result: RoundResult) -> Sequence[Notice]:
        if not plan.shown:
            return (await self._count_reviews(state, result),)
        moderator = self.moderators[self._moderator]
        self._moderator += 1
        if result.answers[0].status is MessageStatus.COMPLETE:
            self._done = True
            written = await self._record(state, moderator, result.answers[0].text)
            return (written,) if written.stances or written.minority_text else ()
        if self._moderator < len(self.moderators):
            return (ModeratorFallback(moderator.name, self.moderators[self._moderator].name),)
        return (NoModerator(),)

    async def _record(self, state: ModeState, moderator: ModelConfig, text: str) -> ConsensusWritten:
        """The sections stored as fields, each model's last stance beside them, and the dissent kept."""
        sections = parse_sections(text)
        lines = {name: stance_summary(s) for name, s in self.stances.items()}
        minority = minority_report(sections, self.stances, self.similarity)
        await state.store.add_consensus_report(state.discussion, moderator.alias, sections, lines, minority)
        return ConsensusWritten(tuple(lines.items()), minority.text, minority.source)

    async def _count_reviews(self, state: ModeState, result: RoundResult) -> PeerReviewed:
        rankings: dict[str, list[str]] = {}
        failures: dict[str, str] = {}
        for answer in result.answers:
            ballot = self._ballots[answer.model.alias]
            error = answer.error
            ranking: list[str] = []
            if error is None:
                try:
                    ranking = parse_ranking(answer.text, ballot)
                except ValueError as problem:
                    error = str(problem)
            if error is None:
                rankings[ballot.reviewer] = ranking
            else:
                failures[ballot.reviewer] = error
            await state.store.add_ranking(result.round, ballot.reviewer, ranking, ballot.shown_order, error)
        scores = aggregate(list(rankings.values()), list(self.answers))
        names = tuple((self.models[alias].name, score) for alias, score in scores)
        not_counted = tuple((self.models[alias].name, why) for alias, why in failures.items())
        record = format_ranking(names, len(rankings), not_counted)
        await state.store.add_record(state.discussion, record)
        return PeerReviewed(record, tuple(scores), len(rankings), names, not_counted)
