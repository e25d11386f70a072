from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('moai', '0014_minority_source')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='AttachmentRecord',
            index=Index(fields=['discussion_id']),
        ),
        ops.AddIndex(
            model_name='AttachmentRecord',
            index=Index(fields=['message_id']),
        ),
        ops.AddIndex(
            model_name='ConsensusReport',
            index=Index(fields=['discussion_id']),
        ),
        ops.AddIndex(
            model_name='Discussion',
            index=Index(fields=['status']),
        ),
        ops.AddIndex(
            model_name='Discussion',
            index=Index(fields=['guild_id', 'revealed']),
        ),
        ops.AddIndex(
            model_name='Message',
            index=Index(fields=['discussion_id', 'id']),
        ),
        ops.AddIndex(
            model_name='Message',
            index=Index(fields=['round_id']),
        ),
        ops.AddIndex(
            model_name='PeerRanking',
            index=Index(fields=['round_id']),
        ),
        ops.AddIndex(
            model_name='Spend',
            index=Index(fields=['discussion_id']),
        ),
        ops.AddIndex(
            model_name='StanceRecord',
            index=Index(fields=['discussion_id', 'round_number']),
        ),
        ops.AddIndex(
            model_name='VoteRound',
            index=Index(fields=['discussion_id', 'closed_at']),
        ),
    ]
