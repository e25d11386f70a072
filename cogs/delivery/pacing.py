"""Discord's rate limits mirrored here, so moai's calls stay inside them instead of bumping into them.

Two limits matter for streaming answers:
- every webhook (and every channel, for bot messages) is a bucket of `limit` calls per `window` seconds,
  shared by creates and edits; Discord says so in `X-RateLimit-*` headers on every answer;
- a hidden limit of about 30 webhook message creates per minute per thread (or per parent channel:
  undocumented, so learned), which shows no headers until it is hit and then makes discord.py wait it out
  (half a minute or more). It must never be hit twice.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

__all__ = ["BucketReport", "CreateBudget", "RateWindow", "Where"]

# Discord's documented webhook bucket, used until its headers say otherwise.
WEBHOOK_LIMIT, WEBHOOK_WINDOW = 5, 2.0
PROBE_POLL = 0.02  # how often a create waiting behind a probe looks again (the lane is woken sooner anyway)
# Bot messages in a channel (the embed fallback): 5 per 5 s.
CHANNEL_LIMIT, CHANNEL_WINDOW = 5, 5.0


@dataclass(frozen=True)
class BucketReport:
    """What one Discord answer said about its bucket (any field may be missing)."""

    status: int
    at: float  # time.monotonic() when the answer arrived
    limit: int | None = None
    remaining: int | None = None
    reset_after: float | None = None
    retry_after: float | None = None  # on a 429
    hidden: bool = False  # a 429 without bucket headers: the per-thread create limit (scope "shared")
    thread_id: int | None = None


class RateWindow:
    """One bucket as seen from here: at most `limit` calls in any `window` seconds, learned from headers.

    Calls are counted at the time Discord's answer arrived, which is never before Discord counted them, so a
    call made `window` seconds after the `limit`-th last answer is inside the limit whether Discord's window
    is fixed or sliding. `Limit` gives the size; `Reset-After` on the first call of a window gives its
    length; `Remaining` lower than our own count means someone else (another process) uses the bucket too.
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._answers: deque[float] = deque()
        self._blocked_until = 0.0

    def _forget_old(self, now: float) -> None:
        while self._answers and self._answers[0] <= now - self.window:
            self._answers.popleft()

    def delay(self, now: float, reserve: int = 0) -> float:
        """Seconds until a call may start while leaving `reserve` of the window's calls for urgent ones."""
        self._forget_old(now)
        wait = max(0.0, self._blocked_until - now)
        allowed = max(1, self.limit - reserve)
        if len(self._answers) >= allowed:
            wait = max(wait, self._answers[len(self._answers) - allowed] + self.window - now)
        return wait

    def used(self, now: float) -> int:
        self._forget_old(now)
        return len(self._answers)

    def record(self, answered_at: float, report: BucketReport | None = None) -> None:
        """A call was answered (429s are not counted by Discord; they block instead)."""
        if report is not None and report.status == 429:
            if not report.hidden:
                self._blocked_until = max(self._blocked_until, answered_at + (report.retry_after or self.window))
            return
        self._answers.append(answered_at)
        if report is None:
            return
        if report.limit:
            self.limit = report.limit
        if report.reset_after is None or report.remaining is None:
            return
        if report.remaining == self.limit - 1 and report.reset_after > 0:  # the first call of a fresh window
            self.window = min(max(report.reset_after, 0.05), 120.0)
        if report.remaining == 0:
            self._blocked_until = max(self._blocked_until, answered_at + report.reset_after)
        self._forget_old(answered_at)
        unseen = (self.limit - report.remaining) - len(self._answers)
        for _ in range(unseen):  # calls Discord counted that we did not make
            self._answers.append(answered_at)


@dataclass(frozen=True, slots=True)
class Where:
    """Where a webhook message is created: its thread and the thread's parent channel. Discord's hidden
    create limit counts per thread or per parent channel (undocumented); the budget learns which."""

    thread: int
    parent: int


