from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('moai', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ChannelDefault',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('guild', fields.ForeignKeyField('moai.Guild', source_field='guild_id', db_constraint=True, to_field='id', related_name='channel_defaults', on_delete=OnDelete.CASCADE)),
                ('channel_id', fields.BigIntField(unique=True)),
                ('project', fields.ForeignKeyField('moai.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='channel_defaults', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'channel_default', 'app': 'moai', 'pk_attr': 'id', 'table_description': "The project a channel's discussions use when none is named."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Cooldown',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('guild_id', fields.BigIntField()),
                ('user_id', fields.BigIntField()),
                ('last_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'cooldown', 'app': 'moai', 'unique_together': (('guild_id', 'user_id'),), 'pk_attr': 'id', 'table_description': 'When a user last started model work in a guild. Updated atomically, so it holds across processes.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PeerRanking',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('round', fields.ForeignKeyField('moai.Round', source_field='round_id', db_constraint=True, to_field='id', related_name='rankings', on_delete=OnDelete.CASCADE)),
                ('reviewer', fields.CharField(max_length=32)),
                ('ranking', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('shown_order', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('error', fields.CharField(null=True, max_length=300)),
            ],
            options={'table': 'peer_ranking', 'app': 'moai', 'pk_attr': 'id', 'table_description': "One model's ranking of the other answers in a peer review (anonymised, shuffled per reviewer)."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Guild',
            name='monthly_budget_usd',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='Message',
            name='cost_usd',
            field=fields.FloatField(null=True),
        ),
    ]
