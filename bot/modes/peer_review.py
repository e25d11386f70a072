"""Peer review, pure: anonymised ballots (never the reviewer's own answer), parsing rankings, Borda aggregate."""

from __future__ import annotations

import random
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass

from bot.llm.types import ChatMessage

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


def reversed_ballot(ballot: ReviewBallot) -> ReviewBallot:
    """The same answers in the opposite order (letters reassigned): each reviewer ranks both orders, so an
    answer gains nothing from being read first or last."""
    order = list(reversed(ballot.shown_order))
    return ReviewBallot(ballot.reviewer, dict(zip(string.ascii_uppercase, order, strict=False)))


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


def format_ranking(names: Sequence[tuple[str, float]], reviews: int, not_counted: Sequence[tuple[str, str]]) -> str:
    """The review's record in plain words, stored with the discussion (exported; front ends word their own)."""
    lines = [f"Peer review — {reviews} reviewer(s), anonymised, own answer excluded:"]
    lines += [f"{place}. {name} · {score:.2f} points" for place, (name, score) in enumerate(names, start=1)]
    lines += [f"{name}'s ranking was not counted: {why}" for name, why in not_counted]
    return "\n".join(lines)
