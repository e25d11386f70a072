"""Discord's rate-limit headers, read off every answer through an aiohttp trace.

discord.py reads these headers for its own waiting but does not hand them to callers; the display's
pacing needs them (bucket size, window, what is left, 429s as they happen), so the bot's HTTP session
carries this trace and each pacing lane listens to its own bucket.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from enum import StrEnum
from types import SimpleNamespace

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from cogs.delivery.pacing import BucketReport

__all__ = ["BucketKind", "HeaderWatch", "Listener", "bucket_key", "channel_key", "kind_of", "read_report",
           "webhook_key"]

Listener = Callable[[BucketReport], None]


class BucketKind(StrEnum):
    """Whose rate limit a call counts against: a webhook's (models' messages, /ask replies) or a channel's
    (the bot's own messages)."""

    WEBHOOK = "webhook"
    CHANNEL = "channel"


def webhook_key(webhook_id: int, token: str) -> str:
    """A webhook's bucket (discord.py's too: id and token); the token itself is never kept."""
    return f"{BucketKind.WEBHOOK}:{webhook_id}:{hashlib.sha256(token.encode()).hexdigest()[:12]}"


def channel_key(channel_id: int) -> str:
    return f"{BucketKind.CHANNEL}:{channel_id}"


def kind_of(key: str) -> BucketKind:
    """The kind of a bucket key made by webhook_key or channel_key."""
    return BucketKind(key.split(":", 1)[0])


def bucket_key(url: URL) -> str | None:
    """The bucket a request URL belongs to, for the routes the display uses."""
    parts = url.path.strip("/").split("/")
    if len(parts) >= 4 and parts[0] == "api" and parts[2] == "webhooks":
        return webhook_key(int(parts[3]), parts[4]) if len(parts) >= 5 and parts[3].isdigit() else None
    if len(parts) >= 5 and parts[0] == "api" and parts[2] == "channels" and parts[4] == "messages" \
            and parts[3].isdigit():
        return channel_key(int(parts[3]))
    return None


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def read_report(status: int, headers: CIMultiDictProxy[str], url: URL, at: float) -> BucketReport:
    limit, remaining = _number(headers.get("X-RateLimit-Limit")), _number(headers.get("X-RateLimit-Remaining"))
    thread = url.query.get("thread_id")
    retry = _number(headers.get("Retry-After")) if status == 429 else None
    if status == 429:  # Reset-After is more precise than Retry-After, which Discord rounds up to whole seconds
        retry = _number(headers.get("X-RateLimit-Reset-After")) or retry
    return BucketReport(
        status=status, at=at, limit=int(limit) if limit else None,
        remaining=int(remaining) if remaining is not None else None,
        reset_after=_number(headers.get("X-RateLimit-Reset-After")), retry_after=retry,
        hidden=status == 429 and (headers.get("X-RateLimit-Scope") == "shared" or limit is None),
        thread_id=int(thread) if thread and thread.isdigit() else None)


class HeaderWatch:
    """Reports each answer's bucket headers to the lane listening for that bucket."""

    def __init__(self) -> None:
        self._listeners: dict[str, Listener] = {}

    def listen(self, key: str, listener: Listener) -> None:
        self._listeners[key] = listener

    def stop_listening(self, key: str) -> None:
        self._listeners.pop(key, None)

    def trace_config(self) -> aiohttp.TraceConfig:
        trace = aiohttp.TraceConfig()
        trace.on_request_end.append(self._on_request_end)
        return trace

    async def _on_request_end(self, session: aiohttp.ClientSession, context: SimpleNamespace,
                              params: aiohttp.TraceRequestEndParams) -> None:
        self.observe(params.response.status, params.response.headers, params.url)

    def observe(self, status: int, headers: CIMultiDictProxy[str], url: URL) -> None:
        key = bucket_key(url)
        if key is None:
            return
        report = read_report(status, headers, url, time.monotonic())
        listener = self._listeners.get(key)
        if listener is not None:
            listener(report)
