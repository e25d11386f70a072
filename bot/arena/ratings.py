"""Bradley-Terry ratings from pairwise outcomes, with bootstrap confidence intervals. Pure and Discord-free.

A vote for the best answer of a round is a win over every other answer of that round; a tie vote is half a
win each way between every pair; an "all bad" vote says nothing about order. Strengths are fitted with
Hunter's MM algorithm (a small symmetric prior keeps unbeaten or winless models finite) and shown on the Elo
scale LMArena uses: 400·log10(strength) around 1000. Intervals come from resampling whole votes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

SCALE, CENTER = 400.0, 1000.0
PRIOR = 0.1  # pseudo-wins each way for every pair that met: finite ratings without changing the order
ITERATIONS, TOLERANCE = 500, 1e-9
LEVEL = 0.95  # the intervals' coverage


@dataclass(frozen=True, slots=True)
class Ballot:
    """One vote: the models that answered the round, and the chosen one (None: a tie between all)."""

    answered: tuple[str, ...]
    chosen: str | None


@dataclass(frozen=True, slots=True)
class Rating:
    model: str
    rating: float
    low: float  # 95% bootstrap interval
    high: float
    games: int  # votes the model took part in


def outcomes(ballots: Sequence[Ballot], models: Sequence[str]) -> tuple[NDArray[np.int64], NDArray[np.int64],
                                                                        NDArray[np.float64], NDArray[np.int64]]:
    """Every pairwise outcome as (winner index, loser index, weight, the ballot it came from)."""
    index = {m: i for i, m in enumerate(models)}
    winners: list[int] = []
    losers: list[int] = []
    weights: list[float] = []
    ballot_of: list[int] = []
    for number, ballot in enumerate(ballots):
        seated = [index[m] for m in ballot.answered if m in index]
        if ballot.chosen is not None:
            if ballot.chosen not in index:
                continue
            pairs = [(index[ballot.chosen], other, 1.0) for other in seated if other != index[ballot.chosen]]
        else:
            pairs = [(a, b, 0.5) for a in seated for b in seated if a != b]
        for winner, loser, weight in pairs:
            winners.append(winner)
            losers.append(loser)
            weights.append(weight)
            ballot_of.append(number)
    return (np.array(winners, dtype=np.int64), np.array(losers, dtype=np.int64), np.array(weights, dtype=float),
            np.array(ballot_of, dtype=np.int64))


def fit(wins: NDArray[np.float64]) -> NDArray[np.float64]:
    """Strengths from a wins matrix (wins[i, j]: i beat j), by MM; log-strengths centred on 0 over the
    models that played (one that never met another stays at 0 and moves no one else)."""
    n = wins.shape[0]
    met = (wins + wins.T) > 0
    w = wins + PRIOR * met
    games = w + w.T
    total_wins = w.sum(axis=1)
    played = met.any(axis=1)
    if not played.any():
        return np.zeros(n)
    strength = np.ones(n)
    for _ in range(ITERATIONS):
        pair_sums = strength[:, None] + strength[None, :]
        denominator = np.where(games > 0, games / pair_sums, 0.0).sum(axis=1)
        updated = np.where(played, total_wins / np.where(played, denominator, 1.0), 1.0)
        updated /= np.exp(np.mean(np.log(updated[played])))
        if np.max(np.abs(updated - strength)) < TOLERANCE:
            strength = updated
            break
        strength = updated
    logs: NDArray[np.float64] = np.log10(strength)
    centred: NDArray[np.float64] = np.where(played, logs - logs[played].mean(), 0.0)
    return centred


def ratings(ballots: Sequence[Ballot], models: Sequence[str], *, samples: int = 200,
            seed: int = 0) -> list[Rating]:
    """Ratings with 95% intervals, best first. Models that never met another in a vote are left out.

    The ballots are sorted first, so the same votes give the same intervals whatever order the database
    returned them in (SQLite and PostgreSQL do not agree on one)."""
    if not ballots or not models:
        return []
    ballots = sorted(ballots, key=lambda b: (b.answered, b.chosen or ""))
    winners, losers, weights, ballot_of = outcomes(ballots, models)
    n = len(models)
    games = np.zeros(n, dtype=np.int64)
    for ballot in ballots:
        for model in set(ballot.answered):
            if model in models and len(set(ballot.answered)) > 1:
                games[list(models).index(model)] += 1
    cells = winners * n + losers

    def wins_for(counts: NDArray[np.float64]) -> NDArray[np.float64]:
        matrix = np.bincount(cells, weights=weights * counts[ballot_of], minlength=n * n).astype(float)
        shaped: NDArray[np.float64] = matrix.reshape(n, n)
        return shaped

    point = fit(wins_for(np.ones(len(ballots))))
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(ballots), np.full(len(ballots), 1.0 / len(ballots)), size=samples).astype(float)
    boot = np.array([fit(wins_for(counts)) for counts in draws])
    low, high = interval(boot)
    found = [Rating(m, CENTER + SCALE * point[i], CENTER + SCALE * low[i], CENTER + SCALE * high[i], int(games[i]))
             for i, m in enumerate(models) if games[i] > 0]
    return sorted(found, key=lambda r: r.rating, reverse=True)


def interval(samples: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The central LEVEL interval of each column of bootstrap samples."""
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail], axis=0)
    return low, high


def ranking_ballots(rankings: Sequence[Sequence[str]]) -> list[tuple[str, str]]:
    """Peer review rankings (best first) as pairwise (winner, loser) outcomes: each ranked above each below."""
    return [(ranking[i], ranking[j]) for ranking in rankings for i in range(len(ranking))
            for j in range(i + 1, len(ranking))]


def pairwise_ratings(pairs: Sequence[tuple[str, str]], models: Sequence[str], *, samples: int = 200,
                     seed: int = 0) -> list[Rating]:
    """Ratings from bare (winner, loser) outcomes, each its own resampling unit (the peer rating)."""
    return ratings([Ballot((winner, loser), winner) for winner, loser in pairs], models, samples=samples, seed=seed)
