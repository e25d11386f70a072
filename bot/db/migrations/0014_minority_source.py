from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from bot.kinds import MinoritySource


class Migration(migrations.Migration):
    dependencies = [('moai', '0013_arena_styles_categories')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ConsensusReport',
            name='minority_source',
            field=fields.CharEnumField(default=MinoritySource.MODERATOR, db_default='moderator', description="MODERATOR: moderator\nSTANCES: stances\nNONE: none", enum_type=MinoritySource, max_length=16),
        ),
    ]
