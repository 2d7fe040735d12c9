"""Reads of the code pools: how many codes a gift has left."""

from __future__ import annotations

from datetime import datetime

from models.vouchers.models import VoucherCode


async def codes_left(*, gift_id: int, now: datetime) -> int:
    """Unassigned codes of the gift that have not expired: its stock."""
    return await VoucherCode.filter(
        gift_id=gift_id, order_line_id__isnull=True, expires_at__gt=now
    ).count()


# The same count inside another read's statement (`g` being the gift's row).
CODES_LEFT = """(SELECT COUNT(*) FROM voucher_code v
    WHERE v.gift_id = g.id AND v.order_line_id IS NULL AND v.expires_at > {now})"""