class CreateBudget:
    """The hidden limit on webhook message creates, kept with a margin and never tripped twice.

    Discord gives no warning before it (no headers), so creates are counted here at the time they were sent
    (the earliest Discord could count them), per thread and per parent channel. The limit is counted per
    thread until a hidden 429 says otherwise:
    - refused in a thread while other threads of the same channel had created too: the limit is the
      channel's, shared by its threads; it is counted per channel from then on, and per thread again only
      after `WIDE_FOR` seconds without such a 429;
    - refused with no other thread to blame: the limit is lower than configured; what Discord allowed
      becomes the limit, and it climbs back one create per `RECOVER_EVERY` seconds without a hidden 429
      (Discord's limits change; a learned limit is never a life sentence).
    Until the scope is known, a channel whose threads together reach the limit sends one create at a time
    (a probe, answered before the next is sent): if Discord counts per channel, one 429 says so, not one
    per webhook with a create in flight; a probe that succeeds shows the limit is per thread (for `WIDE_FOR`).
    """

    WIDE_FOR = 3600.0
    RECOVER_EVERY = 600.0

    def __init__(self, per_minute: int, window: float = 61.0) -> None:  # a minute, and a second for jitter
        self.configured = per_minute
        self.window = window
        self._learned = per_minute
        self._learned_at = 0.0  # time.monotonic() of the last hidden 429
        self._sent: dict[tuple[str, int], deque[float]] = {}  # ("thread" | "parent", id) -> sent times
        self._blocked_until: dict[tuple[str, int], float] = {}
        self._wide_until: dict[int, float] = {}  # parent channel -> counted per channel until then
        self._narrow_until: dict[int, float] = {}  # parent channel -> known to count per thread until then
        self._probing: set[int] = set()  # parent channels with a probe create awaiting Discord's answer

    @property
    def limit(self) -> int:
        return self.limit_at(time.monotonic())

    def limit_at(self, now: float) -> int:
        recovered = int(max(0.0, now - self._learned_at) // self.RECOVER_EVERY)
        return min(self.configured, self._learned + recovered)

    def wide(self, parent: int, now: float) -> bool:
        """The channel's threads share one limit (learned from a hidden 429)."""
        until = self._wide_until.get(parent)
        if until is not None and until <= now:
            del self._wide_until[parent]
            return False
        return until is not None

    def _unsure(self, where: Where, now: float) -> bool:
        """Counted per thread, but the channel's threads together are at the limit: a 429 now would not say
        whose limit it was unless one create at a time is in flight."""
        if self.wide(where.parent, now) or self._narrow_until.get(where.parent, 0.0) > now:
            return False
        return len(self._recent(("parent", where.parent), now)) >= self.limit_at(now)

    def _key(self, where: Where, now: float) -> tuple[str, int]:
        return ("parent", where.parent) if self.wide(where.parent, now) else ("thread", where.thread)

    def _recent(self, key: tuple[str, int], now: float) -> deque[float]:
        sent = self._sent.get(key)
        if sent is None:
            return deque()
        while sent and sent[0] <= now - self.window:
            sent.popleft()
        if not sent:
            del self._sent[key]
        return sent

    def used(self, where: Where, now: float | None = None) -> int:
        """Creates counted against the limit that applies to `where` now."""
        now = time.monotonic() if now is None else now
        return len(self._recent(self._key(where, now), now))

    def delay(self, where: Where, now: float) -> float:
        """Seconds until one more create there stays inside the limit."""
        key = self._key(where, now)
        wait = max(0.0, self._blocked_until.get(key, 0.0) - now,
                   self._blocked_until.get(("thread", where.thread), 0.0) - now)
        sent, limit = self._recent(key, now), self.limit_at(now)
        if len(sent) >= limit:
            wait = max(wait, sent[len(sent) - limit] + self.window - now)
        if wait == 0.0 and where.parent in self._probing and self._unsure(where, now):
            wait = PROBE_POLL
        return wait

    def room(self, where: Where, creates: int, now: float | None = None) -> bool:
        """Whether `creates` more would leave half the budget for what follows (the next rounds' first messages)."""
        now = time.monotonic() if now is None else now
        return self.used(where, now) + creates <= self.limit_at(now) // 2

    def record(self, where: Where, sent_at: float) -> bool:
        """A create is sent; True if it is a probe (then call `answered` when Discord has answered it)."""
        probe = self._unsure(where, sent_at)
        if probe:
            self._probing.add(where.parent)
        for key in (("thread", where.thread), ("parent", where.parent)):
            self._sent.setdefault(key, deque()).append(sent_at)
        if len(self._sent) > 512:  # threads nobody posted in for a minute: nothing left to count
            for stale in [k for k, sent in self._sent.items() if not sent or sent[-1] <= sent_at - self.window]:
                del self._sent[stale]
            for stale in [k for k, until in self._blocked_until.items() if until <= sent_at]:
                del self._blocked_until[stale]
            for parent in [p for p, until in self._narrow_until.items() if until <= sent_at]:
                del self._narrow_until[parent]
        return probe

    def answered(self, where: Where, at: float, *, made: bool) -> None:
        """Discord answered the probe `record` sent (`made`: the message exists). A probe that was made
        shows the channel's threads do not share the limit."""
        if where.parent in self._probing:
            self._probing.discard(where.parent)
            if made:
                self._narrow_until[where.parent] = at + self.WIDE_FOR

    def block(self, where: Where, until: float, now: float | None = None) -> None:
        key = self._key(where, time.monotonic() if now is None else now)
        self._blocked_until[key] = max(self._blocked_until.get(key, 0.0), until)

    def refused(self, where: Where, at: float, retry_after: float) -> None:
        """Discord's hidden limit said no before this budget did: learn its scope or its size, and wait."""
        in_thread = len(self._recent(("thread", where.thread), at))
        in_parent = len(self._recent(("parent", where.parent), at))
        limit = self.limit_at(at)
        self._probing.discard(where.parent)
        self._narrow_until.pop(where.parent, None)
        if in_parent > in_thread or self.wide(where.parent, at):
            # Other threads of the channel created too: the limit is the channel's, shared by its threads.
            self._wide_until[where.parent] = at + self.WIDE_FOR
            allowed = in_parent - 1  # what the channel was allowed: the creates counted before the refused one
        else:
            allowed = in_thread - 1
        self._learned, self._learned_at = max(1, min(limit, allowed)), at
        key = self._key(where, at)
        self._blocked_until[key] = max(self._blocked_until.get(key, 0.0), at + retry_after)
