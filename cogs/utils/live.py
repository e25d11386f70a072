"""Streaming answers into Discord: coalesced edits, paced per channel, split past 2000 characters."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import discord

from cogs.utils.send import NO_MENTIONS
from cogs.utils.split import DISCORD_LIMIT, split_message

log = logging.getLogger(__name__)
UNKNOWN_WEBHOOK = 10015  # Discord's error code once the webhook was deleted
UNKNOWN_CHANNEL = 10003  # the thread was deleted
THREAD_CLOSED = {50083, 160005}  # "Operation on an archived thread", "Thread is locked"


class Poster(Protocol):
    """Where one model's answer appears: a webhook message, a bot embed, or an interaction response."""

    limit: int

    async def send(self, content: str) -> int: ...

    async def edit(self, message_id: int, content: str) -> None: ...


@dataclass
class SchedulerStats:
    creates: int = 0
    edits: int = 0


class EditScheduler:
    """One worker per channel applies pending updates round-robin under a token bucket.

    Updates coalesce: however many tokens arrive, a message is edited at most once per turn, so the
    number of Discord calls depends on time, not on tokens. The bucket allows a burst of `burst` calls
    (Discord's buckets do too), then one call per `interval`, which keeps a busy thread under its limits.
    """

    def __init__(self, interval: float, burst: int = 5) -> None:
        self.interval = interval
        self.burst = burst
        self.stats = SchedulerStats()
        self._tokens = float(burst)
        self._refilled_at = time.monotonic()
        self._pending: OrderedDict[int, LiveMessage] = OrderedDict()
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._worker: asyncio.Task[None] | None = None

    def request(self, live: LiveMessage, *, first: bool = False) -> None:
        """Queue an update; `first` puts it ahead (a finished answer's final text beats progress edits)."""
        self._pending.setdefault(id(live), live)
        if first:
            self._pending.move_to_end(id(live), last=False)
        self._idle.clear()
        self._wakeup.set()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(), name="moai-edit-scheduler")

    async def drain(self) -> None:
        """Wait until every requested update has reached Discord."""
        await self._idle.wait()

    async def acquire(self) -> None:
        """Wait for permission to make one Discord call."""
        if not self.interval:
            return
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._refilled_at) / self.interval)
        self._refilled_at = now
        if self._tokens < 1:
            await asyncio.sleep((1 - self._tokens) * self.interval)
            self._tokens, self._refilled_at = 1.0, time.monotonic()
        self._tokens -= 1

    async def _run(self) -> None:
        while True:
            if not self._pending:
                self._idle.set()
                self._wakeup.clear()
                try:
                    await asyncio.wait_for(self._wakeup.wait(), timeout=30)
                except TimeoutError:
                    return
                continue
            _, live = self._pending.popitem(last=False)
            await live.flush(self)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()


class LiveMessage:
    """One model's answer as Discord messages, edited as text arrives; earlier chunks stay put."""

    def __init__(self, poster: Poster, scheduler: EditScheduler, header: str = "", *,
                 on_sent: Callable[[list[int]], Awaitable[None]] | None = None,
                 on_gone: Callable[[], None] | None = None) -> None:
        self.poster = poster
        self.scheduler = scheduler
        self.header = header
        self.text = ""
        self.message_ids: list[int] = []
        self._shown: list[str] = []
        self._on_sent = on_sent  # a new Discord message exists: its id is stored at once (replies find it)
        self._on_gone = on_gone  # the thread is gone: the run should stop

    def update(self, text: str, *, final: bool = False) -> None:
        self.text = text
        self.scheduler.request(self, first=final)

    def chunks(self) -> list[str]:
        if not self.text:
            return []
        return split_message(self.header + self.text, limit=self.poster.limit)

    async def flush(self, scheduler: EditScheduler) -> None:
        """Bring Discord up to date with the latest text, one paced call per changed chunk."""
        try:
            for index, chunk in enumerate(self.chunks()):
                if index == len(self._shown):
                    await scheduler.acquire()
                    self.message_ids.append(await self.poster.send(chunk))
                    self._shown.append(chunk)
                    scheduler.stats.creates += 1
                    if self._on_sent is not None:
                        await self._on_sent(list(self.message_ids))
                elif self._shown[index] != chunk:
                    await scheduler.acquire()
                    await self.poster.edit(self.message_ids[index], chunk)
                    self._shown[index] = chunk
                    scheduler.stats.edits += 1
        except discord.HTTPException as error:
            # Deleted thread, lost permission, outage: keep streaming the others; the DB keeps the text.
            log.warning("could not update a message: %s %s", error.status, error.code)
            if thread_gone(error) and self._on_gone is not None:
                self._on_gone()
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            # A dropped connection must not kill the channel's worker (drain() would never return).
            log.warning("could not reach Discord to update a message: %s", type(error).__name__)


