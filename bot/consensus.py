"""Consensus: a moderator's synthesis, and an optional anonymised peer review with an aggregate ranking."""

from __future__ import annotations

import random
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import ModelConfig
from bot.db.models import Discussion, PeerRanking, RoundKind
from bot.llm.types import ChatMessage
from bot.rounds import RoundRunner

MODERATOR_NOTE = """

You are the moderator now. Do not add a new opinion: synthesise the discussion above under exactly these \
headings: **Agreement**, **Disagreement**, **Open questions**, **Final answer**. Name the participants \
when you attribute positions."""

REVIEW_PROMPT = """You are reviewing anonymous answers to this question:

{question}

{answers}

Rank the answers from best to worst for correctness, depth and clarity. Reply with the letters only, \
best first, separated by ">" (for example: {example})."""


@dataclass(frozen=True, slots=True)
class ReviewBallot:
    """What one reviewer was shown: letters mapped to model aliases, in a per-reviewer shuffled order."""

    reviewer: str
    letters: dict[str, str]  # letter -> alias

    @property
    def shown_order(self) -> list[str]:
        return [self.letters[letter] for letter in sorted(self.letters)]


def ballot_for(reviewer: str, candidates: Sequence[str], rng: random.Random) -> ReviewBallot:
    """Never the reviewer's own answer; a fresh order for every reviewer, so position bias cancels out."""
    others = [alias for alias in candidates if alias != reviewer]
    rng.shuffle(others)
    return ReviewBallot(reviewer, dict(zip(string.ascii_uppercase, others, strict=False)))


def review_messages(question: str, ballot: ReviewBallot, answers: dict[str, str]) -> list[ChatMessage]:
    shown = "\n\n".join(f"Answer {letter}:\n{answers[alias]}" for letter, alias in sorted(ballot.letters.items()))
    example = " > ".join(sorted(ballot.letters)) or "A"
    return [ChatMessage("user", REVIEW_PROMPT.format(question=question, answers=shown, example=example))]


def parse_ranking(text: str, ballot: ReviewBallot) -> list[str]:
    """Aliases best first. Accepts 'B > A > C', 'B, A, C' or one per line; unknown letters are ignored."""
    seen: list[str] = []
    for letter in re.findall(r"\b([A-Z])\b", text.upper()):
        alias = ballot.letters.get(letter)
        if alias is not None and alias not in seen:
            seen.append(alias)
    if len(seen) != len(ballot.letters):
        raise ValueError("the ranking does not name every answer exactly once")
    return seen


def aggregate(rankings: Sequence[Sequence[str]], candidates: Sequence[str]) -> list[tuple[str, float]]:
    """Borda count normalised by how often each answer was ranked: (alias, average points), best first."""
    points = dict.fromkeys(candidates, 0.0)
    counts = dict.fromkeys(candidates, 0)
    for ranking in rankings:
        for position, alias in enumerate(ranking):
            points[alias] += len(ranking) - 1 - position
            counts[alias] += 1
    scores = [(alias, points[alias] / counts[alias] if counts[alias] else 0.0) for alias in candidates]
    return sorted(scores, key=lambda item: item[1], reverse=True)


def format_ranking(models: dict[str, ModelConfig], scores: Sequence[tuple[str, float]], reviews: int) -> str:
    lines = [f"**Peer review** — {reviews} reviewer(s), anonymised, own answer excluded:"]
    for place, (alias, score) in enumerate(scores, start=1):
        lines.append(f"{place}. **{models[alias].name}** · {score:.2f} points")
    return "\n".join(lines)


@dataclass
class PeerReview:
    scores: list[tuple[str, float]]
    ballots: list[ReviewBallot]
    rankings: dict[str, list[str]]  # reviewer -> aliases best first
    failures: dict[str, str]  # reviewer -> why its ranking was not counted


async def run_peer_review(runner: RoundRunner, discussion: Discussion, panel: Sequence[ModelConfig],
                          answers: dict[str, str], rng: random.Random) -> PeerReview:
    """Every model ranks the others' answers, concurrently; stored as a consensus round plus rankings."""
    reviewers = [m for m in panel if len([a for a in answers if a != m.alias]) >= 2]
    ballots = {m.alias: ballot_for(m.alias, list(answers), rng) for m in reviewers}
    result = await runner.run(discussion, RoundKind.CONSENSUS, reviewers,
                              lambda model: review_messages(discussion.question, ballots[model.alias], answers))
    rankings: dict[str, list[str]] = {}
    failures: dict[str, str] = {}
    for answer in result.answers:
        ballot = ballots[answer.model.alias]
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
        await PeerRanking.create(round=result.round, reviewer=ballot.reviewer, ranking=ranking,
                                 shown_order=ballot.shown_order, error=error)
    scores = aggregate(list(rankings.values()), list(answers))
    return PeerReview(scores, list(ballots.values()), rankings, failures)
