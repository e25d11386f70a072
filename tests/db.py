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
REDIS_URL = os.environ.get("MOAI_TEST_REDIS", "redis://127.0.0.1:6379/15")
REQUIRE_REDIS = os.environ.get("MOAI_REQUIRE_REDIS") == "1"


def reachable(url: str, default_port: int) -> bool:
    host_port = url.rsplit("@", 1)[-1].split("://", 1)[-1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    try:
        with socket.create_connection((host, int(port or default_port)), timeout=0.5):
            return True
    except OSError:
        return False


def postgres_reachable() -> bool:
    return reachable(POSTGRES_BASE, 5432)


async def redis_test_url() -> str:
    """Redis for shared-limit tests (database 15, emptied first); skipped where absent unless required."""
    import pytest
    import redis.asyncio as redis

    if not reachable(REDIS_URL, 6379):
        if REQUIRE_REDIS:
            pytest.fail(f"Redis is required (MOAI_REQUIRE_REDIS=1) but not reachable at {REDIS_URL}")
        pytest.skip("Redis not reachable")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    return REDIS_URL


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
