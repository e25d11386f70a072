from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('moai', '0006_guild_steering')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ProviderLease',
            fields=[
                ('lease', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('provider', fields.CharField(db_index=True, max_length=64)),
                ('owner', fields.CharField(max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'provider_lease', 'app': 'moai', 'pk_attr': 'lease', 'table_description': 'A request in flight to a provider, counted against its max_concurrency by every process (PostgreSQL).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProviderStart',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('provider', fields.CharField(max_length=64)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'provider_start', 'app': 'moai', 'indexes': [Index(fields=['provider', 'started_at'])], 'pk_attr': 'id', 'table_description': 'A request started to a provider, counted against its requests_per_minute by every process (PostgreSQL).'},
            bases=['Model'],
        ),
    ]
