"""Connects Tortoise and brings the schema up to date with the migrations in bot/db/migrations."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.connection import get_connection
from tortoise.migrations.executor import MigrationExecutor

APP_LABEL = "moai"
MODELS_MODULE = "bot.db.models"
MIGRATIONS_MODULE = "bot.db.migrations"


def normalise_url(url: str) -> str:
    """Tortoise knows postgres:// and asyncpg://; accept the common postgresql:// spelling too."""
    return "postgres://" + url.removeprefix("postgresql://") if url.startswith("postgresql://") else url


def tortoise_config(url: str) -> dict[str, Any]:
    return {
        "connections": {"default": normalise_url(url)},
        "apps": {APP_LABEL: {"models": [MODELS_MODULE], "migrations": MIGRATIONS_MODULE,
                             "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


# The tortoise CLI reads this (tortoise -c bot.db.setup.TORTOISE_ORM makemigrations).
TORTOISE_ORM = tortoise_config("sqlite://moai.sqlite3")


async def apply_migrations() -> None:
    config = TORTOISE_ORM["apps"]
    executor = MigrationExecutor(get_connection("default"), config)
    await executor.migrate(None)


OPEN_TIMEOUT = 30.0  # seconds to connect and migrate before giving up with a clear error


class DatabaseUnavailable(Exception):
    """The database cannot be opened: the message says why, for one line of output."""


def sqlite_file(url: str) -> Path | None:
    """The file an SQLite URL names (None for other databases and for :memory:)."""
    if not url.startswith("sqlite://"):
        return None
    path = url.removeprefix("sqlite://").split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


async def open_database(url: str, *, create: bool = False) -> None:
    """Init Tortoise for the whole process (all tasks) and migrate; `create` makes a missing PG database.

    Bounded: a missing SQLite folder is refused at once (aiosqlite would wait forever inside Tortoise's
    lock), and a server that does not answer is given up after OPEN_TIMEOUT seconds."""
    path = sqlite_file(url)
    if path is not None and not path.parent.is_dir():
        raise DatabaseUnavailable(f"the folder of the SQLite file, {path.parent}, does not exist: create it, or "
                                  "change [database] url")
    try:
        async with asyncio.timeout(OPEN_TIMEOUT):
            await Tortoise.init(config=tortoise_config(url), _create_db=create, _enable_global_fallback=True)
            await apply_migrations()
    except TimeoutError:
        raise DatabaseUnavailable(f"no answer within {OPEN_TIMEOUT:g} s") from None


async def close_database() -> None:
    await Tortoise.close_connections()
