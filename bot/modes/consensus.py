"""Consensus: optionally a peer review (each model ranks the others' answers, anonymised), then a moderator's
synthesis; when a moderator fails, the next one tries."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from bot.arena.blind import families_of
from bot.claims import ConsensusSource, claims_note, parse_claims
from bot.config import ModelConfig
from bot.consensus_sections import MODERATOR_NOTE, minority_report, parse_sections, stance_summary
from bot.engine.notices import ConsensusWritten, ModeratorFallback, NoModerator, Notice, PeerReviewed
from bot.engine.rounds import RoundResult
from bot.errors import UserError
from bot.kinds import MessageStatus, RoundKind
from bot.modes.base import ModeState, RoundPlan
from bot.modes.debate import stored_timeline
from bot.modes.peer_review import (
    ReviewBallot,
    aggregate,
    ballot_for,
    format_ranking,
    parse_ranking,
    reversed_ballot,
    review_messages,
)
from bot.seats import seat, seats
from bot.stances import Stance, weighted_positions

MIN_REVIEWED_ANSWERS = 3
REVIEW_PASSES = 2  # every reviewer ranks the answers in one order, then in the reverse order


def reviewers_for(models: Mapping[str, ModelConfig], answers: Mapping[str, str]) -> list[ModelConfig]:
    """The models whose answers are up for review, or UserError when too few answered for a fair review."""
    reviewers = [models[alias] for alias in answers if alias in models]
    if len(reviewers) < MIN_REVIEWED_ANSWERS:
        raise UserError("Peer review needs at least three answers (each model ranks the others, not itself).")
    able = [m for m in reviewers if len(reviewable(models, answers, m)) >= 2]
    if not able:
        raise UserError("Peer review needs, for some model, two answers by models of other families (a model "
                        "never ranks its own family's answers).")
    return able


def reviewable(models: Mapping[str, ModelConfig], answers: Mapping[str, str], reviewer: ModelConfig) -> list[str]:
    """The answers a reviewer may rank: not its own, not its family's."""
    return [a for a in answers if a in models and a != reviewer.alias
            and not families_of(models[a]) & families_of(reviewer)]


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
        # A reviewer ranks neither its own answer nor one of its family's, and needs two others to rank.
        self.candidates = {m.alias: reviewable(models, answers, m) for m in reviewers}
        self.reviewers = [m for m in reviewers if len(self.candidates[m.alias]) >= 2]
        self.rng = rng or random.Random()
        self._passes = 0 if self.reviewers else REVIEW_PASSES  # each reviewer ranks both orders
        self._ballots: dict[str, ReviewBallot] = {}
        self._rankings: dict[str, list[list[str]]] = {}
        self._failures: dict[str, str] = {}
        self._moderator = 0
        self._done = False
        self._weighted: list[tuple[str, float]] | None = None  # (position, weight), read before the moderator
        self._sources: list[ConsensusSource] = []  # the answers' sources, numbered for the Claims section

    async def next_round(self, state: ModeState) -> RoundPlan | None:
        if self._passes < REVIEW_PASSES:
            self._passes += 1
            question = state.discussion.question
            self._ballots = ({m.alias: ballot_for(m.alias, self.candidates[m.alias], self.rng) for m in self.reviewers}
                             if self._passes == 1 else
                             {alias: reversed_ballot(ballot) for alias, ballot in self._ballots.items()})
            ballots = self._ballots
            return RoundPlan(RoundKind.CONSENSUS, seats(self.reviewers), shown=False,
                             messages_for=lambda model: review_messages(question, ballots[model.alias],
                                                                        self.answers))
        if self._done or self._moderator >= len(self.moderators):
            return None
        if self._weighted is None:
            panel = [self.models[a] for a in state.discussion.models if a in self.models]
            line = await stored_timeline(state, panel, self.similarity)
            self._weighted = [(line.positions[group], score) for group, score in weighted_positions(line)] \
                if len(line.rounds) > 1 else []
            self._sources = await state.store.consensus_sources(state.discussion)
        return RoundPlan(RoundKind.CONSENSUS, [seat(self.moderators[self._moderator])], note=self._note())

    def _note(self) -> str:
        claims = claims_note(self._sources) if self._sources else ""
        if not self.stances:
            return MODERATOR_NOTE + claims
        held = "\n".join(f"- {name}: {stance_summary(s)}" for name, s in self.stances.items())
        note = f"{MODERATOR_NOTE}\n\nEach participant's last stated stance:\n{held}"
        if self._weighted:
            note += ("\n\nPositions weighted by confidence over the whole debate (a change of position that "
                     "brought no new argument counts a quarter; the rest stays with the earlier position):\n"
                     + "\n".join(f"- {position}: {score:.2f}" for position, score in self._weighted))
        return note + claims

    async def after_round(self, state: ModeState, plan: RoundPlan, result: RoundResult) -> Sequence[Notice]:
        if not plan.shown:
            return await self._count_reviews(state, result)
        moderator = self.moderators[self._moderator]
        self._moderator += 1
        if result.answers[0].status is MessageStatus.COMPLETE:
            self._done = True
            written = await self._record(state, moderator, result.answers[0].text)
            return (written,) if written.stances or written.minority_text or written.claims else ()
        if self._moderator < len(self.moderators):
            return (ModeratorFallback(moderator.name, self.moderators[self._moderator].name),)
        return (NoModerator(),)

    async def _record(self, state: ModeState, moderator: ModelConfig, text: str) -> ConsensusWritten:
        """The sections stored as fields, each model's last stance beside them, and the dissent kept."""
        sections = parse_sections(text)
        lines = {name: stance_summary(s) for name, s in self.stances.items()}
        minority = minority_report(sections, self.stances, self.similarity)
        claims = parse_claims(sections.get("claims", ""), len(self._sources)) if self._sources else []
        await state.store.add_consensus_report(state.discussion, moderator.alias, sections, lines, minority,
                                               claims, self._sources)
        return ConsensusWritten(tuple(lines.items()), minority.text, minority.source, tuple(claims),
                                tuple(self._sources))

    async def _count_reviews(self, state: ModeState, result: RoundResult) -> Sequence[Notice]:
        """One order's rankings stored; after the second order, every ranking of both orders aggregated (a
        reviewer that failed in one order counts with the other)."""
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
                self._rankings.setdefault(ballot.reviewer, []).append(ranking)
            else:
                self._failures.setdefault(ballot.reviewer, error)
            await state.store.add_ranking(result.round, ballot.reviewer, ranking, ballot.shown_order, error)
        if self._passes < REVIEW_PASSES:
            return ()
        rankings = [r for alias in self._rankings for r in self._rankings[alias]]
        failures = {alias: why for alias, why in self._failures.items() if alias not in self._rankings}
        scores = aggregate(rankings, list(self.answers))
        names = tuple((self.models[alias].name, score) for alias, score in scores)
        not_counted = tuple((self.models[alias].name, why) for alias, why in failures.items())
        record = format_ranking(names, len(self._rankings), not_counted)
        await state.store.add_record(state.discussion, record)
        return (PeerReviewed(record, tuple(scores), len(self._rankings), names, not_counted),)
