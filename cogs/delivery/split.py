"""Splitting long answers into Discord-sized messages without breaking code blocks."""

from __future__ import annotations

import re

__all__ = ["DISCORD_LIMIT", "FENCE_RE", "split_message"]

DISCORD_LIMIT = 2000
# A fence may be indented up to three spaces (models indent code under list items so).
FENCE_RE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$", re.MULTILINE)


def _open_fence(text: str) -> str | None:
    """The opening line of a code block left open at the end of `text` (without its indent), if any."""
    opening: str | None = None
    for match in FENCE_RE.finditer(text):
        fence = match["fence"]
        if opening is None:
            if "`" in match["info"] and fence[0] == "`":
                continue  # `` ```a``` `` on one line: inline code, not a fence
            opening = (fence + match["info"]).strip()
        elif fence[0] == opening[0] and len(fence) >= len(opening) - len(opening.lstrip("`~")) \
                and not match["info"].strip():
            opening = None
    return opening


def _cut_point(text: str, limit: int) -> int:
    """Prefer a paragraph break, then a line break, then a space; hard-cut only when there is none."""
    window = text[:limit]
    for separator in ("\n\n", "\n", " "):
        index = window.rfind(separator)
        if index > limit // 2:
            return index + len(separator)
    return limit


def split_message(text: str, limit: int = DISCORD_LIMIT) -> list[str]:
    """Chunks of at most `limit` chars. A code block cut in two is closed and reopened with its language.

    Depends only on the text's prefix, so while an answer streams, earlier chunks never change.
    """
    chunks: list[str] = []
    carry = ""  # fence line reopened at the top of the next chunk
    rest = text
    while rest:
        head = f"{carry}\n" if carry else ""
        room = limit - len(head)
        if len(rest) <= room:
            chunks.append(head + rest)
            break
        budget = room - 4  # leave space to close a fence: "\n```"
        cut = _cut_point(rest, budget)
        piece, rest = rest[:cut], rest[cut:]
        fence = _open_fence(head + piece)
        if fence:
            marker = fence[: len(fence) - len(fence.lstrip("`~"))]
            chunks.append(head + piece.rstrip("\n") + "\n" + marker)
            carry = fence
        else:
            chunks.append(head + piece)
            carry = ""
    return [chunk for chunk in chunks if chunk.strip()] or [""]
