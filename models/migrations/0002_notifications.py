from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.notifications.models import InboundHandling, NotificationKind, SmsStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('pointsmall', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='InboundSms',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('sender', fields.CharField(max_length=20)),
                ('member', fields.ForeignKeyField('pointsmall.Member', source_field='member_id', null=True, db_constraint=True, to_field='id', related_name='inbound_sms', on_delete=OnDelete.RESTRICT)),
                ('text', fields.TextField(unique=False)),
                ('handled_as', fields.CharEnumField(description='KEYWORD: KEYWORD\nANSWER: ANSWER\nKEPT: KEPT\nUNKNOWN_NUMBER: UNKNOWN_NUMBER\nCAPPED: CAPPED\nEMPTY: EMPTY', enum_type=InboundHandling, max_length=16)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sms_inbound', 'app': 'pointsmall', 'indexes': [Index(fields=['sender', 'received_at']), Index(fields=['member_id', 'id'])], 'pk_attr': 'id', 'table_description': 'A message a handset sent to the service number.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('pointsmall.Member', source_field='member_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.RESTRICT)),
                ('order', fields.ForeignKeyField('pointsmall.Order', source_field='order_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='ORDER_CONFIRMED: ORDER_CONFIRMED\nORDER_SHIPPED: ORDER_SHIPPED\nORDER_DELIVERED: ORDER_DELIVERED\nORDER_CANCELLED: ORDER_CANCELLED\nORDER_AT_RISK: ORDER_AT_RISK\nORDER_BREACHED: ORDER_BREACHED\nPOINTS_EXPIRING: POINTS_EXPIRING\nPOINTS_CREDITED: POINTS_CREDITED\nSMS_REPLY: SMS_REPLY\nQUESTION: QUESTION', enum_type=NotificationKind, max_length=24)),
                ('dedupe_key', fields.CharField(unique=True, max_length=160)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('body', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sms_to', fields.CharField(default='', max_length=20)),
                ('sms_status', fields.CharEnumField(description='PENDING: PENDING\nSENDING: SENDING\nSENT: SENT\nDELIVERED: DELIVERED\nUNDELIVERABLE: UNDELIVERABLE\nEXPIRED: EXPIRED\nFAILED: FAILED\nSKIPPED: SKIPPED', enum_type=SmsStatus, max_length=16)),
                ('sms_urgent', fields.BooleanField(default=False)),
                ('sms_due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sms_attempts', fields.IntField(default=0)),
                ('sms_claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sms_message_id', fields.CharField(default='', max_length=64)),
                ('sms_parts', fields.IntField(default=0)),
                ('sms_error', fields.CharField(default='', max_length=200)),
                ('sms_sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sms_finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('answer', fields.CharField(default='', max_length=8)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notification', 'app': 'pointsmall', 'indexes': [Index(fields=['member_id', 'id']), Index(fields=['sms_status', 'sms_due_at']), Index(fields=['sms_to', 'id']), Index(fields=['sms_message_id']), Index(fields=['kind', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SmsReceipt',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message_id', fields.CharField(unique=True, max_length=64)),
                ('state', fields.CharField(max_length=16)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sms_receipt', 'app': 'pointsmall', 'indexes': [Index(fields=['at'])], 'pk_attr': 'id', 'table_description': 'A delivery receipt as the SMS centre sent it, kept so a receipt that overtakes the'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Member',
            name='language',
            field=fields.CharField(default='zh-CN', db_default='zh-CN', max_length=8),
        ),
        ops.AddField(
            model_name='Member',
            name='mobile',
            field=fields.CharField(default='', db_index=True, db_default='', max_length=20),
        ),
        ops.AddField(
            model_name='Member',
            name='opt_outs',
            field=fields.CharField(default='', db_default='', max_length=500),
        ),
    ]
