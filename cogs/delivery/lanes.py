"""Lanes: one per Discord rate-limit bucket, making that bucket's calls one at a time when Discord allows.

Each lane mirrors its bucket (`RateWindow`, learned from Discord's headers) and chooses its next call only
when a call is allowed: first messages and finished answers first, in the order they became due; progress
edits share what is left, leaving room in the window for those. Webhook creates in a thread also count
against the hidden per-thread limit (`CreateBudget`), which is never tripped. A call that fails never stops
the lane, and every message settles (shown, or given up on), so a round can always end.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import aiohttp
import discord

from bot.logs import log_event
from cogs.delivery.pacing import (
    CHANNEL_LIMIT,
    CHANNEL_WINDOW,
    WEBHOOK_LIMIT,
    WEBHOOK_WINDOW,
    BucketReport,
    CreateBudget,
    RateWindow,
    Where,
)
from cogs.delivery.posters import UNKNOWN_WEBHOOK, Chunk, thread_gone
from cogs.delivery.ratelimit_headers import BucketKind, HeaderWatch, kind_of
from cogs.delivery.ratelimits import report_429

__all__ = ["CALL_TIMEOUT", "CONNECTION_RETRIES", "IDLE_EXIT", "Call", "Lane", "LaneStats", "Stream", "WindowFor",
           "window_for"]

log = logging.getLogger(__name__)
CALL_TIMEOUT = 30.0  # a Discord call that takes longer is abandoned (the lane must not hang on it)
CONNECTION_RETRIES = 2  # a dropped connection is retried this often before the update is given up
IDLE_EXIT = 30.0  # a lane's worker stops after this long with nothing to do


@dataclass(frozen=True)
class Call:
    """One Discord call a message wants: create its `index`-th message, edit it, or delete it."""

    index: int
    chunk: Chunk
    create: bool
    delete: bool = False  # the answer got shorter (a stance block or a cut-off note replaced): one message less


class Stream(Protocol):
    """What a lane needs of a message it carries (a LiveMessage): the call it wants next, and to make it."""

    model: str  # the model alias answering (the pool spreads one model's concurrent answers)
    last_call: float  # time.monotonic() of its last call made

    @property
    def started(self) -> bool:
        """It has its first Discord message."""

    @property
    def finished(self) -> bool:
        """Its answer is complete: what is left to show is urgent."""

    @property
    def creates_in(self) -> Where | None:
        """The thread (and its channel) whose hidden create limit its creates count against (None: none)."""

    def next_call(self) -> Call | None: ...

    def urgent_since(self) -> float: ...

    async def perform(self, call: Call) -> None: ...

    def gone(self) -> None:
        """Discord says its thread is gone (deleted, archived, locked)."""

    def repost(self) -> bool:
        """Its webhook was deleted: True if it will be posted again in full through another poster (and so
        leaves this lane unsettled), False if it cannot be."""

    def settled(self, *, gave_up: bool = False) -> None: ...

    async def wait_shown(self) -> None: ...


@dataclass
class LaneStats:
    creates: int = 0
    edits: int = 0
    failures: int = 0
    cut_429s: int = 0  # calls abandoned on a 429 so the lane could serve others meanwhile


WindowFor = Callable[[str], RateWindow]


def window_for(key: str) -> RateWindow:
    """Discord's documented bucket for the key's kind, until its headers say otherwise."""
    if kind_of(key) is BucketKind.CHANNEL:
        return RateWindow(CHANNEL_LIMIT, CHANNEL_WINDOW)
    return RateWindow(WEBHOOK_LIMIT, WEBHOOK_WINDOW)


class Lane:
    """One lane per rate-limit bucket: a worker making that bucket's calls, one at a time, when allowed.

    Updates coalesce (a message is brought up to date by its next call, however many tokens arrived), so
    the number of calls depends on time, not on tokens. Urgent calls (a message's creation, a finished
    answer) go first-come-first-served and may use the whole window; progress edits take turns (least
    recently updated first, at most one per message per `edit_interval`) and leave `reserve` calls of the
    window free for urgent ones.
    """

    def __init__(self, key: str = "", *, window: RateWindow | None = None, creates: CreateBudget | None = None,
                 edit_interval: float = 0.5, headers: HeaderWatch | None = None) -> None:
        self.key = key
        self.window = window or window_for(key)
        self.creates = creates
        self.edit_interval = edit_interval
        self.stats = LaneStats()
        self._headers = headers
        self._pending: dict[int, Stream] = {}
        self._open: dict[int, Stream] = {}  # messages attached and not finished yet
        self._failures: dict[int, int] = {}  # connection failures in a row, per message
        self._wakeup = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._call: asyncio.Task[None] | None = None
        self._call_where: Where | None = None
        self._answered = False  # the current call's answer was reported by the header watch
        self._cut = ""  # why the current call was abandoned: "429" (retried when allowed) or "server" (a 5xx)
        if headers is not None and key:
            headers.listen(key, self._on_report)

    @property
    def reserve(self) -> int:
        """Calls of each window that progress edits leave for urgent ones: at least 2 of Discord's 5, and more
        while answers on this bucket still await their first message (each will want one, soon) or their final
        edit (about half of those may land in the same window)."""
        unstarted = sum(1 for live in self._open.values() if not live.started)
        streaming = len(self._open) - unstarted
        return min(self.window.limit - 1, max(2, unstarted + math.ceil(streaming / 2)))

    def attach(self, live: Stream) -> None:
        """A message that will stream through this lane (it may need urgent calls until it is done)."""
        self._open[id(live)] = live

    def detach(self, live: Stream) -> None:
        self._open.pop(id(live), None)
        self._failures.pop(id(live), None)

    def streams_of(self, model: str) -> int:
        """Answers of this model streaming through this lane now."""
        return sum(1 for live in self._open.values() if live.model == model)

    def request(self, live: Stream, *, urgent: bool = False) -> None:
        """Queue `live` for an update; `urgent` wakes the worker at once (a finished answer, a new message)."""
        fresh = id(live) not in self._pending
        self._pending[id(live)] = live
        if fresh or urgent:
            self._wakeup.set()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(), name=f"moai-lane-{self.key.split(':')[0]}")

    async def drain(self) -> None:
        """Wait until every queued message is shown (or given up on)."""
        while self._pending:
            await asyncio.gather(*(live.wait_shown() for live in list(self._pending.values())))

    def _on_report(self, report: BucketReport) -> None:
        """Discord answered one of this bucket's calls (called inside the call, before discord.py reads on)."""
        self._answered = True
        self.window.record(report.at, report)
        # Only a webhook's answers are surely this lane's own call; a channel's bucket also carries the bot's
        # other posts there (status lines), whose failures are not this call's.
        if self._call is None or self._call.done() or kind_of(self.key) is not BucketKind.WEBHOOK:
            return
        if report.status >= 500:  # discord.py would retry after sleeping 1, 3, 5… s holding the webhook
            self._cut = "server"
            self._call.cancel()
            return
        if report.status != 429:
            return
        retry = report.retry_after or self.window.window
        if report.hidden and self.creates is not None and self._call_where is not None:
            self.creates.refused(self._call_where, report.at, retry)
        # discord.py would sleep out the 429 inside the call, holding this webhook: every thread on it would
        # freeze. Abandon the call instead (nothing was made) and serve the others until it may be retried.
        report_429(f"{self.key.split(':')[0]} (call abandoned, the lane goes on)", round(retry, 3),
                   "hidden" if report.hidden else "route")
        self._cut = "429"
        self._call.cancel()

    def _pick(self, now: float) -> tuple[Stream | None, Call | None, float]:
        """The call to make now, or how long to wait before looking again."""
        soonest = IDLE_EXIT
        urgent: list[tuple[float, Stream, Call]] = []
        progress: list[tuple[float, Stream, Call]] = []
        for live in list(self._pending.values()):
            call = live.next_call()
            if call is None:
                self._settle(live)
                continue
            where = live.creates_in
            if call.create and self.creates is not None and where is not None:
                wait = self.creates.delay(where, now)
                if wait > 0:
                    soonest = min(soonest, wait)
                    continue
            if call.create or live.finished:
                urgent.append((live.urgent_since(), live, call))
            elif now - live.last_call >= self.edit_interval:
                progress.append((live.last_call, live, call))
            else:
                soonest = min(soonest, live.last_call + self.edit_interval - now)
        if urgent:
            _, live, call = min(urgent, key=lambda item: item[0])
            wait = self.window.delay(now)
        elif progress:
            _, live, call = min(progress, key=lambda item: item[0])
            wait = self.window.delay(now, self.reserve)
        else:
            return None, None, soonest
        if wait > 0:
            return None, None, min(wait, soonest)
        return live, call, 0.0

    async def _run(self) -> None:
        while True:
            live, call, wait = self._pick(time.monotonic()) if self._pending else (None, None, IDLE_EXIT)
            if live is None or call is None:
                self._wakeup.clear()
                try:
                    await asyncio.wait_for(self._wakeup.wait(), timeout=max(wait, 0.001))
                except TimeoutError:
                    if not self._pending:
                        return  # idle: the next request starts a new worker
                continue
            await self._make(live, call)

    async def _make(self, live: Stream, call: Call) -> None:
        """One Discord call; whatever happens, the lane goes on and the message is not left pending forever."""
        where = live.creates_in
        if not call.create or self.creates is None or where is None:
            await self._call_once(live, call)
            return
        probe = self.creates.record(where, time.monotonic())
        made = False
        try:
            made = await self._call_once(live, call)
        finally:
            if probe:
                self.creates.answered(where, time.monotonic(), made=made)
                self._wakeup.set()  # this lane's creates waiting behind the probe look again (others poll)

    async def _call_once(self, live: Stream, call: Call) -> bool:
        """The call made; True if Discord did what it asked."""
        where = live.creates_in
        self._answered, self._cut = False, ""
        self._call_where = where
        self._call = asyncio.create_task(live.perform(call))
        try:
            done, _ = await asyncio.wait({self._call}, timeout=CALL_TIMEOUT)
        finally:
            if not self._call.done():
                self._call.cancel()
        if not self._answered:  # no headers came back (a dropped link, a proxy, a test double): count it anyway
            self.window.record(time.monotonic())
        try:
            if not done:
                raise TimeoutError(f"no answer from Discord within {CALL_TIMEOUT:g} s")
            if self._call.cancelled() and self._cut == "server":
                raise ConnectionError("Discord answered with a server error")
            if self._call.cancelled():
                self.stats.cut_429s += 1
                return False  # still pending: retried when the bucket or the thread allows
            self._call.result()
        except discord.HTTPException as error:
            if error.code == UNKNOWN_WEBHOOK and live.repost():  # a moderator deleted the webhook mid-answer
                self._failed(live, call, f"HTTP {error.status}", code=error.code, gave_up=False)
                self._pending.pop(id(live), None)
                self.detach(live)
                return False
            # Deleted thread, lost permission, outage: keep streaming the others; the DB keeps the text.
            self._failed(live, call, f"HTTP {error.status}", code=error.code, gave_up=True)
            self._give_up(live)
            if thread_gone(error):
                live.gone()
            return False
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            failures = self._failures[id(live)] = self._failures.get(id(live), 0) + 1
            self._failed(live, call, type(error).__name__, gave_up=failures > CONNECTION_RETRIES)
            if failures > CONNECTION_RETRIES:
                self._give_up(live)
            return False
        except Exception as error:  # never let the lane die: drain() and every round waiting on it would hang
            log.debug("unexpected error updating a message", exc_info=True)
            self._failed(live, call, type(error).__name__, gave_up=True)
            self._give_up(live)
            return False
        self._failures.pop(id(live), None)
        if call.create:
            self.stats.creates += 1
        else:
            self.stats.edits += 1
        if live.next_call() is None:
            self._settle(live)
        return True

    def _failed(self, live: Stream, call: Call, error: str, *, gave_up: bool, code: int | None = None) -> None:
        """One line per failed Discord call (the answer itself is stored whatever Discord does)."""
        kind = "create" if call.create else "delete" if call.delete else "edit"
        log_event(log, "discord_update_failed", logging.WARNING, lane=kind_of(self.key).value, model=live.model,
                  call=kind, error=error, code=code, attempt=self._failures.get(id(live)), gave_up=gave_up)

    def _settle(self, live: Stream) -> None:
        self._pending.pop(id(live), None)
        if live.finished:
            self.detach(live)
        live.settled()

    def _give_up(self, live: Stream) -> None:
        self.stats.failures += 1
        self._pending.pop(id(live), None)
        self.detach(live)
        live.settled(gave_up=True)

    def close(self) -> None:
        if self._headers is not None and self.key:
            self._headers.stop_listening(self.key)
        if self._worker is not None:
            self._worker.cancel()
        for live in list(self._pending.values()):
            self._settle(live)
