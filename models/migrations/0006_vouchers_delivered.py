# E-vouchers delivered: every showing of a code to its owner is logged (voucher_reveal);
# members hear that their code is ready (VOUCHER_READY); a pool's free codes are found in
# the order they are handed out (the soonest to expire first) by a partial index.
from tortoise import migrations
from tortoise.migrations import operations as ops
from models.notifications.models import NotificationKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from models.migration_ops import AlterEnumDescription

class Migration(migrations.Migration):
    dependencies = [('pointsmall', '0005_digital')]

    initial = False

    operations = [
        ops.CreateModel(
            name='VoucherReveal',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.ForeignKeyField('pointsmall.VoucherCode', source_field='code_id', db_constraint=True, to_field='id', related_name='reveals', on_delete=OnDelete.RESTRICT)),
                ('member_id', fields.BigIntField()),
                ('revealed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'voucher_reveal', 'app': 'pointsmall', 'indexes': [Index(fields=['code_id'])], 'pk_attr': 'id', 'table_description': 'Each time an e-voucher code was shown, and to whom.'},
            bases=['Model'],
        ),
        AlterEnumDescription(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='ORDER_CONFIRMED: ORDER_CONFIRMED\nORDER_SHIPPED: ORDER_SHIPPED\nORDER_DELIVERED: ORDER_DELIVERED\nORDER_CANCELLED: ORDER_CANCELLED\nORDER_AT_RISK: ORDER_AT_RISK\nORDER_BREACHED: ORDER_BREACHED\nPOINTS_EXPIRING: POINTS_EXPIRING\nPOINTS_CREDITED: POINTS_CREDITED\nSMS_REPLY: SMS_REPLY\nQUESTION: QUESTION\nTICKET_RECEIVED: TICKET_RECEIVED\nTICKET_REPLY: TICKET_REPLY\nTICKET_BREACHED: TICKET_BREACHED\nTICKET_REFUNDED: TICKET_REFUNDED\nTICKET_GOODWILL: TICKET_GOODWILL\nTICKET_REPLACEMENT: TICKET_REPLACEMENT\nTICKET_RETURN_EXPECTED: TICKET_RETURN_EXPECTED\nTICKET_RETURN_RECEIVED: TICKET_RETURN_RECEIVED\nTICKET_RESOLVED: TICKET_RESOLVED\nVOUCHER_READY: VOUCHER_READY', enum_type=NotificationKind, max_length=24),
        ),
        # A line's claim takes the free code that expires first: without this index every
        # claim sorted all of the pool's free codes (47 orders/s on a pool of 100,000).
        ops.RunSQL(
            "CREATE INDEX voucher_code_free ON voucher_code (gift_id, expires_at, id)"
            " WHERE order_line_id IS NULL",
            reverse_sql="DROP INDEX voucher_code_free",
        ),
    ]
