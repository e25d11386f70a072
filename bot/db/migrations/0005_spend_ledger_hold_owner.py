from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index
from datetime import timezone
from typing import Any

HISTORY = """
SELECT g.discord_id AS guild_id, d.created_by AS user_id, m.discussion_id AS discussion_id,
       m.model_alias AS model_alias, m.author_name AS model_name, m.input_tokens AS input_tokens,
       m.output_tokens AS output_tokens, m.cost_usd AS cost_usd, m.created_at AS created_at
FROM message m JOIN discussion d ON d.id = m.discussion_id LEFT JOIN guild g ON g.id = d.guild_id
WHERE m.author_kind = 'model' AND m.cost_usd IS NOT NULL
"""


def _placeholders(client: Any, count: int) -> str:
    if client.capabilities.dialect == "sqlite":
        return ", ".join("?" * count)
    return ", ".join(f"${i}" for i in range(1, count + 1))


def _month(value: Any) -> str:
    if isinstance(value, str):
        return value[:7]
    return str(value.astimezone(timezone.utc).strftime("%Y-%m"))


async def copy_spend_history(apps: Any, schema_editor: Any) -> None:
    """Answers billed before the ledger existed become ledger rows, so this month's budget keeps counting them."""
    client = schema_editor.client
    rows = await client.execute_query_dict(HISTORY)
    totals: dict[tuple[int, str], float] = {}
    insert = ("INSERT INTO spend (guild_id, user_id, discussion_id, model_alias, model_name, provider, input_tokens, "
              f"output_tokens, cost_usd, created_at) VALUES ({_placeholders(client, 10)})")
    for row in rows:
        await client.execute_query(insert, [row["guild_id"], row["user_id"], row["discussion_id"],
                                            row["model_alias"] or "", row["model_name"] or "", "",
                                            row["input_tokens"] or 0, row["output_tokens"] or 0, row["cost_usd"],
                                            row["created_at"]])
        if row["guild_id"] is not None:
            key = (row["guild_id"], _month(row["created_at"]))
            totals[key] = totals.get(key, 0.0) + row["cost_usd"]
    add = f"INSERT INTO monthly_spend (guild_id, month, total_usd) VALUES ({_placeholders(client, 3)})"
    for (guild_id, month), total in totals.items():
        await client.execute_query(add, [guild_id, month, total])

class Migration(migrations.Migration):
    dependencies = [('moai', '0004_stop_reason_reasoning')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MonthlySpend',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('guild_id', fields.BigIntField()),
                ('month', fields.CharField(max_length=7)),
                ('total_usd', fields.FloatField(default=0.0)),
            ],
            options={'table': 'monthly_spend', 'app': 'moai', 'unique_together': (('guild_id', 'month'),), 'pk_attr': 'id', 'table_description': "A guild's spend in one calendar month (UTC), kept up to date with every Spend row."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Spend',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('guild_id', fields.BigIntField(null=True)),
                ('user_id', fields.BigIntField(null=True)),
                ('discussion_id', fields.IntField(null=True)),
                ('model_alias', fields.CharField(max_length=32)),
                ('model_name', fields.CharField(default='', max_length=100)),
                ('provider', fields.CharField(default='', max_length=32)),
                ('input_tokens', fields.IntField(default=0)),
                ('output_tokens', fields.IntField(default=0)),
                ('reasoning_tokens', fields.IntField(null=True)),
                ('cost_usd', fields.FloatField(default=0.0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'spend', 'app': 'moai', 'indexes': [Index(fields=['guild_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One billed model call, append-only: the record budgets and usage read.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='BudgetHold',
            name='owner',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.RunPython(copy_spend_history, ops.RunPython.noop),
    ]
