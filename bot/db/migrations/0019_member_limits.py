from tortoise import migrations

from bot.db.migration_ops import AddColumn
from tortoise.migrations import operations as ops
from bot.kinds import LimitScope
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('moai', '0018_predictions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MemberLimit',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('guild', fields.ForeignKeyField('moai.Guild', source_field='guild_id', db_constraint=True, to_field='id', related_name='member_limits', on_delete=OnDelete.CASCADE)),
                ('scope', fields.CharEnumField(description='MEMBER: member\nROLE: role\nEVERYONE: everyone', enum_type=LimitScope, max_length=8)),
                ('target_id', fields.BigIntField(default=0)),
                ('amount_usd', fields.FloatField()),
            ],
            options={'table': 'member_limit', 'app': 'moai', 'unique_together': (('guild', 'scope', 'target_id'),), 'pk_attr': 'id', 'table_description': 'A monthly USD limit on the runs one member starts in a guild: set for the member, for a role, or for'},
            bases=['Model'],
        ),
        AddColumn(
            model_name='BudgetHold',
            name='user_id',
            field=fields.BigIntField(null=True),
        ),
        ops.AddIndex(
            model_name='BudgetHold',
            index=Index(fields=['guild_id', 'user_id']),
        ),
        ops.AddIndex(
            model_name='Spend',
            index=Index(fields=['guild_id', 'user_id', 'created_at']),
        ),
    ]
