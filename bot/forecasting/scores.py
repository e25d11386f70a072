"""Proper scores of forecasts once the truth is known, and their summaries per model or member.

- Brier score: ½ Σᵢ (pᵢ − oᵢ)² over the question's outcomes (oᵢ = 1 for what happened): 0 is perfect, 1 the
  worst; for a yes/no question it is (p_yes − o_yes)², the usual binary Brier score (0.25 for 50%).
- Log score: ln p(what happened), with p floored at `LOG_FLOOR` so that a 0% on the truth scores −6.91, not −∞.
- Calibration: predicted probability vs how often it came true, in ten buckets (yes/no questions: the first
  outcome's probability; several outcomes: every outcome's).
- A 95% interval of the mean Brier score: mean ± 1.96 · s / √n (s the sample standard deviation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "BUCKETS",
    "LOG_FLOOR",
    "Bucket",
    "ScoreSummary",
    "Scored",
    "brier",
    "calibration",
    "log_score",
    "summarise",
]

LOG_FLOOR = 0.001
BUCKETS = 10
Z95 = 1.959963984540054


def brier(probabilities: Mapping[str, float], outcome: str) -> float:
    return 0.5 * sum((p - (1.0 if name == outcome else 0.0)) ** 2 for name, p in probabilities.items())


def log_score(probabilities: Mapping[str, float], outcome: str) -> float:
    return math.log(max(probabilities.get(outcome, 0.0), LOG_FLOOR))


@dataclass(frozen=True, slots=True)
class Scored:
    """One resolved forecast: what was said (probabilities over the question's outcomes, in order) and what
    happened."""

    probabilities: Mapping[str, float]
    outcome: str

    @property
    def brier(self) -> float:
        return brier(self.probabilities, self.outcome)

    @property
    def log(self) -> float:
        return log_score(self.probabilities, self.outcome)


@dataclass(frozen=True, slots=True)
class Bucket:
    low: float  # predicted probabilities in [low, low + 0.1)
    count: int
    predicted: float  # their mean
    observed: float  # how often those outcomes happened


@dataclass(frozen=True, slots=True)
class ScoreSummary:
    count: int
    mean_brier: float
    low: float  # 95% interval of the mean Brier score
    high: float
    mean_log: float
    buckets: tuple[Bucket, ...]


def calibration(forecasts: Sequence[Scored]) -> tuple[Bucket, ...]:
    pairs: list[tuple[float, float]] = []
    for forecast in forecasts:
        names = list(forecast.probabilities)
        shown = names[:1] if len(names) == 2 else names  # yes/no: the first outcome says it all
        pairs += [(forecast.probabilities[name], 1.0 if name == forecast.outcome else 0.0) for name in shown]
    buckets = []
    for index in range(BUCKETS):
        inside = [(p, o) for p, o in pairs if min(int(p * BUCKETS), BUCKETS - 1) == index]
        if inside:
            buckets.append(Bucket(index / BUCKETS, len(inside), sum(p for p, _ in inside) / len(inside),
                                  sum(o for _, o in inside) / len(inside)))
    return tuple(buckets)


def summarise(forecasts: Sequence[Scored]) -> ScoreSummary | None:
    """None for no forecast; one forecast's interval is its own score (no spread to measure)."""
    if not forecasts:
        return None
    scores = [f.brier for f in forecasts]
    count = len(scores)
    mean = sum(scores) / count
    spread = math.sqrt(sum((s - mean) ** 2 for s in scores) / (count - 1)) if count > 1 else 0.0
    margin = Z95 * spread / math.sqrt(count)
    return ScoreSummary(count, mean, max(0.0, mean - margin), min(1.0, mean + margin),
                        sum(f.log for f in forecasts) / count, calibration(forecasts))
