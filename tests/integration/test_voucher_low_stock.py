"""A pool running low is alerted once, and again only after a refill ran down again."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from models.vouchers import pools, rules
from models.vouchers.models import VoucherCode
from models.vouchers.scheduled import jobs
from models.vouchers.seal import VoucherSeal
from tests.integration.test_gift_kinds import digital_mall
from tests.support.graphql import GraphQLClient

SEAL = VoucherSeal(["Hk6mT4bq5Z3rX7nYwQ2sV9aD1cF8gJ0kL3mN6pR5tU4="], "e" * 40)


async def _add(*codes: str) -> None:
    now = datetime.now(UTC)
    read = (
        rules.check_entry(n, c, now + timedelta(days=30), now=now)
        for n, c in enumerate(codes, start=1)
    )
    await pools.import_codes(sku="EV-COFFEE", read=read, seal=SEAL, now=now)


async def test_a_low_pool_is_alerted_once_and_again_after_a_refill_runs_down(
    api: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    await digital_mall(api)
    await _add("LOW-0001", "LOW-0002")
    [job] = jobs(low=2)
    now = datetime.now(UTC)
    with caplog.at_level(logging.WARNING, logger="pointsmall.vouchers"):
        assert await job.run(now=now) == {"low_pools": 1}
        assert await job.run(now=now) == {"low_pools": 0}, "said once"
    [line] = [r.getMessage() for r in caplog.records if "EV-COFFEE" in r.getMessage()]
    assert "2 codes left" in line
    await _add("LOW-0003")
    assert await job.run(now=now) == {"low_pools": 0}, "refilled above the mark"
    taken = await VoucherCode.filter(order_line_id__isnull=True).first()
    assert taken is not None
    await VoucherCode.filter(id=taken.id).update(expires_at=now - timedelta(minutes=1))
    assert await job.run(now=now) == {"low_pools": 1}, "ran down again: said again"
