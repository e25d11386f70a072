"""Counting the SQL statements Tortoise sends, as the database receives them (tests and benches).

Tortoise logs every statement it executes on `tortoise.db_client` at DEBUG; a handler there sees each one
once, whichever client method ran it, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["SQL_VERBS", "Statements", "counting_statements"]

SQL_VERBS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class Statements(logging.Handler):
    """Every statement's SQL text, in order."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sql: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.args[0] if isinstance(record.args, tuple) and record.args else record.msg
        if isinstance(text, str) and text.lstrip().upper().startswith(SQL_VERBS):
            self.sql.append(text)

    def matching(self, *parts: str) -> list[str]:
        return [sql for sql in self.sql if all(part in sql for part in parts)]

    def clear(self) -> None:
        self.sql.clear()


@contextmanager
def counting_statements() -> Iterator[Statements]:
    logger = logging.getLogger("tortoise.db_client")
    handler, level = Statements(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
