"""The Claims section of a consensus over searched answers: each factual claim of the final answer with the
numbers of the sources that support it, or marked unsupported. Read back into fields, so that exports and
people see which claims stand on a source and which stand on nothing."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.search.sources_prompt import cited_numbers

__all__ = ["CLAIMS_NOTE", "Claim", "ConsensusSource", "claims_note", "parse_claims"]

MAX_SOURCES = 30  # listed to the moderator, numbered across every answer
MAX_CLAIMS = 40
BULLET_RE = re.compile(r"^\s*(?:[-*•+]|\d+[.)])\s+")
UNSUPPORTED_RE = re.compile(r"⚠️|⚠|\bunsupported\b|\bno source\b|\bnot supported\b", re.IGNORECASE)
WARNING_RE = re.compile(r"\s*(?:⚠️|⚠)\s*")
MARKS_RE = re.compile(r"\s*[(\[]?\s*(?:\*\*|__|\*|_)?(?:unsupported|no source|not supported)(?:\*\*|__|\*|_)?\s*[)\]]?"
                      r"\s*[.:]?\s*$", re.IGNORECASE)
CITES_RE = re.compile(r"\s*\[\d{1,2}(?:\s*[-–,]\s*\d{1,2})*\]")

CLAIMS_NOTE = """

After **Final answer**, add a last heading, **Claims**: one bullet per factual claim the final answer makes, \
each ending with the numbers of the sources below that support it, like [1][3]; a claim no listed source \
supports ends with "⚠️ unsupported". Never cite a number that is not listed.

Sources the participants used, numbered for this synthesis:
"""


@dataclass(frozen=True, slots=True)
class ConsensusSource:
    number: int
    url: str
    title: str


@dataclass(frozen=True, slots=True)
class Claim:
    text: str
    sources: tuple[int, ...]  # the numbers of `ConsensusSource`s that support it; () when unsupported

    @property
    def supported(self) -> bool:
        return bool(self.sources)


def claims_note(sources: Sequence[ConsensusSource]) -> str:
    return CLAIMS_NOTE + "\n".join(f"[{s.number}] {s.title or s.url} — {s.url}" for s in sources)


def parse_claims(text: str, sources: int) -> list[Claim]:
    """One claim per bullet (or line) of the Claims section; its [n] markers (1..sources) are its support, and
    a claim marked unsupported, or citing no listed source, has none."""
    claims: list[Claim] = []
    for line in text.splitlines():
        if not line.strip() or (not BULLET_RE.match(line) and claims and line.startswith((" ", "\t"))):
            continue
        body = BULLET_RE.sub("", line).strip()
        numbers = () if UNSUPPORTED_RE.search(body) else tuple(cited_numbers(body, sources))
        stated = MARKS_RE.sub("", WARNING_RE.sub(" ", CITES_RE.sub("", body))).strip(" —–-:")
        if stated:
            claims.append(Claim(stated[:500], numbers))
        if len(claims) >= MAX_CLAIMS:
            break
    return claims
