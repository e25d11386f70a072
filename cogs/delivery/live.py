"""One model's answer streamed into Discord: edited in place as text arrives, split past Discord's limits."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

from cogs.delivery.lanes import Call, Lane
from cogs.delivery.pacing import Where
from cogs.delivery.posters import Chunk, Poster
from cogs.delivery.split import split_message

__all__ = ["EMBED_LIMIT", "LiveMessage"]

EMBED_LIMIT = 4096  # an embed's description: one message holds twice what its content can


class LiveMessage:
    """One model's answer as Discord messages, edited as text arrives; earlier chunks stay put.

    `compact`: an answer longer than one message's content goes into an embed (4,096 characters) instead,
    so a round costs fewer message creates where the thread's hidden create budget is short.
    """

    def __init__(self, poster: Poster, scheduler: Lane, header: str = "", *, compact: bool = False,
                 model: str = "", on_sent: Callable[[list[int]], None] | None = None,
                 on_gone: Callable[[], None] | None = None) -> None:
        self.poster = poster
        self.model = model  # the model alias answering (webhooks spread the same model's concurrent answers)
        self.scheduler = scheduler
        self.header = header
        self.compact = compact and poster.embeds
        self.text = ""
        self.message_ids: list[int] = []
        self.on_gone = on_gone  # the thread is gone: the run should stop
        self.on_lost: Callable[[LiveMessage], bool] | None = None  # its webhook is gone: find it another
        self.changed_at: float | None = None  # the first update not shown yet
        self.final_at: float | None = None  # when the answer finished
        self.last_call = -math.inf
        self.gave_up = False
        self._shown: list[Chunk] = []
        self._on_sent = on_sent  # a new Discord message exists: its id is stored at once (replies find it)
        self._chunks: tuple[str, list[Chunk]] = ("", [])
        self._settled = asyncio.Event()
        self._settled.set()
        scheduler.attach(self)

    def update(self, text: str, *, final: bool = False) -> None:
        now = time.monotonic()
        self.text = text
        if self.gave_up and not final:  # Discord refused this message: only its final text is tried again
            return
        if self.changed_at is None:
            self.changed_at = now
        if final:
            self.final_at = now
        self._settled.clear()
        self.gave_up = False
        overflow = len(self.header) + len(text) > self.poster.limit * max(1, len(self._shown))
        self.scheduler.request(self, urgent=final or not self._shown or overflow)

    @property
    def started(self) -> bool:
        return bool(self.message_ids)

    @property
    def finished(self) -> bool:
        return self.final_at is not None

    @property
    def creates_in(self) -> Where | None:
        return self.poster.creates_in

    def gone(self) -> None:
        if self.on_gone is not None:
            self.on_gone()

    def repost(self) -> bool:
        return self.on_lost is not None and self.on_lost(self)

    def move(self, poster: Poster, scheduler: Lane) -> None:
        """Post the whole answer again through `poster` (its old messages went with their webhook)."""
        self.poster, self.scheduler = poster, scheduler
        self.compact = self.compact and poster.embeds
        self.message_ids, self._shown, self._chunks = [], [], ("", [])
        scheduler.attach(self)
        if self._on_sent is not None:
            self._on_sent([])
        self.changed_at = time.monotonic()
        scheduler.request(self, urgent=True)

    def urgent_since(self) -> float:
        """First come, first served: a finished answer from when it finished, a new message from its first text."""
        return self.final_at if self.final_at is not None else (self.changed_at or 0.0)

    def chunks(self) -> list[Chunk]:
        full = self.header + self.text
        if self._chunks[0] == full:
            return self._chunks[1]
        if not self.text:
            chunks: list[Chunk] = []
        elif self.compact and len(full) > self.poster.limit:
            chunks = [Chunk(part, embed=True) for part in split_message(full, limit=EMBED_LIMIT)]
        else:
            chunks = [Chunk(part) for part in split_message(full, limit=self.poster.limit)]
        self._chunks = (full, chunks)
        return chunks

    def next_call(self) -> Call | None:
        chunks = self.chunks()
        for index, chunk in enumerate(chunks):
            if index == len(self._shown):
                return Call(index, chunk, create=True)
            if self._shown[index] != chunk:
                return Call(index, chunk, create=False)
        if len(self._shown) > max(1, len(chunks)):  # the first message stays, whatever happens
            return Call(len(self._shown) - 1, Chunk(""), create=False, delete=True)
        return None

    async def perform(self, call: Call) -> None:
        """Make one call; what Discord shows is recorded only once it answered."""
        if call.create:
            message_id = await self.poster.send(call.chunk)
            self.message_ids.append(message_id)
            self._shown.append(call.chunk)
            if self._on_sent is not None:
                self._on_sent(list(self.message_ids))
        elif call.delete:
            await self.poster.remove(self.message_ids[call.index])
            del self.message_ids[call.index], self._shown[call.index]
            if self._on_sent is not None:
                self._on_sent(list(self.message_ids))
        else:
            await self.poster.edit(self.message_ids[call.index], call.chunk)
            self._shown[call.index] = call.chunk
        self.last_call = time.monotonic()
        if self.next_call() is None:
            self.changed_at = None

    def settled(self, *, gave_up: bool = False) -> None:
        self.gave_up = gave_up
        if gave_up or self.next_call() is None:
            self.changed_at = None
        self._settled.set()

    async def wait_shown(self) -> None:
        """Until Discord shows the latest text, or the lane gave up on it (the database has the text anyway)."""
        await self._settled.wait()
