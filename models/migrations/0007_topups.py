# Top-ups: a TOP_UP gift's product, face value and daily budget (existing gifts: none);
# each top-up line's credit through the charging system (top_up) and what a gift's
# credits took a day (top_up_budget); members hear of a credit landed or refunded.
from tortoise import migrations
from tortoise.migrations import operations as ops
from models.notifications.models import NotificationKind
from models.topups.models import TopUpStatus
from models.topups.ports import TopUpProduct
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from models.migration_ops import AlterEnumDescription

class Migration(migrations.Migration):
    dependencies = [('pointsmall', '0006_vouchers_delivered')]

    initial = False

    operations = [
        ops.CreateModel(
            name='TopUp',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order_line', fields.OneToOneField('pointsmall.OrderLine', source_field='order_line_id', db_constraint=True, to_field='id', related_name='top_up', on_delete=OnDelete.RESTRICT)),
                ('order_id', fields.BigIntField()),
                ('member_id', fields.BigIntField()),
                ('gift_id', fields.BigIntField()),
                ('msisdn', fields.CharField(max_length=20)),
                ('product', fields.CharEnumField(description='CREDIT: CREDIT\nDATA: DATA', enum_type=TopUpProduct, max_length=8)),
                ('face_value', fields.BigIntField()),
                ('status', fields.CharEnumField(default=TopUpStatus.PENDING, description='PENDING: PENDING\nDELIVERED: DELIVERED\nFAILED: FAILED\nEXPIRED: EXPIRED', enum_type=TopUpStatus, max_length=10)),
                ('attempts', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('next_try_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('deliver_by', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('at_risk_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('alerted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reason', fields.CharField(default='', max_length=64)),
                ('transaction_id', fields.CharField(default='', max_length=64)),
                ('budget_day', fields.DateField()),
            ],
            options={'table': 'top_up', 'app': 'pointsmall', 'indexes': [Index(fields=['status', 'next_try_at']), Index(fields=['order_id'])], 'pk_attr': 'id', 'table_description': "A TOP_UP order line's credit through the charging system."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TopUpBudget',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('gift_id', fields.BigIntField()),
                ('day', fields.DateField()),
                ('spent', fields.BigIntField(default=0)),
            ],
            options={'table': 'top_up_budget', 'app': 'pointsmall', 'unique_together': (('gift_id', 'day'),), 'pk_attr': 'id', 'table_description': "Face value of a gift's top-ups per day, against its daily budget."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Gift',
            name='daily_budget',
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name='Gift',
            name='face_value',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Gift',
            name='top_up_product',
            field=fields.CharEnumField(default=TopUpProduct.CREDIT, description='CREDIT: CREDIT\nDATA: DATA', db_default='CREDIT', enum_type=TopUpProduct, max_length=8),
        ),
        AlterEnumDescription(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='ORDER_CONFIRMED: ORDER_CONFIRMED\nORDER_SHIPPED: ORDER_SHIPPED\nORDER_DELIVERED: ORDER_DELIVERED\nORDER_CANCELLED: ORDER_CANCELLED\nORDER_AT_RISK: ORDER_AT_RISK\nORDER_BREACHED: ORDER_BREACHED\nPOINTS_EXPIRING: POINTS_EXPIRING\nPOINTS_CREDITED: POINTS_CREDITED\nSMS_REPLY: SMS_REPLY\nQUESTION: QUESTION\nTICKET_RECEIVED: TICKET_RECEIVED\nTICKET_REPLY: TICKET_REPLY\nTICKET_BREACHED: TICKET_BREACHED\nTICKET_REFUNDED: TICKET_REFUNDED\nTICKET_GOODWILL: TICKET_GOODWILL\nTICKET_REPLACEMENT: TICKET_REPLACEMENT\nTICKET_RETURN_EXPECTED: TICKET_RETURN_EXPECTED\nTICKET_RETURN_RECEIVED: TICKET_RETURN_RECEIVED\nTICKET_RESOLVED: TICKET_RESOLVED\nVOUCHER_READY: VOUCHER_READY\nTOPUP_DELIVERED: TOPUP_DELIVERED\nTOPUP_REFUNDED: TOPUP_REFUNDED', enum_type=NotificationKind, max_length=24),
        ),
    ]
