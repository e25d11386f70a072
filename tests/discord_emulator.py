"""A Discord REST emulator for webhook traffic, on loopback, with Discord's known rate limits.

discord.py's real HTTP client and webhook adapter talk to it (`discord.http.Route.BASE` points here), so
pacing, 429 handling and message content are tested against what Discord does, not against a recorder:
- every webhook is one bucket: `bucket_limit` requests per `bucket_window` seconds shared by execute, edit and
  delete, answered with `X-RateLimit-Limit/Remaining/Reset/Reset-After/Bucket` headers;
- a hidden limit of `channel_creates` message creates per `channel_window` seconds per parent channel, which
  shows no headers until it is hit;
- a 429 has Discord's JSON body (`message`, `retry_after`, `global`), `Retry-After`, and the `Via` header
  discord.py checks to tell Discord from a proxy; every JSON answer is exactly `application/json`.
`drop_next` makes the next requests fail at the connection (as a dropped link does).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.loopback import serve

_ids = itertools.count(int(time.time() * 1000) << 22)


@dataclass
class EmulatedMessage:
    id: int
    channel_id: int
    username: str
    content: str
    edits: int = 0


@dataclass
class DiscordEmulator:
    bucket_limit: int = 5
    bucket_window: float = 2.0
    channel_creates: int = 30
    channel_window: float = 60.0
    parent_of: dict[int, int] = field(default_factory=dict)  # thread id -> parent channel id
    messages: dict[int, EmulatedMessage] = field(default_factory=dict)
    calls: list[tuple[float, str, int]] = field(default_factory=list)  # (time, method, webhook id)
    limited: list[tuple[str, bool]] = field(default_factory=list)  # (method, hidden) of each 429 sent
    drop_next: int = 0
    base: str = ""
    _buckets: dict[int, deque[float]] = field(default_factory=dict)
    _creates: dict[int, deque[float]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None

    async def start(self) -> DiscordEmulator:
        app = web.Application()
        app.router.add_post("/api/v10/webhooks/{id}/{token}", self._execute)
        app.router.add_patch("/api/v10/webhooks/{id}/{token}/messages/{message}", self._edit)
        self._runner, base = await serve(app)
        self.base = f"{base}/api/v10"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- limits --------------------------------------------------------------------------
    @staticmethod
    def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        return web.Response(body=json.dumps(data).encode(), status=status,
                            headers={"Content-Type": "application/json", **(headers or {})})

    def _window(self, calls: deque[float], window: float, now: float) -> None:
        while calls and calls[0] <= now - window:
            calls.popleft()

    def _limit(self, method: str, webhook: int, channel: int, create: bool) -> web.Response | dict[str, str]:
        """A 429 response, or the rate-limit headers of an allowed call (which is counted)."""
        now = time.monotonic()
        bucket = self._buckets.setdefault(webhook, deque())
        self._window(bucket, self.bucket_window, now)
        if len(bucket) >= self.bucket_limit:
            retry = bucket[0] + self.bucket_window - now
            self.limited.append((method, False))
            return self._too_many(retry, {**self._headers(bucket, webhook, now), "X-RateLimit-Scope": "user"})
        if create:
            creates = self._creates.setdefault(channel, deque())
            self._window(creates, self.channel_window, now)
            if len(creates) >= self.channel_creates:
                self.limited.append((method, True))
                return self._too_many(creates[0] + self.channel_window - now, {"X-RateLimit-Scope": "shared"})
            creates.append(now)
        bucket.append(now)
        self.calls.append((now, method, webhook))
        return self._headers(bucket, webhook, now)

    def _headers(self, bucket: deque[float], webhook: int, now: float) -> dict[str, str]:
        reset_after = (bucket[0] + self.bucket_window - now) if bucket else self.bucket_window
        return {"X-RateLimit-Limit": str(self.bucket_limit),
                "X-RateLimit-Remaining": str(max(0, self.bucket_limit - len(bucket))),
                "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                "X-RateLimit-Reset-After": f"{reset_after:.3f}", "X-RateLimit-Bucket": f"webhook-{webhook}"}

    def _too_many(self, retry: float, headers: dict[str, str]) -> web.Response:
        retry = max(retry, 0.001)
        return self._json({"message": "You are being rate limited.", "retry_after": round(retry, 3),
                           "global": False}, 429,
                          {**headers, "Retry-After": str(math.ceil(retry)), "Via": "1.1 google"})

    async def _dropped(self, request: web.Request) -> bool:
        if self.drop_next <= 0:
            return False
        self.drop_next -= 1
        transport = request.transport
        if transport is not None:
            transport.close()  # the client sees the connection end with no answer
        await asyncio.sleep(0)
        return True

    # --- routes --------------------------------------------------------------------------
    def _message_json(self, message: EmulatedMessage) -> dict[str, Any]:
        return {"id": str(message.id), "channel_id": str(message.channel_id), "type": 0, "content": message.content,
                "embeds": [], "attachments": [], "mentions": [], "mention_roles": [], "pinned": False,
                "mention_everyone": False, "tts": False, "timestamp": "2026-01-01T00:00:00+00:00",
                "edited_timestamp": None, "flags": 0, "webhook_id": "1",
                "author": {"id": "1", "username": message.username, "discriminator": "0000", "avatar": None}}

    async def _execute(self, request: web.Request) -> web.StreamResponse:
        if await self._dropped(request):
            return web.Response(status=500)
        webhook = int(request.match_info["id"])
        thread = int(request.query.get("thread_id", "0"))
        limited = self._limit("execute", webhook, self.parent_of.get(thread, thread), create=True)
        if isinstance(limited, web.Response):
            return limited
        body = await self._payload(request)
        message = EmulatedMessage(next(_ids), thread, body.get("username", ""), body.get("content", ""))
        self.messages[message.id] = message
        return self._json(self._message_json(message), headers=limited)

    async def _edit(self, request: web.Request) -> web.StreamResponse:
        if await self._dropped(request):
            return web.Response(status=500)
        webhook = int(request.match_info["id"])
        message = self.messages.get(int(request.match_info["message"]))
        if message is None:
            return self._json({"message": "Unknown Message", "code": 10008}, 404)
        limited = self._limit("edit", webhook, self.parent_of.get(message.channel_id, message.channel_id),
                              create=False)
        if isinstance(limited, web.Response):
            return limited
        body = await self._payload(request)
        message.content = body.get("content", message.content)
        message.edits += 1
        return self._json(self._message_json(message), headers=limited)

    @staticmethod
    async def _payload(request: web.Request) -> dict[str, Any]:
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            return dict(json.loads(str(form.get("payload_json") or "{}")))
        return dict(await request.json())
