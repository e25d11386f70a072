import json

from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

from bot.kinds import Category


async def backfill(apps: StateApps, editor: BaseSchemaEditor) -> None:
    """Existing discussions get their category from the rules, existing vote rounds that category and their
    answers' styles (from the stored answers), so the boards cover what was voted before this version."""
    from bot.arena.categories import category_of
    from bot.arena.style import style_of

    client = editor.client
    postgres = client.capabilities.dialect == "postgres"

    def mark(n: int) -> str:
        return f"${n}" if postgres else "?"

    for row in await client.execute_query_dict("SELECT id, question FROM discussion"):
        category = category_of(row["question"] or "")
        if category is not Category.OTHER:
            await client.execute_query(f"UPDATE discussion SET category = {mark(1)} WHERE id = {mark(2)}",
                                       [category.value, row["id"]])
    for vote in await client.execute_query_dict("SELECT v.id, v.round_id, v.answered, d.category FROM vote_round v "
                                                "JOIN discussion d ON d.id = v.discussion_id"):
        answered = vote["answered"] if isinstance(vote["answered"], list) else json.loads(vote["answered"] or "[]")
        texts = {r["model_alias"]: r["content"] or "" for r in await client.execute_query_dict(
            f"SELECT model_alias, content FROM message WHERE round_id = {mark(1)} AND author_kind = 'model'",
            [vote["round_id"]])}
        styles = [style_of(texts[a]).stored() for a in answered] if all(a in texts for a in answered) else []
        await client.execute_query(f"UPDATE vote_round SET styles = {mark(1)}, category = {mark(2)} "
                                   f"WHERE id = {mark(3)}", [json.dumps(styles), vote["category"], vote["id"]])


class Migration(migrations.Migration):
    dependencies = [('moai', '0012_vote_forget_on_close')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Discussion',
            name='category',
            field=fields.CharEnumField(default=Category.OTHER, db_default='other', description='CODING: coding\nCREATIVE: creative\nFACTUAL: factual\nADVICE: advice\nOTHER: other', enum_type=Category, max_length=16),
        ),
        ops.AddField(
            model_name='VoteRound',
            name='styles',
            field=fields.JSONField(default=list, db_default='[]'),
        ),
        ops.AddField(
            model_name='VoteRound',
            name='category',
            field=fields.CharEnumField(default=Category.OTHER, db_default='other', description='CODING: coding\nCREATIVE: creative\nFACTUAL: factual\nADVICE: advice\nOTHER: other', enum_type=Category, max_length=16),
        ),
        ops.RunPython(backfill, ops.RunPython.noop),
    ]
