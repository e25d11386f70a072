
from tortoise import migrations

from bot.db.migration_ops import AddColumn
from tortoise.migrations import operations as ops
import functools
from bot.kinds import SpendKind
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('moai', '0016_sources')]

    initial = False

    operations = [
        AddColumn(
            model_name='ConsensusReport',
            name='claim_sources',
            field=fields.JSONField(default=list, db_default='[]', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        AddColumn(
            model_name='ConsensusReport',
            name='claims',
            field=fields.JSONField(default=list, db_default='[]', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        AddColumn(
            model_name='Discussion',
            name='search',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        AddColumn(
            model_name='Message',
            name='search_note',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        AddColumn(
            model_name='Project',
            name='search',
            field=fields.BooleanField(null=True),
        ),
        AddColumn(
            model_name='SourceRecord',
            name='cited',
            field=fields.BooleanField(default=True, db_default=True),
        ),
        AddColumn(
            model_name='Spend',
            name='kind',
            field=fields.CharEnumField(default=SpendKind.TOKENS, description='TOKENS: tokens\nSEARCH: search', db_default='tokens', enum_type=SpendKind, max_length=8),
        ),
        AddColumn(
            model_name='Spend',
            name='searches',
            field=fields.IntField(default=0, db_default=0),
        ),
    ]
