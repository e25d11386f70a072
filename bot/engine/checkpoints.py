"""Checkpoints of the answers still streaming: all of them in one statement per interval.

A checkpoint keeps what was shown if the process dies mid-answer. Written per answer, their number grew with
the number of answers in flight times their length; here the process's streaming answers share one
`UPDATE … SET content = CASE id …` per interval (in chunks the database's parameter limit allows), so
checkpoint statements depend on the interval alone. The same statement stores the ids of the messages each
answer is shown in (a long answer's new Discord message costs no statement of its own), so an answer's own
statements are a constant (its row, its bill, its final save) whatever its length. The statement only
touches rows still `streaming`: a checkpoint that races an answer's final save can never overwrite it with
older text.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from tortoise.expressions import Case, F, When

from bot.db.models import Message
from bot.db.retry import transient
from bot.kinds import MessageStatus
from bot.logs import log_event

if TYPE_CHECKING:
    from bot.engine.rounds import Answer, RunnerStats

__all__ = ["Checkpoints"]

log = logging.getLogger(__name__)
ROWS_PER_STATEMENT = 50  # small statements: building one is CPU in the event loop, so none may be long


class Checkpoints:
    def __init__(self, interval: Callable[[], float], stats: RunnerStats) -> None:
        self._interval = interval
        self._stats = stats
        self._live: dict[int, Answer] = {}  # row id -> an answer streaming now
        self._dirty: set[int] = set()  # rows whose text grew since their last checkpoint
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()

    def begin(self, answer: Answer) -> None:
        """An answer starts streaming: it is checkpointed until `end`."""
        self._live[answer.row.id] = answer
        self._idle.clear()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush_forever(), name="moai-checkpoints")

    def grew(self, answer: Answer) -> None:
        """Its text changed: the next checkpoint writes it (O(1): nothing is written here)."""
        self._dirty.add(answer.row.id)

    def end(self, answer: Answer) -> None:
        """Its final save follows: no checkpoint for it any more."""
        self._live.pop(answer.row.id, None)
        self._dirty.discard(answer.row.id)
        if not self._live:
            self._idle.set()  # the flusher stops at once instead of sleeping out its interval

    async def _flush_forever(self) -> None:
        while self._live:
            try:
                await asyncio.wait_for(self._idle.wait(), max(self._interval(), 0.01))
            except TimeoutError:
                await self.flush()

    async def flush(self) -> None:
        """One statement (per ROWS_PER_STATEMENT rows) for every streaming answer whose text or messages grew."""
        # Texts and message ids as they are now, before any await: an answer may end (and leave `_live`)
        # meanwhile, and the statement's status guard then leaves its final row alone.
        self._dirty.update(row for row, answer in self._live.items() if answer.shown_in != answer.shown_stored)
        now = {row: (self._live[row].text, list(self._live[row].shown_in)) for row in self._dirty if row in self._live}
        self._dirty.clear()
        rows = list(now)
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            # Answers that ended while earlier chunks ran have their final rows: nothing to write for them (and
            # after the last one ends the database may be closing).
            chunk = [row for row in rows[start:start + ROWS_PER_STATEMENT] if row in self._live]
            if not chunk:
                continue
            try:
                await Message.filter(id__in=chunk, status=MessageStatus.STREAMING).update(
                    content=Case(*(When(id=row, then=now[row][0]) for row in chunk), default=F("content")),
                    discord_message_ids=Case(*(When(id=row, then=json.dumps(now[row][1])) for row in chunk),
                                             default=F("discord_message_ids")))
            except Exception as error:  # best effort: a busy database must not cut healthy answers off
                if not transient(error):
                    log.exception("checkpoint failed")
                log_event(log, "checkpoint_skipped", logging.WARNING, rows=len(chunk), error=type(error).__name__)
                self._dirty.update(row for row in chunk if row in self._live)  # tried again next interval
                continue
            self._stats.db_writes += 1
            for row in chunk:
                if row in self._live:
                    self._live[row].shown_stored = now[row][1]
