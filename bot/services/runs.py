"""A run is one piece of model work for a discussion (rounds, a mention, a consensus) in the background.

The Run object owns its task, its admission ticket, the discussion's status while it runs, cancellation and
an end event; the registry keeps one chain of runs per key (a thread), so work for one thread runs in turn.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot import metrics
from bot.db.models import Discussion
from bot.db.retry import persist
from bot.engine.rounds import RoundResult
from bot.kinds import DiscussionStatus, RunOutcome
from bot.logs import log_event
from bot.services.admission import Ticket
from bot.services.discussions import DiscussionStore

log = logging.getLogger(__name__)

Work = Callable[[], Awaitable[Sequence[RoundResult]]]
RELEASE_RETRY, RELEASE_ATTEMPTS = 30.0, 120  # a hold the database refused to release: tried for an hour
OnCrash = Callable[[BaseException], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What the run is, for its log lines."""

    mode: str
    guild_id: int | None = None
    started_by: int | None = None
    channel_id: int | None = None  # where /stop finds it when its key is not the channel (an /ask)


class Run:
    def __init__(self, key: int, discussion: Discussion, work: Work, *, ticket: Ticket | None, info: RunInfo,
                 store: DiscussionStore, on_crash: OnCrash | None = None, previous: Run | None = None) -> None:
        self.key = key
        self.discussion = discussion
        self.info = info
        self.ticket = ticket or Ticket()
        self.results: list[RoundResult] = []
        self.outcome = RunOutcome.PENDING
        self.ended = asyncio.Event()
        self._work = work
        self._store = store
        self._on_crash = on_crash
        self._previous = previous
        self._cleanup: asyncio.Task[None] | None = None
        self._cancelled = False
        self._shutdown = False
        self.task: asyncio.Task[None] | None = None

    def start(self) -> Run:
        self.task = asyncio.create_task(self._main(), name=f"moai-run-{self.key}")
        return self

    @property
    def done(self) -> bool:
        return self.task is not None and self.task.done()

    def interrupt(self) -> bool:
        """The process is stopping: cancel, but leave the discussion resumable after the restart.

        A run already stopped by a member stays stopped (cancelled), not resumable."""
        if self._cancelled:
            return False
        self._shutdown = True
        return self.cancel()

    def cancel(self) -> bool:
        """Idempotent: many signals (a /stop, each failing post in a deleted thread) make one cancellation.

        True if this call cancelled the run."""
        if self.task is None or self._cancelled or self.task.done():
            return False
        self._cancelled = True
        return self.task.cancel()

    async def wait(self) -> None:
        if self.task is not None:
            await asyncio.gather(asyncio.shield(self.task), return_exceptions=True)
        await self.ended.wait()

    def _finished(self) -> None:
        """Done callback: a run cancelled before its first step never ran its cleanup; do it here."""
        if not self.ended.is_set() and self._cleanup is None:
            self._cleanup = asyncio.get_running_loop().create_task(self._never_started())

    async def _never_started(self) -> None:
        try:
            self.outcome = RunOutcome.CANCELLED
            await self.ticket.refund()  # nothing was asked of any model: the members get their cooldowns back
            if self.discussion.status is DiscussionStatus.RUNNING:  # as created: it must not look alive
                await self._store.set_status(self.discussion, DiscussionStatus.CANCELLED)
        finally:
            self._log_end(0.0)
            self.ended.set()

    async def _main(self) -> None:
        started = time.monotonic()
        metrics.ACTIVE_RUNS.inc()
        try:
            if self._previous is not None:  # one thread's work runs in order
                await asyncio.shield(self._previous.ended.wait())
            await self._play()
        except asyncio.CancelledError:
            if self._previous is not None:
                self._previous.cancel()
            raise
        finally:
            self._previous = None
            try:
                await asyncio.shield(self._release())
            finally:
                metrics.ACTIVE_RUNS.dec()
                self._log_end(time.monotonic() - started)
                self.ended.set()

    async def _release(self) -> None:
        """The run's budget hold goes; if the database refuses (a full disk), it is tried again in the background
        until it lands or the hold lapses by itself, instead of counting against the budget for an hour."""
        try:
            await self.ticket.release()
        except Exception as error:
            log_event(log, "hold_release_failed", logging.WARNING, discussion=self.discussion.id,
                      error=type(error).__name__)
            self._cleanup = asyncio.get_running_loop().create_task(self._release_later())

    async def _release_later(self) -> None:
        for _ in range(RELEASE_ATTEMPTS):
            await asyncio.sleep(RELEASE_RETRY)
            try:
                await self.ticket.release_again()
                log_event(log, "hold_released_late", discussion=self.discussion.id)
                return
            except Exception:
                continue

    async def _play(self) -> None:
        """Running while models answer (a crash of the process leaves it so, for recovery); then the outcome."""
        log_event(log, "run_start", discussion=self.discussion.id, mode=self.info.mode, guild=self.info.guild_id,
                  user=self.info.started_by, models=self.discussion.models)
        status = DiscussionStatus.CANCELLED
        try:
            await self._store.set_status(self.discussion, DiscussionStatus.RUNNING)
            self.results = list(await self._work())
            status, self.outcome = DiscussionStatus.COMPLETED, RunOutcome.COMPLETED
        except asyncio.CancelledError:
            self.outcome = RunOutcome.SHUTDOWN if self._shutdown else RunOutcome.CANCELLED
            if self._shutdown:  # left running, as after a crash: the next start offers Resume
                status = DiscussionStatus.RUNNING
            raise
        except Exception as error:
            self.outcome = RunOutcome.FAILED
            log.exception("run %s (discussion %s) failed", self.key, self.discussion.id)
            if self._on_crash is not None:
                await self._report(error)
        finally:
            await asyncio.shield(persist(lambda: self._store.set_status(self.discussion, status), "set status"))

    async def _report(self, error: BaseException) -> None:
        assert self._on_crash is not None
        try:
            await self._on_crash(error)
        except Exception:
            log.warning("could not report the failure of run %s", self.key)

    def _log_end(self, seconds: float) -> None:
        answers = [a for result in self.results for a in result.answers]
        cost = sum(a.row.cost_usd or 0.0 for a in answers)
        metrics.RUNS.labels(self.info.mode, self.outcome).inc()
        metrics.RUN_SECONDS.labels(self.info.mode).observe(seconds)
        log_event(log, "run_end", discussion=self.discussion.id, mode=self.info.mode, guild=self.info.guild_id,
                  user=self.info.started_by, outcome=self.outcome, models=self.discussion.models,
                  rounds=len(self.results), answers=len(answers), cost_usd=round(cost, 6),
                  duration_s=round(seconds, 3))


