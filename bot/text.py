"""Text as it comes from people and providers, made safe to store and send."""

from __future__ import annotations

import unicodedata


def clean_text(text: str) -> str:
    """Storable and sendable anywhere: no NUL (PostgreSQL rejects it), no lone surrogates (invalid UTF-8)."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def is_blank(text: str) -> bool:
    """Whitespace and invisible format characters only (zero-width spaces, direction marks)."""
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text)
