"""Database fixtures' engine: one fresh, migrated database per test on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext

from bot.db.setup import apply_migrations, tortoise_config

POSTGRES_BASE = os.environ.get("MOAI_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")


def worker_number() -> int:
    """This pytest-xdist worker's number (gw0 -> 0; 0 without xdist): what it must not share with the others."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


# Each worker empties and uses its own Redis database (15, 14, …), so no test sees another worker's keys.
REDIS_URL = os.environ.get("MOAI_TEST_REDIS", "redis://127.0.0.1:6379") + f"/{15 - worker_number() % 16}"
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
    """Redis for shared-limit tests (this worker's database, emptied first); skipped where absent unless required."""
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


SCRATCH = Path(tempfile.mkdtemp(prefix="moai-tests-"))  # SQLite test databases: copies of a migrated template


def database_url(backend: str) -> str:
    if backend == "sqlite":
        return f"sqlite://{SCRATCH / f'test_{uuid.uuid4().hex[:12]}.sqlite3'}"
    return f"{POSTGRES_BASE}/moai_test_{uuid.uuid4().hex[:12]}"


_sqlite_template: Path | None = None


async def migrate_new(url: str) -> None:
    """Create the database and apply the real migrations: the templates the tests' databases are copied from."""
    EXECUTOR_CACHE.clear()
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url), _create_db=True, _enable_global_fallback=True)
        await apply_migrations()


async def sqlite_template() -> Path:
    """An SQLite file with the real migrations applied, once per test process; each test gets a copy."""
    global _sqlite_template
    if _sqlite_template is None:
        path = SCRATCH / "template.sqlite3"
        await migrate_new(f"sqlite://{path}")
        _sqlite_template = path
    return _sqlite_template


def migrated_sqlite_copy(path: Path) -> str:
    """A migrated SQLite database at `path` (a copy of the template), as a URL: for the CLI in a subprocess,
    which then finds every migration applied instead of spending ~2 s of CPU applying them (a fresh database
    is for the tests of migrating itself). Sync, so that a config can be written anywhere: the template is
    made on a thread of its own the first time."""
    if _sqlite_template is None:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, sqlite_template()).result()
    assert _sqlite_template is not None
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite://{path}"


_template: str | None = None  # this process's migrated PostgreSQL template database, made on first use


async def postgres_template() -> str:
    """A database with the real migrations applied, once per test process; each test's database is a copy.

    CREATE DATABASE … TEMPLATE copies files: about 20x faster than migrating a new database every test."""
    global _template
    if _template is None:
        url = f"{POSTGRES_BASE}/moai_template_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        await migrate_new(url)
        _template = url.rsplit("/", 1)[1]
    return _template


async def copy_postgres_database(url: str) -> None:
    template = await postgres_template()
    await on_postgres_server(url, lambda name: f'CREATE DATABASE "{name}" TEMPLATE "{template}"')




async def drop_template() -> None:
    """At the end of the session (conftest's pytest_sessionfinish)."""
    global _template
    if _template is not None:
        await drop_postgres_database(f"{POSTGRES_BASE}/{_template}")
        _template = None


_emptied: list[str] = []  # this process's PostgreSQL test databases, emptied after a test, for the next one


async def postgres_test_database() -> str:
    if _emptied:
        return _emptied.pop()
    url = database_url("postgres")
    await copy_postgres_database(url)
    return url


async def give_back(url: str) -> None:
    """Empty the test's PostgreSQL database for the next test, or drop it.

    On a loaded server a copy of the template and its drop take ~1.4 s per test; emptying every table but the
    migrations' (one TRUNCATE … RESTART IDENTITY, sessions a test left behind ended first) takes a few
    hundredths, and leaves the database as the copy was. A database whose migrations differ from the
    template's (a migration test stopped half-way) is dropped instead."""
    try:
        connection = await asyncpg.connect(url.replace("postgres://", "postgresql://"))
        try:
            await connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            applied = await connection.fetch("SELECT name FROM tortoise_migrations ORDER BY name")
            if [row["name"] for row in applied] != await template_migrations():
                raise RuntimeError("not the template's migrations")
            tables = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                            "AND tablename <> 'tortoise_migrations'")
            names = ", ".join('"' + row["tablename"].replace('"', '""') + '"' for row in tables)
            await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        finally:
            await connection.close()
    except Exception:
        await drop_postgres_database(url)
        return
    _emptied.append(url)


_template_migrations: list[str] | None = None


async def template_migrations() -> list[str]:
    global _template_migrations
    if _template_migrations is None:
        template = await postgres_template()
        connection = await asyncpg.connect(f"{POSTGRES_BASE.replace('postgres://', 'postgresql://')}/{template}")
        try:
            _template_migrations = [r["name"] for r in await connection.fetch(
                "SELECT name FROM tortoise_migrations ORDER BY name")]
        finally:
            await connection.close()
    return _template_migrations


async def drop_emptied() -> None:
    """At the end of the session, with the template."""
    while _emptied:
        await drop_postgres_database(_emptied.pop())


@asynccontextmanager
async def fresh_database(backend: str) -> AsyncIterator[str]:
    """A database with the real migrations applied and no rows (on PostgreSQL a copy of a migrated template,
    or a database an earlier test of this process emptied), its URL yielded; afterwards emptied or dropped."""
    url = await postgres_test_database() if backend == "postgres" else database_url(backend)
    if backend == "sqlite":
        shutil.copyfile(await sqlite_template(), url.removeprefix("sqlite://"))
    # Tortoise caches insert/delete SQL per connection *name*, not per dialect: SQLite's "?" statements
    # would be reused on PostgreSQL. One process never switches dialects in production; tests do.
    EXECUTOR_CACHE.clear()
    try:
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config(url), _create_db=False, _enable_global_fallback=True)
            yield url
    finally:
        if backend == "postgres":
            await give_back(url)
        else:
            remove_sqlite_files(url.removeprefix("sqlite://"))


def remove_sqlite_files(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(path + suffix).unlink(missing_ok=True)


async def drop_postgres_database(url: str) -> None:
    await on_postgres_server(url, lambda name: f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def on_postgres_server(url: str, statement: Callable[[str], str]) -> None:
    """Run a statement about the database `url` names, from the server's `postgres` database."""
    base, _, name = url.rpartition("/")
    connection = await asyncpg.connect(f"{base.replace('postgres://', 'postgresql://')}/postgres")
    try:
        await connection.execute(statement(name))
    finally:
        await connection.close()
