"""A Discord REST emulator on loopback, with Discord's known rate limits, for the routes moai uses.

discord.py's real HTTP client and webhook adapter talk to it (`discord.http.Route.BASE` points here), so
pacing, 429 handling and message content are tested against what Discord does, not against a recorder:
- every webhook is one bucket (id and token): `bucket_limit` requests per `bucket_window` seconds shared by
  execute, edit and delete, answered with `X-RateLimit-Limit/Remaining/Reset/Reset-After/Bucket` headers;
- a hidden limit of `thread_creates` webhook message creates per `create_window` seconds per channel (a
  thread is a channel; `hidden_scope="parent"` counts a thread's creates against its parent channel, as
  Discord may), which shows no headers until it is hit (then a 429 with scope "shared");
- bot messages in a channel: `channel_limit` per `channel_window` seconds per channel, with headers;
- a 429 has Discord's JSON body (`message`, `retry_after`, `global`), `Retry-After` (whole seconds), and the
  `Via` header discord.py checks to tell Discord from a proxy; every JSON answer is `application/json`.
Routes: webhook execute/get/edit/delete message, interaction callbacks, follow-ups and `@original`, channel
messages (create/edit/delete), threads, channel webhooks (list/create), and the login's `users/@me`.
`drop_next` makes the next requests fail at the connection (as a dropped link does), `fail_next` answers them
502; `delay` slows every answer (a slow Discord).
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


def snowflake() -> int:
    return next(_ids)


@dataclass
class EmulatedMessage:
    id: int
    channel_id: int
    username: str
    content: str
    embeds: list[dict[str, Any]] = field(default_factory=list)
    webhook_id: int | None = None
    versions: list[tuple[float, str]] = field(default_factory=list)  # (time.monotonic(), text shown)
    deleted: bool = False

    @property
    def text(self) -> str:
        """What a reader sees: the content, then each embed's description."""
        return self.content + "".join(str(e.get("description") or "") for e in self.embeds)

    @property
    def edits(self) -> int:
        return len(self.versions) - 1


@dataclass
class Limited:
    """One 429 the emulator sent."""

    at: float
    method: str
    hidden: bool
    key: str


