from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('moai', '0009_arena')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AttachmentRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message', fields.ForeignKeyField('moai.Message', source_field='message_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE)),
                ('discussion', fields.ForeignKeyField('moai.Discussion', source_field='discussion_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=120)),
                ('kind', fields.CharField(max_length=8)),
                ('media_type', fields.CharField(max_length=64)),
                ('data', fields.BinaryField()),
                ('text', fields.TextField(default='', unique=False)),
                ('width', fields.IntField(default=0)),
                ('height', fields.IntField(default=0)),
                ('pages', fields.IntField(default=0)),
                ('sha256', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'attachment', 'app': 'moai', 'pk_attr': 'id', 'table_description': "A file shared with a turn, kept here (Discord's CDN links expire, so they are not the record)."},
            bases=['Model'],
        ),
    ]
