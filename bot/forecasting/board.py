"""Who called it right, in words every front end shows: a resolution's scores, and the accuracy board."""

from __future__ import annotations

from collections.abc import Sequence

from bot.kinds import AuthorKind
from bot.services.forecasts import AccuracyLine, Resolution

__all__ = ["accuracy_lines", "resolution_lines"]


def resolution_lines(resolution: Resolution, outcomes: Sequence[str]) -> list[str]:
    if resolution.outcome is None:
        return ["The question is void: no forecast is scored."]
    lines = []
    for forecast in resolution.forecasts:
        said = " · ".join(f"{o} {forecast.probabilities.get(o, 0.0):.0%}" for o in outcomes)
        score = (f" → Brier {forecast.scored.brier:.3f}, log {forecast.scored.log:.2f}"
                 if forecast.scored is not None else "")
        lines.append(f"{forecast.name}: {said}{score}")
    return lines or ["Nobody forecast this question."]


def accuracy_lines(lines: Sequence[AccuracyLine], min_resolved: int) -> list[str]:
    """Ranked by mean Brier score (lower is better) among those with `min_resolved` questions; the rest after,
    unranked, with their count."""
    summaries = [(line, line.summary) for line in lines]
    ranked = sorted(((line, s) for line, s in summaries if s is not None and s.count >= min_resolved),
                    key=lambda item: item[1].mean_brier)
    unranked = [(line, s) for line, s in summaries if s is not None and s.count < min_resolved]
    shown = []
    for place, (line, summary) in enumerate(ranked, start=1):
        who = "👤 " if line.kind is AuthorKind.USER else ""
        shown.append(f"{place}. {who}**{line.name}** · Brier {summary.mean_brier:.3f} "
                     f"[{summary.low:.3f}–{summary.high:.3f}] · log {summary.mean_log:.2f} · {summary.count} resolved")
    for line, summary in unranked:
        who = "👤 " if line.kind is AuthorKind.USER else ""
        shown.append(f"– {who}{line.name} · unranked, {summary.count} of {min_resolved} resolved")
    return shown or ["No resolved forecasts yet: /predict a question, then /resolve it when its time comes."]
