# Digital gifts: a gift's kind (PHYSICAL, E_VOUCHER, TOP_UP), an e-voucher's partner and
# instructions. Existing gifts, and statements that name none of these, are parcels.
from tortoise import migrations
from tortoise.migrations import operations as ops
from models.catalog.models import GiftKind
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('pointsmall', '0004_aftersales')]

    initial = False

    operations = [
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
