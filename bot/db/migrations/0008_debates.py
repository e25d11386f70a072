from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('moai', '0007_provider_limits')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ConsensusReport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('discussion', fields.ForeignKeyField('moai.Discussion', source_field='discussion_id', db_constraint=True, to_field='id', related_name='consensus_reports', on_delete=OnDelete.CASCADE)),
                ('moderator', fields.CharField(max_length=32)),
                ('agreement', fields.TextField(default='', unique=False)),
                ('disagreements', fields.TextField(default='', unique=False)),
                ('stances', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('unique_insights', fields.TextField(default='', unique=False)),
                ('blind_spots', fields.TextField(default='', unique=False)),
                ('minority_report', fields.TextField(default='', unique=False)),
                ('final_answer', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'consensus_report', 'app': 'moai', 'pk_attr': 'id', 'table_description': "A structured /consensus: the moderator's sections, and the dissent moai keeps even when it lost."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StanceRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message', fields.OneToOneField('moai.Message', source_field='message_id', db_constraint=True, to_field='id', related_name='stance', on_delete=OnDelete.CASCADE)),
                ('discussion', fields.ForeignKeyField('moai.Discussion', source_field='discussion_id', db_constraint=True, to_field='id', related_name='stances', on_delete=OnDelete.CASCADE)),
                ('round_number', fields.IntField()),
                ('model_alias', fields.CharField(max_length=32)),
                ('role', fields.CharField(default='', max_length=64)),
                ('position', fields.TextField(null=True, unique=False)),
                ('confidence', fields.IntField(null=True)),
                ('changed', fields.BooleanField(null=True)),
                ('reason', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'stance', 'app': 'moai', 'pk_attr': 'id', 'table_description': 'The stance a model ended a debate answer with (position, confidence, whether and why it changed).'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Discussion',
            name='depth',
            field=fields.CharField(default='fixed', db_default='fixed', max_length=8),
        ),
        ops.AddField(
            model_name='Discussion',
            name='roles',
            field=fields.JSONField(default=dict, db_default='{}', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Discussion',
            name='rotate_roles',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Project',
            name='depth',
            field=fields.CharField(default='fixed', db_default='fixed', max_length=8),
        ),
        ops.AddField(
            model_name='Project',
            name='roles',
            field=fields.JSONField(default=dict, db_default='{}', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