class RunRegistry:
    """The runs of this process by key (a thread id, or an interaction id for /ask)."""

    def __init__(self, store: DiscussionStore) -> None:
        self.store = store
        self._runs: dict[int, Run] = {}

    def start(self, key: int, discussion: Discussion, work: Work, *, ticket: Ticket | None, info: RunInfo,
              on_crash: OnCrash | None = None) -> Run:
        previous = self._runs.get(key)
        run = Run(key, discussion, work, ticket=ticket, info=info, store=self.store, on_crash=on_crash,
                  previous=previous if previous is not None and not previous.ended.is_set() else None)
        self._runs[key] = run
        run.start()
        assert run.task is not None
        run.task.add_done_callback(lambda _: self._forget(key, run))
        return run

    def _forget(self, key: int, run: Run) -> None:
        run._finished()
        if self._runs.get(key) is run:
            del self._runs[key]

    def get(self, key: int) -> Run | None:
        run = self._runs.get(key)
        return run if run is not None and not run.done else None

    def in_channel(self, channel_id: int) -> list[Run]:
        """Live runs started in a channel under other keys (/ask runs, keyed by their interaction)."""
        return [run for run in self._runs.values() if run.info.channel_id == channel_id and not run.done]

    def started_by(self, user_id: int) -> list[Run]:
        """Live runs a member started, or of discussions they started (a mention by another in their thread)."""
        return [run for run in self._runs.values() if not run.done
                and user_id in (run.info.started_by, run.discussion.created_by)]

    def is_running(self, key: int) -> bool:
        return self.get(key) is not None

    async def stop(self, key: int) -> bool:
        """Cancel the key's run (and the ones queued before it); partial answers are kept."""
        run = self.get(key)
        if run is None:
            return False
        run.cancel()
        await run.wait()
        return True

    async def wait_idle(self) -> None:
        """Wait for every run (tests, shutdown)."""
        while self._runs:
            await asyncio.gather(*(run.wait() for run in list(self._runs.values())))
            await asyncio.sleep(0)

    async def interrupt_all(self) -> None:
        """Shutdown: every run stops, its text kept, its discussion left for the next start to offer Resume."""
        runs = list(self._runs.values())
        for run in runs:
            run.interrupt()
        await asyncio.gather(*(run.wait() for run in runs))
