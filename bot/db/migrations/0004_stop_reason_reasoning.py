from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('moai', '0003_budget_holds')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Message',
            name='reasoning',
            field=fields.TextField(db_default='', unique=False),
        ),
        ops.AddField(
            model_name='Message',
            name='reasoning_tokens',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Message',
            name='stop_reason',
            field=fields.CharField(null=True, max_length=32),
        ),
    ]
