"""Schema and models on SQLite and PostgreSQL; the migrations in the repo match the models."""

from __future__ import annotations

import pytest
from tortoise.context import require_context
from tortoise.exceptions import IntegrityError
from tortoise.migrations.autodetector import MigrationAutodetector

from bot.db.models import AuthorKind, Discussion, DiscussionMode, Guild, Message, Project, Round, RoundKind
from bot.db.setup import apply_migrations, tortoise_config

SNOWFLAKE = 1_301_234_567_890_123_456  # Discord ids need 64 bits


async def test_migrations_match_models(database: str) -> None:
    apps = tortoise_config(database)["apps"]
    writers = await MigrationAutodetector(require_context().apps, apps).changes()
    assert writers == [], "models changed without a migration: tortoise -c bot.db.setup.TORTOISE_ORM makemigrations"


async def test_migrations_are_idempotent(database: str) -> None:
    await apply_migrations()  # already applied by the fixture: must be a no-op
    assert await Guild.all().count() == 0


async def test_rows_round_trip_with_snowflakes(database: str) -> None:
    guild = await Guild.create(discord_id=SNOWFLAKE, name="Guild")
    project = await Project.create(guild=guild, name="p", models=["gpt", "claude"], topic="t")
    discussion = await Discussion.create(guild=guild, project=project, thread_id=SNOWFLAKE + 1,
                                         channel_id=SNOWFLAKE + 2, mode=DiscussionMode.OPEN, question="q?",
                                         models=["gpt"], created_by=SNOWFLAKE + 3)
    round_ = await Round.create(discussion=discussion, number=1, kind=RoundKind.OPEN)
    await Message.create(discussion=discussion, round=round_, author_kind=AuthorKind.MODEL, model_alias="gpt",
                         content="ünïcödé ✓ 🧠", input_tokens=5, output_tokens=7, latency_ms=1234,
                         discord_message_ids=[SNOWFLAKE + 4, SNOWFLAKE + 5])
    loaded = await Message.get(discussion__thread_id=SNOWFLAKE + 1)
    assert loaded.content == "ünïcödé ✓ 🧠"
    assert loaded.discord_message_ids == [SNOWFLAKE + 4, SNOWFLAKE + 5]
    assert (await Discussion.get(id=discussion.id)).created_by == SNOWFLAKE + 3
    assert (await Project.get(id=project.id)).models == ["gpt", "claude"]


async def test_constraints(database: str) -> None:
    guild = await Guild.create(discord_id=1)
    await Project.create(guild=guild, name="same")
    with pytest.raises(IntegrityError):
        await Project.create(guild=guild, name="same")
    await Discussion.create(guild=guild, thread_id=5, mode=DiscussionMode.OPEN, question="a")
    with pytest.raises(IntegrityError):
        await Discussion.create(guild=guild, thread_id=5, mode=DiscussionMode.OPEN, question="b")


async def test_deleting_a_discussion_deletes_its_rounds_and_messages(database: str) -> None:
    discussion = await Discussion.create(mode=DiscussionMode.OPEN, question="q")
    round_ = await Round.create(discussion=discussion, number=1, kind=RoundKind.OPEN)
    await Message.create(discussion=discussion, round=round_, author_kind=AuthorKind.USER, content="x")
    await discussion.delete()
    assert await Round.all().count() == 0 and await Message.all().count() == 0
