"""Database fixtures' engine: one fresh, migrated database per test on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext

from bot.db.setup import apply_migrations, tortoise_config

POSTGRES_BASE = os.environ.get("MOAI_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")


def postgres_reachable() -> bool:
    host_port = POSTGRES_BASE.rsplit("@", 1)[-1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    try:
        with socket.create_connection((host, int(port or 5432)), timeout=0.5):
            return True
    except OSError:
        return False


def database_url(backend: str) -> str:
    if backend == "sqlite":
        return "sqlite://:memory:"
    return f"{POSTGRES_BASE}/moai_test_{uuid.uuid4().hex[:12]}"


@asynccontextmanager
async def fresh_database(backend: str) -> AsyncIterator[str]:
    """Create the database, apply the real migrations, yield its URL, drop it afterwards."""
    url = database_url(backend)
    # Tortoise caches insert/delete SQL per connection *name*, not per dialect: SQLite's "?" statements
    # would be reused on PostgreSQL. One process never switches dialects in production; tests do.
    EXECUTOR_CACHE.clear()
    try:
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config(url), _create_db=True, _enable_global_fallback=True)
            await apply_migrations()
            yield url
    finally:
        if backend == "postgres":
            await drop_postgres_database(url)


async def drop_postgres_database(url: str) -> None:
    base, _, name = url.rpartition("/")
    connection = await asyncpg.connect(f"{base.replace('postgres://', 'postgresql://')}/postgres")
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
