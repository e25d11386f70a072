from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('moai', '0010_attachments')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Message',
            name='usage_estimated',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Spend',
            name='estimated',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
