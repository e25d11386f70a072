"""How a member asks for search in a message: `@claude search: what changed in Python 3.14?`."""

from __future__ import annotations

import re

__all__ = ["asks_search", "search_query"]

ASK_RE = re.compile(r"(?:^|(?<=\s))search:(?=\s|$)", re.IGNORECASE)
MENTION_RE = re.compile(r"(?<![\w<])@[A-Za-z0-9][A-Za-z0-9_.-]{0,31}|<@!?\d+>")
MAX_QUERY_CHARS = 400  # search engines cut queries near here (Brave: 400 characters, 50 words)


def asks_search(text: str) -> bool:
    return ASK_RE.search(text) is not None


def search_query(text: str) -> str:
    """What to search for: the member's words without the @mentions and the `search:` marker, one line."""
    words = " ".join(ASK_RE.sub(" ", MENTION_RE.sub(" ", text)).split())
    return words[:MAX_QUERY_CHARS].strip()
