"""Writes that must land (an answer's final text, its bill, a round's or a discussion's end) are retried for a
few seconds when the database is briefly unavailable: SQLite locked by another process, a PostgreSQL connection
killed by a failover or a pooler restart. Anything else is raised at once; so is the last failure."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
from tortoise.exceptions import BaseORMException, DBConnectionError, IntegrityError, OperationalError

from bot.logs import log_event

__all__ = ["RETRY_DELAYS", "persist", "storage_failed", "transient"]

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2)  # 6.35 s in all, then the error is the caller's
_TRANSIENT_SQLITE = ("locked", "busy", "disk i/o")


def transient(error: BaseException) -> bool:
    """A failure that a retry of the same statement may not meet again."""
    if isinstance(error, IntegrityError):
        return False
    if isinstance(error, DBConnectionError | asyncpg.PostgresConnectionError | asyncpg.InterfaceError
                  | asyncpg.exceptions.OperatorInterventionError | ConnectionError | TimeoutError):
        return True
    cause = error.__cause__ or (error.args[0] if error.args and isinstance(error.args[0], Exception) else None)
    if isinstance(error, OperationalError) and isinstance(cause, sqlite3.OperationalError):
        return any(word in str(cause).lower() for word in _TRANSIENT_SQLITE)
    if isinstance(error, sqlite3.OperationalError):
        return any(word in str(error).lower() for word in _TRANSIENT_SQLITE)
    return isinstance(error, OSError) and not isinstance(error, FileNotFoundError | PermissionError)


def storage_failed(error: BaseException) -> bool:
    """The error came from the database (or the disk under it), not from moai's own logic."""
    return isinstance(error, BaseORMException | sqlite3.Error | asyncpg.PostgresError | asyncpg.InterfaceError
                      | OSError) or transient(error)


async def persist(work: Callable[[], Awaitable[T]], what: str) -> T:
    """`work()`, retried on transient database failures; one `db_retry` line per retry."""
    for attempt, delay in enumerate((*RETRY_DELAYS, None), start=1):
        try:
            return await work()
        except Exception as error:
            if delay is None or not transient(error):
                raise
            log_event(log, "db_retry", logging.WARNING, what=what, attempt=attempt, error=type(error).__name__,
                      retry_in_s=delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # the last attempt returns or raises
