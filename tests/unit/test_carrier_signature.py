"""Carrier webhooks: the HMAC signature of the raw body, and what a body must hold."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from api.webhooks.carrier import BadPayload, parse_scans, sign, verify_signature

SECRET = "dev-sf-secret"
BODY = json.dumps(
    {"trackingNumber": "SF1", "status": "IN_TRANSIT", "occurredAt": "2026-11-24T10:00:00Z"}
).encode()


def test_the_signature_is_hex_hmac_sha256_of_the_raw_body() -> None:
    expected = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert sign(BODY, SECRET) == f"sha256={expected}"
    assert verify_signature(BODY, f"sha256={expected}", SECRET)
    assert verify_signature(BODY, f"SHA256={expected.upper()}", SECRET)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "deadbeef",
        f"md5={sign(BODY, SECRET)[7:]}",
        sign(BODY, "other"),
        sign(BODY + b" ", SECRET),
        "sha256=ü",
    ],
)
def test_a_missing_or_wrong_signature_is_refused(header: str | None) -> None:
    assert not verify_signature(BODY, header, SECRET)


def test_no_secret_verifies_nothing() -> None:
    assert not verify_signature(BODY, sign(BODY, ""), "")


def test_a_body_holds_one_scan_or_a_list_of_them() -> None:
    [one] = parse_scans(BODY, "SF")
    assert (one.carrier, one.tracking_number, one.status) == ("SF", "SF1", "IN_TRANSIT")
    assert one.occurred_at == datetime(2026, 11, 24, 10, tzinfo=UTC)
    many = json.dumps([json.loads(BODY), {**json.loads(BODY), "location": None}]).encode()
    assert len(parse_scans(many, "SF")) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "1 to 500 scans"),
        (b"[1]", "scan 0 is not an object"),
        (
            json.dumps({"status": "IN_TRANSIT", "occurredAt": "2026-11-24T10:00:00Z"}).encode(),
            "trackingNumber is required",
        ),
        (json.dumps({**json.loads(BODY), "occurredAt": "yesterday"}).encode(), "ISO-8601"),
        (json.dumps({**json.loads(BODY), "carrier": "YTO"}).encode(), "does not match"),
        (json.dumps({**json.loads(BODY), "status": 3}).encode(), "must be a string"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_a_body_that_is_not_scans_says_what_is_wrong(body: bytes, message: str) -> None:
    with pytest.raises(BadPayload, match=message):
        parse_scans(body, "SF")
