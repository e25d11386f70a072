"""Bradley-Terry ratings from pairwise outcomes, with 95% confidence intervals. Pure and Discord-free.

A vote for the best answer of a round is a win over every other answer of that round; a tie vote moves
nothing (`Ties.NONE`) or is half a win each way between every pair (`Ties.HALF`); an "all bad" vote says
nothing about order. Ratings are shown on the Elo scale LMArena uses: 400·log10(strength) around 1000, and a
small symmetric prior keeps unbeaten or winless models finite.

Style control (the default when the votes carry their answers' styles): the strengths are fitted together
with one coefficient per style feature (length, headers, list items, bold), each on the normalised
difference (a - b) / (a + b) of the two answers, as LMArena does. A model then gains nothing from members
who reward length or formatting as such. Raw ratings (no covariates) are fitted by Hunter's MM algorithm,
their intervals from a seeded bootstrap of whole votes; the style-controlled fit is a penalised logistic
regression solved by Newton's method, its intervals from robust (sandwich) standard errors clustered by vote.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

from bot.arena.style import FEATURES, Style
from bot.kinds import Ties

SCALE, CENTER = 400.0, 1000.0
PRIOR = 0.1  # pseudo-wins each way for every pair that met: finite ratings without changing the order
ITERATIONS, TOLERANCE = 500, 1e-9
LEVEL = 0.95  # the intervals' coverage
STYLE_PENALTY = 1.0  # ridge on the style coefficients: a handful of votes cannot make style explain everything
STRENGTH_PENALTY = 1e-6  # ridge on the strengths: only pins the scale's origin (the fit is shift-invariant)
NEWTON_STEPS = 100


@dataclass(frozen=True, slots=True)
class Ballot:
    """One vote: the models that answered the round, and the chosen one (None: a tie between all)."""

    answered: tuple[str, ...]
    chosen: str | None
    styles: tuple[Style, ...] = ()  # the answers' styles, in `answered` order; () when not known


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


def style_differences(ballots: Sequence[Ballot], models: Sequence[str], winners: NDArray[np.int64],
                      losers: NDArray[np.int64], ballot_of: NDArray[np.int64]) -> NDArray[np.float64]:
    """Per outcome, the winner's style minus the loser's, each feature as (a - b) / (a + b): 0 when unknown."""
    differences = np.zeros((len(winners), len(FEATURES)))
    for row, (winner, loser, number) in enumerate(zip(winners, losers, ballot_of, strict=True)):
        ballot = ballots[number]
        if not ballot.styles:
            continue
        a = np.array(ballot.styles[ballot.answered.index(models[winner])].stored())
        b = np.array(ballot.styles[ballot.answered.index(models[loser])].stored())
        total = a + b
        differences[row] = np.where(total > 0, (a - b) / np.where(total > 0, total, 1.0), 0.0)
    return differences


@dataclass(frozen=True, slots=True)
class StyledFit:
    strengths: NDArray[np.float64]  # log10, centred over the models that played
    coefficients: NDArray[np.float64]  # natural log-odds per unit of normalised style difference
    spread: NDArray[np.float64]  # standard error of each centred log10 strength (sandwich, clustered by vote)


def fit_styled(winners: NDArray[np.int64], losers: NDArray[np.int64], weights: NDArray[np.float64],
               differences: NDArray[np.float64], ballot_of: NDArray[np.int64], n: int) -> StyledFit:
    """Maximise the weighted Bradley-Terry likelihood with style covariates plus the same prior as `fit`
    (PRIOR wins each way for every pair that met), by Newton's method.

    Standard errors are the robust (sandwich) kind, with each vote's outcomes as one cluster — what resampling
    whole votes estimates, without refitting hundreds of times (LMArena's style-controlled board does the same)."""
    data_rows = len(winners)
    met = np.unique(np.minimum(winners, losers) * n + np.maximum(winners, losers))
    prior = [(int(cell) // n, int(cell) % n) for cell in met]
    k = differences.shape[1]
    design = np.zeros((data_rows + 2 * len(prior), n + k))
    design[np.arange(data_rows), winners] += 1.0
    design[np.arange(data_rows), losers] -= 1.0
    design[:data_rows, n:] = differences
    for offset, (i, j) in enumerate(prior):
        design[data_rows + 2 * offset, [i, j]] = (1.0, -1.0)
        design[data_rows + 2 * offset + 1, [i, j]] = (-1.0, 1.0)
    w = np.concatenate([weights, np.full(2 * len(prior), PRIOR)])
    penalty = np.concatenate([np.full(n, STRENGTH_PENALTY), np.full(k, STYLE_PENALTY)])

    def hessian_at(p: NDArray[np.float64]) -> NDArray[np.float64]:
        curvature: NDArray[np.float64] = (design * (w * p * (1.0 - p))[:, None]).T @ design + np.diag(penalty)
        return curvature

    # Newton's method (IRLS) from 0: the penalised log-likelihood is strictly concave and the prior keeps every
    # pair's odds finite, so full steps converge in a handful of iterations.
    theta = np.zeros(n + k)
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-(design @ theta)))
        step = np.linalg.solve(hessian_at(p), design.T @ (w * (1.0 - p)) - penalty * theta)
        theta = theta + step
        if np.max(np.abs(step)) < TOLERANCE:
            break
    played = np.zeros(n, dtype=bool)
    played[[i for pair in prior for i in pair]] = True
    centring = np.zeros((n, n + k))
    centring[:, :n] = np.where(played[:, None], np.eye(n) - played[None, :] / max(1, int(played.sum())), 0.0)
    p = 1.0 / (1.0 + np.exp(-(design @ theta)))
    scores = (weights * (1.0 - p[:data_rows]))[:, None] * design[:data_rows]
    clusters = np.zeros((int(ballot_of.max()) + 1 if data_rows else 0, n + k))
    np.add.at(clusters, ballot_of, scores)
    bread = np.linalg.inv(hessian_at(p))
    covariance = centring @ bread @ (clusters.T @ clusters) @ bread @ centring.T
    spread = np.sqrt(np.clip(np.diag(covariance), 0.0, None)) / np.log(10.0)
    return StyledFit(centring[:, :n] @ theta[:n] / np.log(10.0), theta[n:], spread)


def elo_points(log_odds: float) -> float:
    """Natural log-odds on the Elo scale: 400 points are a factor of 10 in the odds."""
    return SCALE * log_odds / float(np.log(10.0))


@dataclass(frozen=True, slots=True)
class Fitted:
    """Ratings best first, and what each style feature is worth (Elo points for an answer twice as long /
    formatted as the other's: a normalised difference of 1/3), empty for a raw fit."""

    ratings: list[Rating]
    style: dict[str, float]


def ratings(ballots: Sequence[Ballot], models: Sequence[str], *, samples: int = 200, seed: int = 0,
            ties: Ties = Ties.NONE, style: bool = True) -> list[Rating]:
    """Ratings with 95% intervals, best first. Models that never met another in a vote are left out."""
    return fitted(ballots, models, samples=samples, seed=seed, ties=ties, style=style).ratings


def fitted(ballots: Sequence[Ballot], models: Sequence[str], *, samples: int = 200, seed: int = 0,
           ties: Ties = Ties.NONE, style: bool = True) -> Fitted:
    """Ratings with 95% intervals, style-controlled when `style` and the ballots know their answers' styles.

    The ballots are sorted first, so the same votes give the same intervals whatever order the database
    returned them in (SQLite and PostgreSQL do not agree on one)."""
    if ties is Ties.NONE:
        ballots = [b for b in ballots if b.chosen is not None]
    if not ballots or not models:
        return Fitted([], {})
    models = sorted(set(models))  # the fit's columns in one order: the same numbers for the same votes
    ballots = sorted(ballots, key=lambda b: (b.answered, b.chosen or "", [s.stored() for s in b.styles]))
    winners, losers, weights, ballot_of = outcomes(ballots, models)
    n = len(models)
    games = np.zeros(n, dtype=np.int64)
    for ballot in ballots:
        for model in set(ballot.answered):
            if model in models and len(set(ballot.answered)) > 1:
                games[list(models).index(model)] += 1
    if style and any(b.styles for b in ballots):
        styled = fit_styled(winners, losers, weights, style_differences(ballots, models, winners, losers, ballot_of),
                            ballot_of, n)
        point, reach = styled.strengths, NormalDist().inv_cdf(0.5 + LEVEL / 2) * styled.spread
        low, high, coefficients = point - reach, point + reach, styled.coefficients
    else:
        cells = winners * n + losers

        def strengths(counts: NDArray[np.float64]) -> NDArray[np.float64]:
            matrix = np.bincount(cells, weights=weights * counts[ballot_of], minlength=n * n).astype(float)
            return fit(matrix.reshape(n, n))

        point, coefficients = strengths(np.ones(len(ballots))), np.zeros(0)
        rng = np.random.default_rng(seed)
        draws = rng.multinomial(len(ballots), np.full(len(ballots), 1.0 / len(ballots)), size=samples).astype(float)
        low, high = interval(np.array([strengths(counts) for counts in draws]))
    found = [Rating(m, CENTER + SCALE * point[i], CENTER + SCALE * low[i], CENTER + SCALE * high[i], int(games[i]))
             for i, m in enumerate(models) if games[i] > 0]
    worth = {name: elo_points(float(c)) / 3 for name, c in zip(FEATURES, coefficients, strict=False)}
    return Fitted(sorted(found, key=lambda r: r.rating, reverse=True), worth)


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
    """Ratings from bare (winner, loser) outcomes, each its own resampling unit (the peer rating: raw, since a
    reviewer ranks answers it read in full, and has no ties)."""
    return ratings([Ballot((winner, loser), winner) for winner, loser in pairs], models, samples=samples, seed=seed,
                   style=False)
