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


async def test_per_round_queries_have_their_indexes(database: str) -> None:
    """Every round reads its discussion's messages, stances and votes; recovery reads discussions by status:
    each is an index lookup, not a scan of every row ever stored."""
    connection = require_context().connections.get("default")
    wanted = {"message": {("discussion_id", "id"), ("round_id",)}, "discussion": {("status",)},
              "stance": {("discussion_id", "round_number")}, "vote_round": {("discussion_id", "closed_at")},
              "attachment": {("discussion_id",), ("message_id",)}, "consensus_report": {("discussion_id",)},
              "peer_ranking": {("round_id",)}, "spend": {("discussion_id",)}}
    for table, columns in wanted.items():
        if connection.capabilities.dialect == "postgres":
            rows = await connection.execute_query_dict(
                "SELECT a.attname AS col, i.indexrelid AS idx, array_position(i.indkey, a.attnum) AS pos "
                "FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                f"WHERE i.indrelid = '{table}'::regclass")
            found: dict[object, list[tuple[int, str]]] = {}
            for row in rows:
                found.setdefault(row["idx"], []).append((row["pos"], row["col"]))
            indexed = {tuple(c for _, c in sorted(cols)) for cols in found.values()}
        else:
            names = [r["name"] for r in await connection.execute_query_dict(f"PRAGMA index_list('{table}')")]
            indexed = {tuple(r["name"] for r in await connection.execute_query_dict(f"PRAGMA index_info('{n}')"))
                       for n in names}
        assert columns <= indexed, (table, indexed)
    hot = ["SELECT * FROM message WHERE discussion_id = 1 ORDER BY id",  # every round's transcript
           "SELECT * FROM stance WHERE discussion_id = 1 ORDER BY round_number",
           "SELECT * FROM vote_round WHERE discussion_id = 1 AND closed_at IS NULL",
           "SELECT * FROM discussion WHERE status = 'running'",  # recovery
           "SELECT * FROM attachment WHERE discussion_id = 1"]
    for query in hot:
        if connection.capabilities.dialect == "sqlite":
            rows = await connection.execute_query_dict(f"EXPLAIN QUERY PLAN {query}")
            plan = " ".join(str(r["detail"]) for r in rows)
            assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, (query, plan)
        else:  # an empty table is cheaper to scan: forbid that, and the plan must have an index to use
            await connection.execute_script("SET enable_seqscan = off")
            plan = " ".join(str(r["QUERY PLAN"]) for r in await connection.execute_query_dict(f"EXPLAIN {query}"))
            await connection.execute_script("SET enable_seqscan = on")
            assert "Index" in plan, (query, plan)
