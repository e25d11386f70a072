"""A forecast as people and models write it: "Yes: 70%", "- Rust — 55 %", "Probability: 0.7", read into
probabilities over the question's outcomes; a forecast that does not add up to 100% is normalised and says so."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MAX_OUTCOMES", "Forecast", "parse_forecast", "parse_outcomes"]

MAX_OUTCOMES = 6
LINE_RE = re.compile(r"^\s*(?:[-*•+]|\d+[.)])?\s*(?:\*\*|__)?(?P<name>[^:=—–\n]{1,80}?)(?:\*\*|__)?\s*[:=—–]\s*"
                     r"(?:\*\*|__)?\s*(?P<value>\d{1,3}(?:[.,]\d+)?)\s*(?P<percent>%|percent)?", re.IGNORECASE)
# Words that give a yes/no question's first outcome; not "confidence", which a stance block gives its position
PROBABILITY_WORDS = {"probability", "p", "chance", "likelihood", "forecast", "p(yes)"}
TOLERANCE = 0.005  # 99.5%–100.5% counts as 100%: rounding, not a mistake


@dataclass(frozen=True, slots=True)
class Forecast:
    probabilities: dict[str, float]  # outcome -> probability, in the question's order, summing to 1
    normalised: bool  # what was written did not add up to 100% (or left outcomes out) and was scaled


def parse_outcomes(text: str | None) -> list[str]:
    """`outcomes:` as typed ("Rust, Go, Zig"); none: a yes/no question. ValueError past six or with repeats."""
    if not text or not text.strip():
        return ["Yes", "No"]
    names = [" ".join(part.split())[:80] for part in re.split(r"[,;\n|]", text) if part.strip()]
    if len(names) < 2:
        raise ValueError("A question needs at least two outcomes (or none: yes/no).")
    if len(names) > MAX_OUTCOMES:
        raise ValueError(f"At most {MAX_OUTCOMES} outcomes ({len(names)} given).")
    if len({n.lower() for n in names}) < len(names):
        raise ValueError("Each outcome must be named once.")
    return names


def parse_forecast(text: str, outcomes: Sequence[str]) -> Forecast | None:
    """The last forecast block in `text` (a model may think aloud before it), or None when none is given."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        match = LINE_RE.match(line)
        if match is None:
            continue
        value = float(match["value"].replace(",", "."))
        value = value / 100 if match["percent"] or value > 1 else value
        if not 0 <= value <= 1:
            continue
        name = _outcome(match["name"], outcomes)
        if name is None and len(outcomes) == 2 and match["name"].strip().lower() in PROBABILITY_WORDS:
            name = outcomes[0]  # "Probability: 70%" on a yes/no question
        if name is not None:
            found[name] = value
    if not found:
        return stance_forecast(text, outcomes)
    if len(outcomes) == 2 and len(found) == 1:  # one side of a yes/no question says the other
        [(name, value)] = found.items()
        other = outcomes[1] if name == outcomes[0] else outcomes[0]
        found[other] = 1 - value
    return normalised(found, outcomes)


def stance_forecast(text: str, outcomes: Sequence[str]) -> Forecast | None:
    """A debate's stance block ("Position: Yes", "Confidence: 70%") read as a forecast: the position's outcome
    at that confidence, the rest shared by the others."""
    from bot.stances import split_stance

    _, stance = split_stance(text)
    chosen = _outcome(stance.position or "", outcomes) if stance.known else None
    if chosen is None or stance.confidence is None:
        return None
    sure = stance.confidence / 100
    rest = (1 - sure) / (len(outcomes) - 1)
    return Forecast({o: sure if o == chosen else rest for o in outcomes}, False)


def normalised(found: dict[str, float], outcomes: Sequence[str]) -> Forecast | None:
    total = sum(found.values())
    missing = [o for o in outcomes if o not in found]
    if total <= 0:
        return None
    scaled = abs(total - 1) > TOLERANCE or bool(missing)
    if missing and total < 1:  # what is left goes evenly to the outcomes not mentioned
        rest = (1 - total) / len(missing)
        found = {**found, **{o: rest for o in missing}}
        total = 1.0
    probabilities = {o: found.get(o, 0.0) / total for o in outcomes}
    return Forecast(probabilities, scaled)


def _outcome(written: str, outcomes: Sequence[str]) -> str | None:
    cleaned = " ".join(written.strip().strip("*_\"'“”").split()).lower()
    for outcome in outcomes:
        if cleaned == outcome.lower():
            return outcome
    for outcome in outcomes:  # "Yes, it will" / "Rust (as the engine)"
        if cleaned.startswith(outcome.lower() + " ") or cleaned.startswith(outcome.lower() + ","):
            return outcome
    return None
