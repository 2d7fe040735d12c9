# Digital gifts: a gift's kind (PHYSICAL, E_VOUCHER, TOP_UP), an e-voucher's partner and
# instructions (existing gifts, and statements that name none of these, are parcels); the
# e-vouchers' code pools, each code sealed, its keyed digest unique.
from tortoise import migrations
from tortoise.migrations import operations as ops
from models.catalog.models import GiftKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('pointsmall', '0004_aftersales')]

    initial = False

    operations = [
        ops.CreateModel(
            name='VoucherCode',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('gift', fields.ForeignKeyField('pointsmall.Gift', source_field='gift_id', db_constraint=True, to_field='id', related_name='voucher_codes', on_delete=OnDelete.RESTRICT)),
                ('sealed', fields.TextField(unique=False)),
                ('digest', fields.CharField(unique=True, max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('imported_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('order_line', fields.OneToOneField('pointsmall.OrderLine', source_field='order_line_id', null=True, db_constraint=True, to_field='id', related_name='voucher_code', on_delete=OnDelete.RESTRICT)),
                ('assigned_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revealed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'voucher_code', 'app': 'pointsmall', 'indexes': [Index(fields=['gift_id', 'order_line_id', 'expires_at'])], 'pk_attr': 'id', 'table_description': "A partner's e-voucher code, encrypted, and the order line it went to."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Gift',
            name='instructions',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.AddField(
            model_name='Gift',
            name='kind',
            field=fields.CharEnumField(default=GiftKind.PHYSICAL, description='PHYSICAL: PHYSICAL\nE_VOUCHER: E_VOUCHER\nTOP_UP: TOP_UP', db_default='PHYSICAL', enum_type=GiftKind, max_length=10),
        ),
        ops.AddField(
            model_name='Gift',
            name='partner',
            field=fields.CharField(default='', db_default='', max_length=100),
        ),
    ]