def thread_gone(error: discord.HTTPException) -> bool:
    """404 Unknown Channel (deleted), or refused because a moderator archived or locked the thread."""
    return (isinstance(error, discord.NotFound) and error.code == UNKNOWN_CHANNEL) or error.code in THREAD_CLOSED


class WebhookPoster:
    """The model speaks under its own name and avatar through the channel's one webhook."""

    limit = DISCORD_LIMIT

    def __init__(self, webhook: discord.Webhook, thread: discord.abc.Snowflake, username: str,
                 avatar_url: str | None, on_gone: Callable[[], None] = lambda: None) -> None:
        self.webhook, self.thread, self.username, self.avatar_url = webhook, thread, username, avatar_url
        self.on_gone = on_gone

    async def send(self, content: str) -> int:
        try:
            message = await self.webhook.send(content, username=self.username[:80], avatar_url=self.avatar_url,
                                              thread=self.thread, wait=True, allowed_mentions=NO_MENTIONS)
        except discord.NotFound as error:
            self._check_gone(error)
            raise
        return message.id

    async def edit(self, message_id: int, content: str) -> None:
        try:
            await self.webhook.edit_message(message_id, content=content, thread=self.thread,
                                            allowed_mentions=NO_MENTIONS)
        except discord.NotFound as error:
            self._check_gone(error)
            raise

    def _check_gone(self, error: discord.NotFound) -> None:
        if error.code == UNKNOWN_WEBHOOK:
            self.on_gone()


class EmbedPoster:
    """Fallback without Manage Webhooks: the bot posts, the model's name and avatar go in the embed."""

    limit = 4000

    def __init__(self, channel: discord.abc.Messageable, name: str, avatar_url: str | None) -> None:
        self.channel, self.name, self.avatar_url = channel, name, avatar_url
        self._messages: dict[int, discord.Message] = {}

    def _embed(self, content: str) -> discord.Embed:
        return discord.Embed(description=content).set_author(name=self.name, icon_url=self.avatar_url)

    async def send(self, content: str) -> int:
        message = await self.channel.send(embed=self._embed(content), allowed_mentions=NO_MENTIONS)
        self._messages[message.id] = message
        return message.id

    async def edit(self, message_id: int, content: str) -> None:
        await self._messages[message_id].edit(embed=self._embed(content), allowed_mentions=NO_MENTIONS)


class InteractionPoster:
    """/ask answers in place: the deferred response first, follow-ups for the overflow."""

    limit = DISCORD_LIMIT

    def __init__(self, interaction: discord.Interaction[Any]) -> None:
        self.interaction = interaction
        self._original_id: int | None = None

    async def send(self, content: str) -> int:
        if self._original_id is None:
            message = await self.interaction.edit_original_response(content=content, allowed_mentions=NO_MENTIONS)
            self._original_id = message.id
            return message.id
        followup = await self.interaction.followup.send(content, wait=True, allowed_mentions=NO_MENTIONS)
        return followup.id

    async def edit(self, message_id: int, content: str) -> None:
        if message_id == self._original_id:
            await self.interaction.edit_original_response(content=content, allowed_mentions=NO_MENTIONS)
        else:
            await self.interaction.followup.edit_message(message_id, content=content, allowed_mentions=NO_MENTIONS)
