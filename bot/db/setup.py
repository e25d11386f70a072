"""Connects Tortoise and brings the schema up to date with the migrations in bot/db/migrations."""

from __future__ import annotations

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


async def open_database(url: str, *, create: bool = False) -> None:
    """Init Tortoise for the whole process (all tasks) and migrate; `create` makes a missing PG database."""
    await Tortoise.init(config=tortoise_config(url), _create_db=create, _enable_global_fallback=True)
    await apply_migrations()


async def close_database() -> None:
    await Tortoise.close_connections()
