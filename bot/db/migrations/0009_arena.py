from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('moai', '0008_debates')]

    initial = False

    operations = [
        ops.CreateModel(
            name='VoteRound',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('round', fields.OneToOneField('moai.Round', source_field='round_id', db_constraint=True, to_field='id', related_name='vote', on_delete=OnDelete.CASCADE)),
                ('discussion', fields.ForeignKeyField('moai.Discussion', source_field='discussion_id', db_constraint=True, to_field='id', related_name='votes', on_delete=OnDelete.CASCADE)),
                ('guild_id', fields.BigIntField(null=True)),
                ('project_id', fields.IntField(null=True)),
                ('blind', fields.BooleanField(default=False)),
                ('answered', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('labels', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('voided', fields.CharField(default='', max_length=200)),
                ('closes_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'vote_round', 'app': 'moai', 'indexes': [Index(fields=['guild_id', 'created_at'])], 'pk_attr': 'id', 'table_description': "The members' vote on a round's answers: open until its time is up, its starter closes it, or the next"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Vote',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('vote_round', fields.ForeignKeyField('moai.VoteRound', source_field='vote_round_id', db_constraint=True, to_field='id', related_name='votes', on_delete=OnDelete.CASCADE)),
                ('user_id', fields.BigIntField(null=True)),
                ('choice', fields.CharField(max_length=32)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'vote', 'app': 'moai', 'unique_together': (('vote_round', 'user_id'),), 'pk_attr': 'id', 'table_description': 'One member\'s choice in one vote (changeable while it is open): a model alias, "tie" or "bad".'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Discussion',
            name='blind_names',
            field=fields.JSONField(default=dict, db_default='{}', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Discussion',
            name='revealed',
            field=fields.BooleanField(default=True, db_default=True),
        ),
        ops.AddField(
            model_name='Project',
            name='blind',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
