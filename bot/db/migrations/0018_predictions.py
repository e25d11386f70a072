
from tortoise import migrations

from bot.db.migration_ops import DescribeField
from tortoise.migrations import operations as ops
import functools
from bot.kinds import AuthorKind, DiscussionMode, PredictionKind
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('moai', '0017_web_search')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Prediction',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('discussion', fields.ForeignKeyField('moai.Discussion', source_field='discussion_id', db_constraint=True, to_field='id', related_name='predictions', on_delete=OnDelete.CASCADE)),
                ('guild_id', fields.BigIntField(null=True)),
                ('kind', fields.CharEnumField(default=PredictionKind.QUESTION, description='QUESTION: question\nDEBATE: debate', enum_type=PredictionKind, max_length=8)),
                ('outcomes', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('resolves_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closes_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reminder_owner', fields.CharField(default='', max_length=64)),
                ('reminder_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reminded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('outcome', fields.CharField(null=True, max_length=200)),
                ('void', fields.BooleanField(default=False)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolved_by', fields.BigIntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'prediction', 'app': 'moai', 'indexes': [Index(fields=['discussion_id']), Index(fields=['reminded_at', 'resolves_at']), Index(fields=['guild_id', 'resolved_at'])], 'pk_attr': 'id', 'table_description': 'A question with a known resolution time (/predict), or a debate resolved by /resolve: its outcomes,'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ForecastRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('prediction', fields.ForeignKeyField('moai.Prediction', source_field='prediction_id', db_constraint=True, to_field='id', related_name='forecasts', on_delete=OnDelete.CASCADE)),
                ('author_kind', fields.CharEnumField(description='USER: user\nMODEL: model\nSYSTEM: system', enum_type=AuthorKind, max_length=8)),
                ('model_alias', fields.CharField(null=True, max_length=32)),
                ('user_id', fields.BigIntField(null=True)),
                ('author_name', fields.CharField(default='', max_length=100)),
                ('probabilities', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('round_number', fields.IntField(default=0)),
                ('final', fields.BooleanField(default=True)),
                ('normalised', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'forecast', 'app': 'moai', 'unique_together': (('prediction', 'user_id'),), 'indexes': [Index(fields=['prediction_id', 'final']), Index(fields=['user_id'])], 'pk_attr': 'id', 'table_description': "One forecast: a model's (each round, the last one its final) or a member's (one each, changeable"},
            bases=['Model'],
        ),
        DescribeField(
            model_name='Discussion',
            name='mode',
            field=fields.CharEnumField(description='ASK: ask\nOPEN: open\nDISCUSS: discuss\nPREDICT: predict', enum_type=DiscussionMode, max_length=16),
        ),
    ]
