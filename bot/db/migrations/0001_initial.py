from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from bot.db.models import AuthorKind, DiscussionMode, DiscussionStatus, MessageStatus, RoundKind, RoundStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Guild',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('discord_id', fields.BigIntField(unique=True)),
                ('name', fields.CharField(default='', max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'guild', 'app': 'moai', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Project',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('guild', fields.ForeignKeyField('moai.Guild', source_field='guild_id', db_constraint=True, to_field='id', related_name='projects', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=64)),
                ('models', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('topic', fields.TextField(default='', unique=False)),
                ('system_prompt', fields.TextField(default='', unique=False)),
                ('default_rounds', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'project', 'app': 'moai', 'unique_together': (('guild', 'name'),), 'pk_attr': 'id', 'table_description': 'A named panel of models with a topic and system prompt that discussions run under.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Discussion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('guild', fields.ForeignKeyField('moai.Guild', source_field='guild_id', null=True, db_constraint=True, to_field='id', related_name='discussions', on_delete=OnDelete.CASCADE)),
                ('project', fields.ForeignKeyField('moai.Project', source_field='project_id', null=True, db_constraint=True, to_field='id', related_name='discussions', on_delete=OnDelete.SET_NULL)),
                ('channel_id', fields.BigIntField(null=True)),
                ('thread_id', fields.BigIntField(null=True, unique=True)),
                ('mode', fields.CharEnumField(description='ASK: ask\nOPEN: open\nDISCUSS: discuss', enum_type=DiscussionMode, max_length=16)),
                ('status', fields.CharEnumField(default=DiscussionStatus.RUNNING, description='RUNNING: running\nCOMPLETED: completed\nINTERRUPTED: interrupted\nCANCELLED: cancelled', enum_type=DiscussionStatus, max_length=16)),
                ('question', fields.TextField(unique=False)),
                ('models', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('rounds_planned', fields.IntField(default=1)),
                ('created_by', fields.BigIntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'discussion', 'app': 'moai', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Round',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('discussion', fields.ForeignKeyField('moai.Discussion', source_field='discussion_id', db_constraint=True, to_field='id', related_name='rounds', on_delete=OnDelete.CASCADE)),
                ('number', fields.IntField()),
                ('kind', fields.CharEnumField(description='OPEN: open\nDISCUSS: discuss\nMENTION: mention\nCONSENSUS: consensus', enum_type=RoundKind, max_length=16)),
                ('status', fields.CharEnumField(default=RoundStatus.RUNNING, description='RUNNING: running\nCOMPLETED: completed\nCANCELLED: cancelled\nINTERRUPTED: interrupted', enum_type=RoundStatus, max_length=16)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'round', 'app': 'moai', 'unique_together': (('discussion', 'number'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Message',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('discussion', fields.ForeignKeyField('moai.Discussion', source_field='discussion_id', db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.CASCADE)),
                ('round', fields.ForeignKeyField('moai.Round', source_field='round_id', null=True, db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.CASCADE)),
                ('author_kind', fields.CharEnumField(description='USER: user\nMODEL: model\nSYSTEM: system', enum_type=AuthorKind, max_length=8)),
                ('author_name', fields.CharField(default='', max_length=100)),
                ('author_id', fields.BigIntField(null=True)),
                ('model_alias', fields.CharField(null=True, max_length=32)),
                ('content', fields.TextField(default='', unique=False)),
                ('status', fields.CharEnumField(default=MessageStatus.COMPLETE, description='STREAMING: streaming\nCOMPLETE: complete\nFAILED: failed\nCANCELLED: cancelled\nINTERRUPTED: interrupted', enum_type=MessageStatus, max_length=16)),
                ('error', fields.CharField(null=True, max_length=300)),
                ('input_tokens', fields.IntField(null=True)),
                ('output_tokens', fields.IntField(null=True)),
                ('latency_ms', fields.IntField(null=True)),
                ('first_token_ms', fields.IntField(null=True)),
                ('discord_message_ids', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'message', 'app': 'moai', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
