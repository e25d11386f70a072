"""Discord's rate limits mirrored here, so moai's calls stay inside them instead of bumping into them.

Two limits matter for streaming answers:
- every webhook (and every channel, for bot messages) is a bucket of `limit` calls per `window` seconds,
  shared by creates and edits; Discord says so in `X-RateLimit-*` headers on every answer;
- a hidden limit of about 30 webhook message creates per minute per thread, which shows no headers until
  it is hit and then makes discord.py wait it out (half a minute or more). It must never be hit.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

__all__ = ["BucketReport", "CreateBudget", "RateWindow"]

# Discord's documented webhook bucket, used until its headers say otherwise.
WEBHOOK_LIMIT, WEBHOOK_WINDOW = 5, 2.0
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


class CreateBudget:
    """The hidden per-thread limit on webhook message creates, kept with a margin and never tripped.

    Discord gives no warning before it (no headers), so creates are counted here per thread, at the time
    they were sent (the earliest Discord could count them); a 429 without bucket headers blocks the thread.
    """

    def __init__(self, per_minute: int, window: float = 61.0) -> None:  # a minute, and a second for jitter
        self.limit = per_minute
        self.window = window
        self._sent: dict[int, deque[float]] = {}
        self._blocked_until: dict[int, float] = {}

    def _recent(self, thread_id: int, now: float) -> deque[float]:
        sent = self._sent.setdefault(thread_id, deque())
        while sent and sent[0] <= now - self.window:
            sent.popleft()
        if not sent:
            del self._sent[thread_id]
        return sent

    def used(self, thread_id: int, now: float | None = None) -> int:
        return len(self._recent(thread_id, time.monotonic() if now is None else now))

    def delay(self, thread_id: int, now: float) -> float:
        """Seconds until one more create in this thread stays inside the limit."""
        wait = max(0.0, self._blocked_until.get(thread_id, 0.0) - now)
        sent = self._recent(thread_id, now)
        if len(sent) >= self.limit:
            wait = max(wait, sent[len(sent) - self.limit] + self.window - now)
        return wait

    def room(self, thread_id: int, creates: int, now: float | None = None) -> bool:
        """Whether `creates` more would leave half the budget for what follows (the next rounds' first messages)."""
        return self.used(thread_id, now) + creates <= self.limit // 2

    def record(self, thread_id: int, sent_at: float) -> None:
        self._sent.setdefault(thread_id, deque()).append(sent_at)
        if len(self._sent) > 256:  # threads nobody posted in for a minute: nothing left to count
            for stale in [t for t, sent in self._sent.items() if sent[-1] <= sent_at - self.window]:
                del self._sent[stale]
            for stale in [t for t, until in self._blocked_until.items() if until <= sent_at]:
                del self._blocked_until[stale]

    def block(self, thread_id: int, until: float) -> None:
        self._blocked_until[thread_id] = max(self._blocked_until.get(thread_id, 0.0), until)

    def refused(self, thread_id: int, at: float, retry_after: float) -> None:
        """Discord's hidden limit said no before this budget did: it is lower than configured. Take what
        Discord allowed (the creates counted before the refused one) as the limit from now on, and wait."""
        allowed = self.used(thread_id, at) - 1
        self.limit = max(1, min(self.limit, allowed))
        self.block(thread_id, at + retry_after)
