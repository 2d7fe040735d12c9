from tortoise import migrations
from tortoise.migrations import operations as ops
from models.notifications.models import PushStatus
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('pointsmall', '0002_notifications')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Notification',
            name='push_attempts',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Notification',
            name='push_claimed_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Notification',
            name='push_due_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Notification',
            name='push_error',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='Notification',
            name='push_sent_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Notification',
            name='push_status',
            field=fields.CharEnumField(default=PushStatus.SKIPPED, description='PENDING: PENDING\nSENDING: SENDING\nSENT: SENT\nFAILED: FAILED\nSKIPPED: SKIPPED', db_default='SKIPPED', enum_type=PushStatus, max_length=16),
        ),
        ops.AddIndex(
            model_name='Notification',
            index=Index(fields=['push_status', 'push_due_at']),
        ),
    ]
