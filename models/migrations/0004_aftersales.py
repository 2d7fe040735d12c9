# After-sales: tickets, their timelines, deadlines and alerts, resolutions and returns,
# goodwill caps, surveys and the texts taken in; the notification kinds of the conversation.
# Depends on 0002 only (another branch may add a 0003; renumber at merge).
from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.aftersales.models import ResolutionKind, ResolutionStatus, ServiceAlertKind, TicketCategory, TicketChannel, TicketState, TimelineKind
from models.notifications.models import NotificationKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from models.migration_ops import AlterEnumDescription

class Migration(migrations.Migration):
    dependencies = [('pointsmall', '0003_push')]

    initial = False

    operations = [
        ops.CreateModel(
            name='GoodwillCap',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('agent', fields.CharField(unique=True, max_length=64)),
                ('daily_points', fields.BigIntField()),
                ('set_by', fields.CharField(max_length=64)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'goodwill_cap', 'app': 'pointsmall', 'pk_attr': 'id', 'table_description': 'The goodwill points an agent may credit a day without a supervisor (set by admins).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InboundIntake',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('inbound', fields.OneToOneField('pointsmall.InboundSms', source_field='inbound_id', db_constraint=True, to_field='id', related_name='intake', on_delete=OnDelete.RESTRICT)),
                ('outcome', fields.CharField(max_length=16)),
                ('taken_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'aftersales_intake', 'app': 'pointsmall', 'pk_attr': 'id', 'table_description': 'A text the SMS router kept (or a digit it matched) that after-sales has taken in.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Ticket',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('number', fields.CharField(unique=True, max_length=20)),
                ('member', fields.ForeignKeyField('pointsmall.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='tickets', on_delete=OnDelete.RESTRICT)),
                ('order', fields.ForeignKeyField('pointsmall.Order', source_field='order_id', null=True, db_constraint=True, to_field='id', related_name='tickets', on_delete=OnDelete.RESTRICT)),
                ('category', fields.CharEnumField(description='PARCEL_NOT_RECEIVED: PARCEL_NOT_RECEIVED\nDAMAGED: DAMAGED\nWRONG_ITEM: WRONG_ITEM\nQUALITY_FAULT: QUALITY_FAULT\nSERVICE_COMPLAINT: SERVICE_COMPLAINT\nQUESTION: QUESTION', enum_type=TicketCategory, max_length=24)),
                ('state', fields.CharEnumField(description='NEW: NEW\nOPEN: OPEN\nWAITING_ON_MEMBER: WAITING_ON_MEMBER\nRESOLVED: RESOLVED\nCLOSED: CLOSED', enum_type=TicketState, max_length=20)),
                ('channel', fields.CharEnumField(description='APP: APP\nSMS: SMS\nHOTLINE: HOTLINE', enum_type=TicketChannel, max_length=10)),
                ('subject', fields.CharField(max_length=200)),
                ('assignee', fields.CharField(default='', max_length=64)),
                ('idempotency_key', fields.CharField(null=True, max_length=128)),
                ('opened_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('first_reply_due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('first_replied_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reply_due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reply_cycle', fields.IntField(default=0)),
                ('resolve_due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolution_cycle', fields.IntField(default=0)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('paused_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('next_due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('attention', fields.BooleanField(default=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'ticket', 'app': 'pointsmall', 'unique_together': (('member', 'idempotency_key'),), 'indexes': [Index(fields=['member_id', 'id']), Index(fields=['state', 'next_due_at']), Index(fields=['assignee', 'next_due_at']), Index(fields=['opened_at']), Index(fields=['state', 'resolved_at'])], 'pk_attr': 'id', 'table_description': "A member's problem, its state, and the clock of the promise made on it."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Resolution',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('pointsmall.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='resolutions', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='REFUND_POINTS: REFUND_POINTS\nGOODWILL: GOODWILL\nREPLACEMENT: REPLACEMENT\nRETURN: RETURN', enum_type=ResolutionKind, max_length=16)),
                ('status', fields.CharEnumField(description='DONE: DONE\nAWAITING_APPROVAL: AWAITING_APPROVAL\nAWAITING_RETURN: AWAITING_RETURN\nRECEIVED: RECEIVED', enum_type=ResolutionStatus, max_length=20)),
                ('idempotency_key', fields.CharField(max_length=128)),
                ('fingerprint', fields.CharField(max_length=64)),
                ('agent', fields.CharField(max_length=64)),
                ('order', fields.ForeignKeyField('pointsmall.Order', source_field='order_id', null=True, db_constraint=True, to_field='id', related_name='resolutions', on_delete=OnDelete.RESTRICT)),
                ('points', fields.BigIntField(default=0)),
                ('lines', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('replacement', fields.ForeignKeyField('pointsmall.Order', source_field='replacement_id', null=True, db_constraint=True, to_field='id', related_name='replaces', on_delete=OnDelete.RESTRICT)),
                ('reason', fields.CharField(default='', max_length=200)),
                ('approved_by', fields.CharField(default='', max_length=64)),
                ('cash_refund', fields.CharField(default='', max_length=10)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('settled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ticket_resolution', 'app': 'pointsmall', 'unique_together': (('ticket', 'idempotency_key'),), 'indexes': [Index(fields=['agent', 'created_at']), Index(fields=['order_id']), Index(fields=['status', 'cash_refund'])], 'pk_attr': 'id', 'table_description': 'One act on the domain an agent took for a ticket, once per idempotency key.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReturnParcel',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('resolution', fields.OneToOneField('pointsmall.Resolution', source_field='resolution_id', db_constraint=True, to_field='id', related_name='parcel', on_delete=OnDelete.RESTRICT)),
                ('carrier', fields.CharField(max_length=32)),
                ('tracking_number', fields.CharField(max_length=64)),
                ('status', fields.CharField(default='', max_length=20)),
                ('received_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'return_parcel', 'app': 'pointsmall', 'unique_together': (('carrier', 'tracking_number'),), 'pk_attr': 'id', 'table_description': 'A return on its way back to the warehouse, tracked by carrier scans like a shipment.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReturnScan',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('parcel', fields.ForeignKeyField('pointsmall.ReturnParcel', source_field='parcel_id', db_constraint=True, to_field='id', related_name='scans', on_delete=OnDelete.RESTRICT)),
                ('status', fields.CharField(max_length=20)),
                ('location', fields.CharField(default='', max_length=200)),
                ('description', fields.CharField(default='', max_length=500)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'return_scan', 'app': 'pointsmall', 'unique_together': (('parcel', 'status', 'occurred_at'),), 'pk_attr': 'id', 'table_description': 'One carrier scan of a return: the same scan twice is stored once.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Survey',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=80)),
                ('member', fields.ForeignKeyField('pointsmall.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='surveys', on_delete=OnDelete.RESTRICT)),
                ('ticket', fields.ForeignKeyField('pointsmall.Ticket', source_field='ticket_id', null=True, db_constraint=True, to_field='id', related_name='surveys', on_delete=OnDelete.RESTRICT)),
                ('order', fields.ForeignKeyField('pointsmall.Order', source_field='order_id', null=True, db_constraint=True, to_field='id', related_name='surveys', on_delete=OnDelete.RESTRICT)),
                ('asked_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('rating', fields.IntField(null=True)),
                ('rated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('rated_by', fields.CharField(default='', max_length=8)),
            ],
            options={'table': 'service_survey', 'app': 'pointsmall', 'indexes': [Index(fields=['member_id', 'id']), Index(fields=['asked_at']), Index(fields=['ticket_id'])], 'pk_attr': 'id', 'table_description': 'How satisfied a member was, asked once per resolved ticket (each time) or delivered'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TicketAlert',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('pointsmall.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='alerts', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='FIRST_REPLY_AT_RISK: FIRST_REPLY_AT_RISK\nFIRST_REPLY_BREACHED: FIRST_REPLY_BREACHED\nREPLY_AT_RISK: REPLY_AT_RISK\nREPLY_BREACHED: REPLY_BREACHED\nRESOLUTION_AT_RISK: RESOLUTION_AT_RISK\nRESOLUTION_BREACHED: RESOLUTION_BREACHED\nLOW_RATING: LOW_RATING', enum_type=ServiceAlertKind, max_length=24)),
                ('cycle', fields.IntField(default=0)),
                ('raised_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('compensated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ticket_alert', 'app': 'pointsmall', 'unique_together': (('ticket', 'kind', 'cycle'),), 'indexes': [Index(fields=['kind', 'compensated_at']), Index(fields=['raised_at'])], 'pk_attr': 'id', 'table_description': 'An alert raised once per ticket, kind and cycle.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TicketDeadline',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('pointsmall.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='deadlines', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='FIRST_REPLY_AT_RISK: FIRST_REPLY_AT_RISK\nFIRST_REPLY_BREACHED: FIRST_REPLY_BREACHED\nREPLY_AT_RISK: REPLY_AT_RISK\nREPLY_BREACHED: REPLY_BREACHED\nRESOLUTION_AT_RISK: RESOLUTION_AT_RISK\nRESOLUTION_BREACHED: RESOLUTION_BREACHED\nLOW_RATING: LOW_RATING', enum_type=ServiceAlertKind, max_length=24)),
                ('cycle', fields.IntField(default=0)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ticket_deadline', 'app': 'pointsmall', 'unique_together': (('ticket', 'kind'),), 'indexes': [Index(fields=['due_at'])], 'pk_attr': 'id', 'table_description': 'A moment the sweeper must look at a ticket: a promise turning at risk, or breaching.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TimelineEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('pointsmall.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='timeline', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='MEMBER_MESSAGE: MEMBER_MESSAGE\nPUBLIC_REPLY: PUBLIC_REPLY\nINTERNAL_NOTE: INTERNAL_NOTE\nCALL: CALL\nACKNOWLEDGEMENT: ACKNOWLEDGEMENT\nSTATE_CHANGE: STATE_CHANGE\nASSIGNMENT: ASSIGNMENT\nRESOLUTION: RESOLUTION\nRATING: RATING', enum_type=TimelineKind, max_length=20)),
                ('author_role', fields.CharField(max_length=16)),
                ('author', fields.CharField(default='', max_length=64)),
                ('body', fields.TextField(default='', unique=False)),
                ('channel', fields.CharField(default='', max_length=10)),
                ('call_outcome', fields.CharField(default='', max_length=200)),
                ('public', fields.BooleanField(default=True)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ticket_timeline', 'app': 'pointsmall', 'indexes': [Index(fields=['ticket_id', 'id'])], 'pk_attr': 'id', 'table_description': "One entry of a ticket's timeline (members see only the public ones)."},
            bases=['Model'],
        ),
        AlterEnumDescription(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='ORDER_CONFIRMED: ORDER_CONFIRMED\nORDER_SHIPPED: ORDER_SHIPPED\nORDER_DELIVERED: ORDER_DELIVERED\nORDER_CANCELLED: ORDER_CANCELLED\nORDER_AT_RISK: ORDER_AT_RISK\nORDER_BREACHED: ORDER_BREACHED\nPOINTS_EXPIRING: POINTS_EXPIRING\nPOINTS_CREDITED: POINTS_CREDITED\nSMS_REPLY: SMS_REPLY\nQUESTION: QUESTION\nTICKET_RECEIVED: TICKET_RECEIVED\nTICKET_REPLY: TICKET_REPLY\nTICKET_BREACHED: TICKET_BREACHED\nTICKET_REFUNDED: TICKET_REFUNDED\nTICKET_GOODWILL: TICKET_GOODWILL\nTICKET_REPLACEMENT: TICKET_REPLACEMENT\nTICKET_RETURN_EXPECTED: TICKET_RETURN_EXPECTED\nTICKET_RETURN_RECEIVED: TICKET_RETURN_RECEIVED\nTICKET_RESOLVED: TICKET_RESOLVED', enum_type=NotificationKind, max_length=24),
        ),
    ]
