"""Server-sent events over an aiohttp body, as the spec has them: CRLF, LF or lone CR line ends, comments,
multi-line data, `data:` with or without a space, and lines of any length (aiohttp's readline stops at
512 KiB; providers can send longer lines)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp

MAX_EVENT_BYTES = 64 * 1024 * 1024  # one event larger than this is not a chat stream: give up on it
LINE_END = re.compile(rb"\r\n|\r|\n")


class EventTooLarge(ValueError):
    """An event grew past MAX_EVENT_BYTES without a blank line."""


@dataclass(frozen=True, slots=True)
class SseEvent:
    event: str
    data: str


class SseParser:
    """Feed bytes in, get events out; linear in the input however it is cut (a long line in many chunks too).

    A CR ends a line at once; an LF right after it (even in the next chunk) is the rest of that CRLF.
    """

    def __init__(self) -> None:
        self._partial: list[bytes] = []  # the current line so far, in pieces
        self._partial_size = 0
        self._skip_lf = False
        self._event = ""
        self._data: list[str] = []
        self._size = 0

    def feed(self, chunk: bytes) -> list[SseEvent]:
        events: list[SseEvent] = []
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        start = 0
        for match in LINE_END.finditer(chunk):
            piece = chunk[start:match.start()]
            if self._partial:
                self._partial.append(piece)
                piece = b"".join(self._partial)
                self._partial, self._partial_size = [], 0
            self._line(piece, events)
            start = match.end()
        if start < len(chunk):
            self._partial.append(chunk[start:])
            self._partial_size += len(chunk) - start
            if self._partial_size + self._size > MAX_EVENT_BYTES:
                raise EventTooLarge(f"an event of more than {MAX_EVENT_BYTES} bytes")
        elif chunk.endswith(b"\r"):
            self._skip_lf = True
        return events

    def close(self) -> list[SseEvent]:
        """End of body: a last line without a line end still counts; an event without a blank line too."""
        events: list[SseEvent] = []
        if self._partial:
            self._line(b"".join(self._partial), events)
            self._partial, self._partial_size = [], 0
        if self._data:
            events.append(SseEvent(self._event or "message", "\n".join(self._data)))
        self._event, self._data, self._size = "", [], 0
        return events

    def _line(self, raw: bytes, events: list[SseEvent]) -> None:
        if not raw:
            if self._data:
                events.append(SseEvent(self._event or "message", "\n".join(self._data)))
            self._event, self._data, self._size = "", [], 0
            return
        if raw.startswith(b"data: "):  # the common case, without the general split below
            self._data.append(raw[6:].decode("utf-8", errors="replace"))
            self._size += len(raw)
            return
        if raw[0] == 0x3A:  # ":" comment (OpenRouter's keep-alives)
            return
        line = raw.decode("utf-8", errors="replace")
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
            self._size += len(raw)
        elif field == "event":
            self._event = value


async def iter_sse(content: aiohttp.StreamReader) -> AsyncIterator[SseEvent]:
    parser = SseParser()
    async for chunk in content.iter_any():
        for event in parser.feed(chunk):
            yield event
    for event in parser.close():
        yield event
