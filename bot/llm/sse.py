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
    """Feed bytes in, get events out. Keeps a lone CR at the end of a chunk until it knows whether LF follows."""

    def __init__(self) -> None:
        self._buffer = b""
        self._event = ""
        self._data: list[str] = []
        self._size = 0

    def feed(self, chunk: bytes) -> list[SseEvent]:
        buffer = self._buffer + chunk if self._buffer else chunk
        events: list[SseEvent] = []
        start = 0
        for match in LINE_END.finditer(buffer):
            if match.end() == len(buffer) and match.group() == b"\r":
                break  # maybe the first half of CRLF: wait for the next chunk
            self._line(buffer[start:match.start()], events)
            start = match.end()
        self._buffer = buffer[start:]
        if len(self._buffer) + self._size > MAX_EVENT_BYTES:
            raise EventTooLarge(f"an event of more than {MAX_EVENT_BYTES} bytes")
        return events

    def close(self) -> list[SseEvent]:
        """End of body: a last line without a line end still counts; an event without a blank line too."""
        events: list[SseEvent] = []
        if self._buffer:
            self._line(self._buffer.rstrip(b"\r"), events)
            self._buffer = b""
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
