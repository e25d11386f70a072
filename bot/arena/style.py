"""An answer's style, as the ratings weigh it out: its length and its markdown (headers, list items, bold).

Members prefer longer, more formatted answers whatever they say (LMArena's style control exists for this
reason), so the leaderboard fits these alongside the models' strengths. Markdown is read with a real parser:
a `#` inside a code block is code, not a header.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt

__all__ = ["FEATURES", "Style", "style_of", "styles_from_rows"]

FEATURES = ("length", "headers", "lists", "bold")  # in the order of Style's fields and of a stored style
_PARSER = MarkdownIt("commonmark")
_COUNTED = {"heading_open": 1, "list_item_open": 2, "strong_open": 3}


@dataclass(frozen=True, slots=True)
class Style:
    length: float  # characters
    headers: float
    lists: float  # list items, bulleted or numbered
    bold: float

    def stored(self) -> list[float]:
        return [self.length, self.headers, self.lists, self.bold]


def style_of(text: str) -> Style:
    """The style of one answer's text."""
    counts = [float(len(text)), 0.0, 0.0, 0.0]
    pending = _PARSER.parse(text)
    while pending:
        token = pending.pop()
        slot = _COUNTED.get(token.type)
        if slot is not None:
            counts[slot] += 1
        if token.children:
            pending.extend(token.children)
    return Style(*counts)


def styles_from_rows(stored: Sequence[Sequence[float]], seats: int) -> tuple[Style, ...]:
    """A vote round's stored styles, or none when they are missing or do not match its seats (old rows)."""
    if len(stored) != seats or any(len(row) != len(FEATURES) for row in stored):
        return ()
    return tuple(Style(*(float(v) for v in row)) for row in stored)
