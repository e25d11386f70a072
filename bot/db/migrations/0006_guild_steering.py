from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('moai', '0005_spend_ledger_hold_owner')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Guild',
            name='anyone_steers',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
