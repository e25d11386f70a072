from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('moai', '0015_indexes_per_round_queries')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SourceRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message', fields.ForeignKeyField('moai.Message', source_field='message_id', db_constraint=True, to_field='id', related_name='sources', on_delete=OnDelete.CASCADE)),
                ('discussion', fields.ForeignKeyField('moai.Discussion', source_field='discussion_id', db_constraint=True, to_field='id', related_name='sources', on_delete=OnDelete.CASCADE)),
                ('number', fields.IntField()),
                ('url', fields.TextField(unique=False)),
                ('title', fields.CharField(default='', max_length=300)),
                ('quote', fields.TextField(default='', unique=False)),
                ('provider', fields.CharField(default='', max_length=32)),
            ],
            options={'table': 'source', 'app': 'moai', 'indexes': [Index(fields=['message_id']), Index(fields=['discussion_id'])], 'pk_attr': 'id', 'table_description': 'A web source an answer cites, as its provider reported it (numbered in the order they arrived).'},
            bases=['Model'],
        ),
    ]
