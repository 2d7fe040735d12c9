"""E-voucher code pools: imported once each, sealed at rest, counted as the gift's stock."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from api.settings import load_settings
from api.wiring import voucher_seal_of
from models import sql
from models.vouchers.models import VoucherCode
from tests.integration.test_gift_kinds import digital_mall
from tests.support.graphql import GraphQLClient, admin_token, member_token

ROOT = Path(__file__).resolve().parents[2]
LATER = (datetime.now(UTC) + timedelta(days=200)).isoformat()
EARLIER = (datetime.now(UTC) - timedelta(days=1)).isoformat()


def codes_input(sku: str, *codes: str, expires_at: str = LATER) -> dict[str, Any]:
    return {"input": {"sku": sku, "codes": [{"code": c, "expiresAt": expires_at} for c in codes]}}


async def import_batch(api: GraphQLClient, variables: dict[str, Any], **auth: str) -> Any:
    result = await api.op("ImportVoucherCodes", variables, auth=auth.get("auth", admin_token()))
    return result


async def coffee_availability(api: GraphQLClient) -> dict[str, Any]:
    gift = (await api.op("Gift", {"sku": "EV-COFFEE"})).data["gift"]
    return gift["availability"]  # type: ignore[no-any-return]


async def test_imported_codes_are_the_gifts_stock_and_never_added_twice(
    api: GraphQLClient,
) -> None:
    await digital_mall(api)
    assert (await coffee_availability(api))["quantityAvailable"] == 0
    first = await import_batch(api, codes_input("EV-COFFEE", "LK-0001", "LK-0002", "LK-0001"))
    payload = first.data["importVoucherCodes"]
    assert payload["errors"] == []
    assert payload["added"] == 2
    assert payload["duplicates"] == [{"line": 3, "reason": "the code is in the file twice"}]
    again = await import_batch(api, codes_input("EV-COFFEE", "LK-0002", "LK-0003"))
    payload = again.data["importVoucherCodes"]
    assert (payload["added"], payload["duplicates"]) == (
        1,
        [{"line": 1, "reason": "the code is already in a pool"}],
    )
    assert await VoucherCode.all().count() == 3
    shown = await coffee_availability(api)
    assert shown == {
        "inStock": True,
        "quantityAvailable": 3,
        "estimatedShipBy": None,
        "deliveredWithinMinutes": 10,
    }
    page = (await api.op("Catalog", {"first": 20, "filter": {"inStock": True}})).data["gifts"]
    assert "EV-COFFEE" in {e["node"]["sku"] for e in page["edges"]}
    assert "TU-10" not in {e["node"]["sku"] for e in page["edges"]}


async def test_expired_and_malformed_codes_are_refused_by_place_and_add_nothing(
    api: GraphQLClient,
) -> None:
    await digital_mall(api)
    expired = await import_batch(api, codes_input("EV-COFFEE", "LK-OLD1", expires_at=EARLIER))
    assert expired.data["importVoucherCodes"]["refused"] == [
        {"line": 1, "reason": "the code has expired"}
    ]
    formula = await import_batch(api, codes_input("EV-COFFEE", "OK-0001", "=HYPERLINK(1)"))
    payload = formula.data["importVoucherCodes"]
    assert payload["added"] == 1
    assert [r["line"] for r in payload["refused"]] == [2]
    assert await VoucherCode.all().count() == 1


async def test_only_an_e_voucher_has_a_pool_and_only_admins_fill_it(api: GraphQLClient) -> None:
    await digital_mall(api)
    for sku, code, field in (("TU-10", "INVALID_INPUT", "sku"), ("NOPE", "NOT_FOUND", "sku")):
        result = await import_batch(api, codes_input(sku, "LK-0001"))
        errors = result.data["importVoucherCodes"]["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [(code, field)]
    empty = await import_batch(api, codes_input("EV-COFFEE"))
    assert [e["field"] for e in empty.data["importVoucherCodes"]["errors"]] == ["codes"]
    member = await import_batch(api, codes_input("EV-COFFEE", "LK-0001"), auth=member_token("C1"))
    assert member.error_codes == ["FORBIDDEN"]
    assert await VoucherCode.all().count() == 0


async def test_a_dump_of_the_pool_shows_no_code(api: GraphQLClient) -> None:
    await digital_mall(api)
    await import_batch(api, codes_input("EV-COFFEE", "SECRET-CODE-42"))
    [row] = await sql.fetch("SELECT * FROM voucher_code")
    assert not any("SECRET-CODE-42" in str(value) for value in row.values())
    seal = voucher_seal_of(load_settings())
    assert seal.open(row["sealed"]) == "SECRET-CODE-42"
    assert row["digest"] == seal.digest("SECRET-CODE-42")


async def test_expired_codes_are_no_longer_stock(api: GraphQLClient) -> None:
    await digital_mall(api)
    await import_batch(api, codes_input("EV-COFFEE", "LK-0001", "LK-0002"))
    await VoucherCode.filter(id=(await VoucherCode.first()).id).update(  # type: ignore[union-attr]
        expires_at=datetime.now(UTC) - timedelta(minutes=1)
    )
    assert (await coffee_availability(api))["quantityAvailable"] == 1


async def pointsmall(*args: str, database_url: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "api.cli",
        *args,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_import_codes_reports_hostile_lines_and_a_reimport_adds_nothing(
    api: GraphQLClient, db: str, tmp_path: Path
) -> None:
    await digital_mall(api)
    path = tmp_path / "luckin.csv"
    path.write_bytes(
        b"code,expires_at\n"
        b"LK-1001,2099-01-01\n"
        b'"=HYPERLINK(""http://x"")",2099-01-01\n'
        b"LK-\x00-1,2099-01-01\n" + b"Z" * 1_048_576 + b",2099-01-01\n"
        b"LK-1002,2020-01-01\n" + "码-1003,2099-01-01\n".encode("gbk") + b"LK-1004,2099-01-01\n"
    )
    code, out, err = await pointsmall("import-codes", "EV-COFFEE", str(path), database_url=db)
    assert code == 1, err
    assert out.splitlines() == [
        "line 3: refused: a code is 4 to 64 letters, digits, '-' and '_', starting with a "
        "letter or digit",
        "line 4: refused: the line holds a NUL byte",
        "line 5: refused: the line is longer than 1024 bytes",
        "line 6: refused: the code has expired",
        "line 7: refused: the line is not UTF-8",
        "added 2, duplicates 0, refused 5",
    ]
    code, out, _ = await pointsmall("import-codes", "EV-COFFEE", str(path), database_url=db)
    assert (code, out.splitlines()[-1]) == (1, "added 0, duplicates 2, refused 5")
    assert "line 2: duplicate: the code is already in a pool" in out
    assert await VoucherCode.all().count() == 2
    code, _, err = await pointsmall("import-codes", "TU-10", str(path), database_url=db)
    assert code == 1
    assert "only an E_VOUCHER gift has a pool of codes" in err
