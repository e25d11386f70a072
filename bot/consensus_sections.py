"""A moderator's structured consensus, read back into its sections, and the dissent moai keeps itself.

The moderator is asked for fixed headings; models vary them (`## Agreement`, `**Agreement:**`, `1. Agreement`),
so headings are matched loosely. Whatever comes before the first heading is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.kinds import MinoritySource
from bot.positions import clusters, plurality
from bot.stances import Stance

HEADINGS = {  # how a heading may be written -> the stored field
    "agreement": "agreement", "agreements": "agreement", "points of agreement": "agreement",
    "disagreement": "disagreements", "disagreements": "disagreements",
    "unique insights": "unique_insights", "unique insight": "unique_insights", "insights": "unique_insights",
    "blind spots": "blind_spots", "blind spot": "blind_spots",
    "minority report": "minority_report", "minority": "minority_report", "dissent": "minority_report",
    "final answer": "final_answer", "answer": "final_answer", "conclusion": "final_answer",
    "claims": "claims", "factual claims": "claims", "claims and sources": "claims",
}
HEADING_RE = re.compile(r"^\s*(#{1,6}\s*|\d+[.)]\s*)?(\*\*|__)?\s*([A-Za-z][A-Za-z ]{2,30}?)\s*"
                        r"(?:(?:\*\*|__)\s*:?|:\s*(?:\*\*|__)?|$)\s*(.*)$")
LOOSE_WORDS = {"answer", "conclusion", "insights", "minority", "dissent", "claims"}  # headings only when marked as such
# A minority report that says there is none, however it is worded: "None.", "- None — everyone converged on
# Go.", "No one dissented.", "N/A", "There was no minority.", "All participants agreed." — read from its first
# clause, after list markers, bold and quotes.
NOTHING = re.compile(
    r"^(?:none(?!\s+of\b)|nothing(?!\s+but\b)|n/?a|not applicable|nil|-+|no(?:ne)?\s+(?:real\s+|clear\s+|"
    r"significant\s+|notable\s+|remaining\s+|substantive\s+)?(?:minority|dissent|dissenting|dissenters?|disagreements?|"
    r"opposition|objections?)\b.*|no\s+(?:one|body|participant|model|panelist)s?\b.*|nobody\b.*|"
    r"there\s+(?:is|was|were|are)\s+no\b.*|(?:all|every|both)\b.*\b(?:agreed|agree|converged|aligned|concurred|"
    r"unanimous)\b.*|everyone\b.*\b(?:agreed|agrees|converged|aligned|concurred)\b.*|unanimous\b.*|"
    r"the (?:panel|discussion|group) (?:was|is|reached)\s+(?:unanimous|consensus)\b.*)$", re.IGNORECASE)
FIRST_CLAUSE = re.compile(r"[.;:!—–\n]|\s-\s|,\s*(?:so|as|since|because)\b")

MODERATOR_NOTE = """

You are the moderator now. Do not add a new opinion: synthesise the discussion above under exactly these \
headings, in this order: **Agreement**, **Disagreements** (each point with where every participant stands), \
**Unique insights** (name who raised each), **Blind spots** (what nobody considered), **Minority report** \
(the strongest dissenting position and its best argument, even if it lost; "None" only if nobody dissented), \
**Final answer**. Name the participants when you attribute positions."""


def parse_sections(text: str) -> dict[str, str]:
    """Field -> text under that heading (a heading repeated later adds to it)."""
    found: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        match = HEADING_RE.match(line)
        name = match.group(3).strip().lower() if match else ""
        key = HEADINGS.get(name)
        marked = match is not None and bool(match.group(1) or match.group(2))
        if match is not None and key is not None and (marked or name not in LOOSE_WORDS):
            current = key
            found.setdefault(key, [])
            if match.group(4).strip():
                found[key].append(match.group(4).strip())
        elif current is not None:
            found[current].append(line)
    return {key: "\n".join(lines).strip() for key, lines in found.items()}


def stance_summary(stance: Stance) -> str:
    confidence = f" ({stance.confidence}%)" if stance.confidence is not None else ""
    return f"{stance.position}{confidence}"


def minority_from_stances(stances: Mapping[str, Stance], similarity: float) -> str:
    """The strongest dissent by the stances alone: the most confident holder of a position outside the largest
    group. "" when all agree or no group is largest (an even split has no minority)."""
    known = {name: s for name, s in stances.items() if s.known}
    if len(known) < 2:
        return ""
    groups = clusters([s.position or "" for s in known.values()], similarity)
    majority = plurality(groups)
    dissenters = [(name, s) for (name, s), g in zip(known.items(), groups, strict=True)
                  if majority is not None and g != majority]
    if not dissenters:  # all agree, or an even split
        return ""
    name, stance = max(dissenters, key=lambda item: item[1].confidence or 0)
    reason = f" — {stance.reason}" if stance.reason else ""
    return f"{name}: {stance_summary(stance)}{reason}"


def says_no_minority(text: str) -> bool:
    """Whether a minority report means "there is none" (empty counts), in any of the ways models write it."""
    cleaned = re.sub(r"^[\s>*_\-—–•+\d.)\"'“”]+", "", text.strip()).strip("*_\"'“” ")
    if not cleaned:
        return True
    first = FIRST_CLAUSE.split(cleaned, maxsplit=1)[0].strip().strip("*_\"'“” ")
    return bool(NOTHING.match(first)) or bool(NOTHING.match(cleaned.rstrip(".")))


@dataclass(frozen=True, slots=True)
class Minority:
    text: str  # "" when nobody dissents
    source: MinoritySource


def minority_report(sections: Mapping[str, str], stances: Mapping[str, Stance], similarity: float) -> Minority:
    """The moderator's minority report; if it says there is none while a stance still dissents, moai's own
    (the most confident dissenter, with its position and reason) — dissent is never erased."""
    written = sections.get("minority_report", "").strip()
    if written and not says_no_minority(written):
        return Minority(written, MinoritySource.MODERATOR)
    own = minority_from_stances(stances, similarity)
    return Minority(own, MinoritySource.STANCES) if own else Minority("", MinoritySource.NONE)
