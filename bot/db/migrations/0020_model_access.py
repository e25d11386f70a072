from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('moai', '0019_member_limits')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ModelAccess',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('guild', fields.ForeignKeyField('moai.Guild', source_field='guild_id', db_constraint=True, to_field='id', related_name='model_access', on_delete=OnDelete.CASCADE)),
                ('project', fields.ForeignKeyField('moai.Project', source_field='project_id', null=True, db_constraint=True, to_field='id', related_name='model_access', on_delete=OnDelete.CASCADE)),
                ('model_alias', fields.CharField(max_length=32)),
                ('role_id', fields.BigIntField()),
            ],
            options={'table': 'model_access', 'app': 'moai', 'unique_together': (('guild', 'project', 'model_alias', 'role_id'),), 'pk_attr': 'id', 'table_description': "A server's (or one project's) rule: this model runs only for members with one of these roles (no rule:"},
            bases=['Model'],
        ),
    ]