@dataclass
class DiscordEmulator:
    bucket_limit: int = 5
    bucket_window: float = 2.0
    thread_creates: int = 30
    create_window: float = 60.0
    hidden_scope: str = "thread"  # or "parent": the threads of a channel share the hidden create limit
    channel_limit: int = 5
    channel_window: float = 5.0
    parent_of: dict[int, int] = field(default_factory=dict)  # thread id -> parent channel id
    messages: dict[int, EmulatedMessage] = field(default_factory=dict)
    calls: list[tuple[float, str, str]] = field(default_factory=list)  # (time, method, bucket) of each allowed call
    limited: list[Limited] = field(default_factory=list)
    webhooks: dict[int, dict[str, Any]] = field(default_factory=dict)
    interactions: dict[str, int] = field(default_factory=dict)  # interaction token -> channel id
    drop_next: int = 0
    fail_next: int = 0  # the next requests are answered 502 Bad Gateway (Discord's edge having a moment)
    delay: float = 0.0
    base: str = ""
    _buckets: dict[str, deque[float]] = field(default_factory=dict)
    _creates: dict[int, deque[float]] = field(default_factory=dict)
    _original: dict[str, int] = field(default_factory=dict)  # interaction token -> its response message
    _runner: web.AppRunner | None = None

    async def start(self) -> DiscordEmulator:
        app = web.Application()
        hook, message = "/api/v10/webhooks/{id}/{token}", "/messages/{message}"
        app.router.add_post(hook, self._execute)
        app.router.add_get(hook + message, self._webhook_get)
        app.router.add_patch(hook + message, self._webhook_edit)
        app.router.add_delete(hook + message, self._webhook_delete)
        app.router.add_post("/api/v10/interactions/{id}/{token}/callback", self._callback)
        app.router.add_post("/api/v10/channels/{channel}/messages", self._channel_send)
        app.router.add_patch("/api/v10/channels/{channel}/messages/{message}", self._channel_edit)
        app.router.add_delete("/api/v10/channels/{channel}/messages/{message}", self._channel_delete)
        app.router.add_post("/api/v10/channels/{channel}/threads", self._thread)
        app.router.add_get("/api/v10/channels/{channel}/webhooks", self._list_webhooks)
        app.router.add_post("/api/v10/channels/{channel}/webhooks", self._create_webhook)
        app.router.add_get("/api/v10/users/@me", self._me)
        self._runner, base = await serve(app)
        self.base = f"{base}/api/v10"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what tests read ------------------------------------------------------------------
    def in_channel(self, channel_id: int) -> list[EmulatedMessage]:
        return sorted((m for m in self.messages.values() if m.channel_id == channel_id and not m.deleted),
                      key=lambda m: m.id)

    def texts_by_author(self, channel_id: int) -> dict[str, str]:
        """Each author's messages in a channel joined in order: a model's whole answer as Discord shows it."""
        joined: dict[str, str] = {}
        for message in self.in_channel(channel_id):
            joined[message.username] = joined.get(message.username, "") + message.text
        return joined

    def hidden_429s(self) -> int:
        return sum(1 for entry in self.limited if entry.hidden)

    # --- limits --------------------------------------------------------------------------
    @staticmethod
    def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        return web.Response(body=json.dumps(data).encode(), status=status,
                            headers={"Content-Type": "application/json", **(headers or {})})

    @staticmethod
    def _window(calls: deque[float], window: float, now: float) -> None:
        while calls and calls[0] <= now - window:
            calls.popleft()

    def _limit(self, method: str, key: str, limit: int, window: float,
               create_in: int | None = None) -> web.Response | dict[str, str]:
        """A 429 response, or the rate-limit headers of an allowed call (which is counted)."""
        now = time.monotonic()
        bucket = self._buckets.setdefault(key, deque())
        self._window(bucket, window, now)
        if len(bucket) >= limit:
            retry = bucket[0] + window - now
            self.limited.append(Limited(now, method, False, key))
            return self._too_many(retry, {**self._headers(bucket, key, limit, window, now),
                                          "X-RateLimit-Scope": "user"})
        if create_in is not None:
            creates = self._creates.setdefault(create_in, deque())
            self._window(creates, self.create_window, now)
            if len(creates) >= self.thread_creates:
                self.limited.append(Limited(now, method, True, key))
                return self._too_many(creates[0] + self.create_window - now, {"X-RateLimit-Scope": "shared"})
            creates.append(now)
        bucket.append(now)
        self.calls.append((now, method, key))
        return self._headers(bucket, key, limit, window, now)

    @staticmethod
    def _headers(bucket: deque[float], key: str, limit: int, window: float, now: float) -> dict[str, str]:
        reset_after = (bucket[0] + window - now) if bucket else window
        return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(max(0, limit - len(bucket))),
                "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                "X-RateLimit-Reset-After": f"{reset_after:.3f}", "X-RateLimit-Bucket": key}

    def _too_many(self, retry: float, headers: dict[str, str]) -> web.Response:
        retry = max(retry, 0.001)
        return self._json({"message": "You are being rate limited.", "retry_after": round(retry, 3),
                           "global": False}, 429,
                          {**headers, "Retry-After": str(math.ceil(retry)), "Via": "1.1 google"})

    async def _arrive(self, request: web.Request) -> bool:
        """False when the connection is to drop (the client sees it end with no answer)."""
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_next > 0:
            self.fail_next -= 1
            raise web.HTTPBadGateway(text="<html><body>502 Bad Gateway</body></html>", content_type="text/html")
        if self.drop_next <= 0:
            return True
        self.drop_next -= 1
        if request.transport is not None:
            request.transport.close()
        await asyncio.sleep(0)
        return False

    def _create_scope(self, request: web.Request, channel: int) -> int:
        """The channel whose hidden create limit a webhook message in `channel` counts against."""
        if self.hidden_scope != "parent":
            return channel
        return int(self.webhooks[int(request.match_info["id"])]["channel_id"])

    def _webhook_bucket(self, request: web.Request) -> str:
        return f"webhook-{request.match_info['id']}-{request.match_info['token'][:6]}"

    # --- messages ------------------------------------------------------------------------
    def _message_json(self, message: EmulatedMessage) -> dict[str, Any]:
        data = {"id": str(message.id), "channel_id": str(message.channel_id), "type": 0, "content": message.content,
                "embeds": message.embeds, "attachments": [], "mentions": [], "mention_roles": [], "pinned": False,
                "mention_everyone": False, "tts": False, "timestamp": "2026-01-01T00:00:00+00:00",
                "edited_timestamp": None, "flags": 0, "components": [],
                "author": {"id": str(message.webhook_id or 1), "username": message.username,
                           "discriminator": "0000", "avatar": None, "bot": True}}
        if message.webhook_id is not None:
            data["webhook_id"] = str(message.webhook_id)
        return data

    def _new_message(self, channel_id: int, body: dict[str, Any], username: str,
                     webhook_id: int | None) -> EmulatedMessage:
        message = EmulatedMessage(snowflake(), channel_id, username, str(body.get("content") or ""),
                                  list(body.get("embeds") or []), webhook_id)
        if not message.text and not body.get("components") and not body.get("attachments"):
            raise web.HTTPBadRequest(text=json.dumps({"message": "Cannot send an empty message", "code": 50006}),
                                     content_type="application/json")
        message.versions.append((time.monotonic(), message.text))
        self.messages[message.id] = message
        return message

    @staticmethod
    def _apply(message: EmulatedMessage, body: dict[str, Any]) -> None:
        if "content" in body:
            message.content = str(body["content"] or "")
        if "embeds" in body:
            message.embeds = list(body["embeds"] or [])
        message.versions.append((time.monotonic(), message.text))

    @staticmethod
    async def _payload(request: web.Request) -> dict[str, Any]:
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            return dict(json.loads(str(form.get("payload_json") or "{}")))
        if not request.can_read_body:
            return {}
        return dict(await request.json())

    def _unknown(self, what: str, code: int) -> web.Response:
        return self._json({"message": f"Unknown {what}", "code": code}, 404)

    # --- webhook routes ------------------------------------------------------------------
    async def _execute(self, request: web.Request) -> web.StreamResponse:
        if not await self._arrive(request):
            return web.Response(status=500)
        token = request.match_info["token"]
        interaction = token in self.interactions
        if not interaction and int(request.match_info["id"]) not in self.webhooks:
            return self._unknown("Webhook", 10015)
        thread = int(request.query.get("thread_id", "0"))
        channel = self.interactions[token] if interaction else (thread or self.webhooks[
            int(request.match_info["id"])]["channel_id"])
        limited = self._limit("execute", self._webhook_bucket(request), self.bucket_limit, self.bucket_window,
                              create_in=None if interaction else self._create_scope(request, int(channel)))
        if isinstance(limited, web.Response):
            return limited
        body = await self._payload(request)
        message = self._new_message(int(channel), body, body.get("username", "webhook"),
                                    None if interaction else int(request.match_info["id"]))
        return self._json(self._message_json(message), headers=limited)

    def _webhook_message(self, request: web.Request) -> EmulatedMessage | None:
        ref = request.match_info["message"]
        if ref == "@original":
            ref = str(self._original.get(request.match_info["token"], 0))
        message = self.messages.get(int(ref)) if ref.isdigit() else None
        return None if message is None or message.deleted else message

    async def _webhook_get(self, request: web.Request) -> web.StreamResponse:
        message = self._webhook_message(request)
        if message is None:
            return self._unknown("Message", 10008)
        return self._json(self._message_json(message))

    async def _webhook_edit(self, request: web.Request) -> web.StreamResponse:
        if not await self._arrive(request):
            return web.Response(status=500)
        return await self._edit(request, self._webhook_message(request), self._webhook_bucket(request),
                                self.bucket_limit, self.bucket_window)

    async def _edit(self, request: web.Request, message: EmulatedMessage | None, bucket: str, limit: int,
                    window: float) -> web.StreamResponse:
        if message is None or message.deleted:
            return self._unknown("Message", 10008)
        limited = self._limit("edit", bucket, limit, window)
        if isinstance(limited, web.Response):
            return limited
        self._apply(message, await self._payload(request))
        return self._json(self._message_json(message), headers=limited)

    async def _webhook_delete(self, request: web.Request) -> web.StreamResponse:
        if not await self._arrive(request):
            return web.Response(status=500)
        message = self._webhook_message(request)
        if message is None:
            return self._unknown("Message", 10008)
        limited = self._limit("delete", self._webhook_bucket(request), self.bucket_limit, self.bucket_window)
        if isinstance(limited, web.Response):
            return limited
        message.deleted = True
        return web.Response(status=204, headers=limited)

    async def _callback(self, request: web.Request) -> web.StreamResponse:
        """An interaction's first answer: a message (4), or "thinking" (5) shown until edited."""
        token = request.match_info["token"]
        if token not in self.interactions:
            return self._unknown("interaction", 10062)
        if token in self._original:
            return self._json({"message": "Interaction has already been acknowledged.", "code": 40060}, 400)
        body = await self._payload(request)
        data = body.get("data") or {}
        message = EmulatedMessage(snowflake(), self.interactions[token], "moai", str(data.get("content") or ""),
                                  list(data.get("embeds") or []))
        message.versions.append((time.monotonic(), message.text))
        self.messages[message.id] = message
        self._original[token] = message.id
        if request.query.get("with_response") != "true":
            return web.Response(status=204)
        return self._json({"interaction": {"id": request.match_info["id"], "type": 2,
                                           "response_message_id": str(message.id),
                                           "response_message_loading": body.get("type") == 5,
                                           "response_message_ephemeral": bool(data.get("flags", 0) & 64)},
                           "resource": {"type": body.get("type"), "message": self._message_json(message)}})

    # --- channel routes (the bot's own token) --------------------------------------------
    def _channel_bucket(self, request: web.Request) -> str:
        return f"channel-{request.match_info['channel']}"

    async def _channel_send(self, request: web.Request) -> web.StreamResponse:
        if not await self._arrive(request):
            return web.Response(status=500)
        limited = self._limit("send", self._channel_bucket(request), self.channel_limit, self.channel_window)
        if isinstance(limited, web.Response):
            return limited
        message = self._new_message(int(request.match_info["channel"]), await self._payload(request), "moai", None)
        return self._json(self._message_json(message), headers=limited)

    async def _channel_edit(self, request: web.Request) -> web.StreamResponse:
        if not await self._arrive(request):
            return web.Response(status=500)
        return await self._edit(request, self.messages.get(int(request.match_info["message"])),
                                self._channel_bucket(request), self.channel_limit, self.channel_window)

    async def _channel_delete(self, request: web.Request) -> web.StreamResponse:
        message = self.messages.get(int(request.match_info["message"]))
        if message is None or message.deleted:
            return self._unknown("Message", 10008)
        message.deleted = True
        return web.Response(status=204)

    async def _thread(self, request: web.Request) -> web.StreamResponse:
        parent = int(request.match_info["channel"])
        body = await self._payload(request)
        thread = snowflake()
        self.parent_of[thread] = parent
        return self._json({"id": str(thread), "parent_id": str(parent), "name": body.get("name", "thread"),
                           "type": body.get("type", 11), "guild_id": "1", "owner_id": "1", "member_count": 1,
                           "message_count": 0, "rate_limit_per_user": 0, "flags": 0,
                           "thread_metadata": {"archived": False, "locked": False,
                                               "auto_archive_duration": body.get("auto_archive_duration", 1440),
                                               "archive_timestamp": "2026-01-01T00:00:00+00:00"}})

    async def _me(self, request: web.Request) -> web.StreamResponse:
        """The bot's own user, which discord.py's login asks for; a wrong token is refused as Discord does."""
        if not request.headers.get("Authorization", "").startswith("Bot "):
            return self._json({"message": "401: Unauthorized", "code": 0}, 401)
        return self._json({"id": "1", "username": "moai", "discriminator": "0000", "avatar": None, "bot": True,
                           "global_name": None, "flags": 0})

    async def _list_webhooks(self, request: web.Request) -> web.StreamResponse:
        channel = request.match_info["channel"]
        return self._json([w for w in self.webhooks.values() if w["channel_id"] == channel])

    async def _create_webhook(self, request: web.Request) -> web.StreamResponse:
        channel = request.match_info["channel"]
        if sum(1 for w in self.webhooks.values() if w["channel_id"] == channel) >= 15:
            return self._json({"message": "Maximum number of webhooks reached (15)", "code": 30007}, 400)
        body = await self._payload(request)
        webhook = {"id": str(snowflake()), "type": 1, "channel_id": channel, "name": body.get("name", "hook"),
                   "avatar": None, "token": f"token-{snowflake()}", "application_id": None, "guild_id": "1",
                   "user": {"id": "1", "username": "moai", "discriminator": "0000", "avatar": None, "bot": True}}
        self.webhooks[int(webhook["id"])] = webhook
        return self._json(webhook)

    def add_webhook(self, channel_id: int, name: str = "moai", user_id: int = 1) -> dict[str, Any]:
        """A webhook that exists before the test (the harness makes moai's through its own channel routes)."""
        webhook = {"id": str(snowflake()), "type": 1, "channel_id": str(channel_id), "name": name,
                   "avatar": None, "token": f"token-{snowflake()}", "application_id": None, "guild_id": "1",
                   "user": {"id": str(user_id), "username": "moai", "discriminator": "0000", "avatar": None,
                            "bot": True}}
        self.webhooks[int(webhook["id"])] = webhook
        return webhook
