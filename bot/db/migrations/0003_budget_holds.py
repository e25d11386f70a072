from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('moai', '0002_usage_projects_review')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BudgetHold',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('guild', fields.ForeignKeyField('moai.Guild', source_field='guild_id', db_constraint=True, to_field='id', related_name='budget_holds', on_delete=OnDelete.CASCADE)),
                ('amount_usd', fields.FloatField()),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'budget_hold', 'app': 'moai', 'pk_attr': 'id', 'table_description': 'Money set aside for a run in progress, so concurrent runs in any process cannot overspend together.'},
            bases=['Model'],
        ),
    ]
