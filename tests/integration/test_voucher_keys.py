"""Rotating the voucher keys: `reseal_all` seals every code again with the first key, so
the old key can be dropped; a code no key opens is reported and left as it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from models.vouchers import keys, pools, rules
from models.vouchers.models import VoucherCode
from models.vouchers.seal import SealBroken, VoucherSeal
from tests.integration.test_gift_kinds import digital_mall
from tests.support.graphql import GraphQLClient

DIGEST = "d" * 40
OLD, NEW, LOST = (Fernet.generate_key().decode() for _ in range(3))


async def _add(seal: VoucherSeal, *codes: str) -> None:
    now = datetime.now(UTC)
    read = (
        rules.check_entry(n, code, now + timedelta(days=30), now=now)
        for n, code in enumerate(codes, start=1)
    )
    report = await pools.import_codes(sku="EV-COFFEE", read=read, seal=seal, now=now)
    assert report.added == len(codes)


async def test_a_rotation_seals_every_code_with_the_new_key_and_reports_the_unopened(
    api: GraphQLClient,
) -> None:
    await digital_mall(api)
    await _add(VoucherSeal([OLD], DIGEST), "ROT-0001", "ROT-0002", "ROT-0003")
    await _add(VoucherSeal([LOST], DIGEST), "ROT-LOST")
    rotating = VoucherSeal([NEW, OLD], DIGEST)

    done = await keys.reseal_all(seal=rotating, batch=2)  # pages of two: ids carry over

    assert done.resealed == 3
    lost = await VoucherCode.get(digest=rotating.digest("ROT-LOST"))
    assert done.broken == [lost.id]
    new_only = VoucherSeal([NEW], DIGEST)
    opened = set()
    for code in await VoucherCode.exclude(id=lost.id):
        opened.add(new_only.open(code.sealed))  # the old key is no longer needed
    assert opened == {"ROT-0001", "ROT-0002", "ROT-0003"}
    with pytest.raises(SealBroken):
        new_only.open(lost.sealed)
    # A second run (a rotation resumed after a stop) changes nothing a reader would see.
    again = await keys.reseal_all(seal=new_only)
    assert (again.resealed, again.broken) == (3, [lost.id])
