from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('moai', '0011_usage_estimated')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Vote',
            name='forget_on_close',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
