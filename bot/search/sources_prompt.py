"""The numbered sources moai gives a model that cannot search itself, and the `[n]` markers read back.

The markers stay in the answer as written: readable footnotes in Discord, the console and every export,
each number pointing at the list the Sources button and the exports show."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from bot.search.backends import SearchResult

__all__ = ["cited_numbers", "results_note", "unavailable_note"]

# [1], [2, 3], [2-4], [1][3]: each bracket a list of numbers or ranges
MARKER_RE = re.compile(r"\[(\d{1,2}(?:\s*[-–,]\s*\d{1,2})*)\]")
MAX_RANGE = 10


def results_note(query: str, results: Sequence[SearchResult], today: date) -> str:
    """Appended to the system prompt: the results numbered, and how to cite them."""
    if not results:
        return (f"\n\nA web search for \u201c{query}\u201d ({today.isoformat()}) found nothing. Answer from what "
                "you know and say that the search found no sources.")
    listed = "\n".join(f"[{n}] {r.title} — {r.url}\n{r.snippet}".rstrip() for n, r in enumerate(results, start=1))
    return (f"\n\nWeb search results for \u201c{query}\u201d, retrieved {today.isoformat()}:\n{listed}\n\n"
            "Use these sources where they help and cite each one you rely on with its number in square brackets, "
            "like [1] or [2][3], right after the claim it supports. Never cite a number that is not listed. "
            "If the results do not answer the question, say so and answer from what you know.")


def unavailable_note(reason: str) -> str:
    return (f"\n\nWeb search was asked for but is unavailable for you in this round ({reason}). Answer from "
            "what you know, and say in one short sentence that you could not search.")


def cited_numbers(text: str, count: int) -> list[int]:
    """The source numbers an answer cites, first cited first; numbers outside 1..count are ignored."""
    cited: list[int] = []
    for match in MARKER_RE.finditer(text):
        for part in re.split(r"\s*,\s*", match.group(1)):
            bounds = [int(n) for n in re.split(r"\s*[-–]\s*", part)]
            low, high = bounds[0], bounds[-1]
            numbers = range(low, high + 1) if 0 <= high - low <= MAX_RANGE else (low, high)
            cited += [n for n in numbers if 1 <= n <= count and n not in cited]
    return cited
