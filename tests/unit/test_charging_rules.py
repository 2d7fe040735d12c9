"""The charging system's rules: the signature, the callback's verification (replayed, forged,
stale, malformed: each refused or parsed, never an exception), a top-up request, and the
client's answers, every httpx exception among them."""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.errors import InvalidInput
from models.notifications.push_webhook import signature
from models.topups.charging import (
    FOREIGN_ERRORS,
    CallbackNotice,
    ChargingClient,
    ChargingConfig,
    signed_at,
    signed_headers,
    verify_callback,
)
from models.topups.ports import (
    NUMBER_NOT_IN_SERVICE,
    TopUpAnswer,
    TopUpOutcome,
    TopUpProduct,
    TopUpRequest,
)

SECRET = "charging-secret"
NOW = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
T = int(NOW.timestamp())
DELIVERED = {"idempotencyKey": "topup:42", "outcome": "DELIVERED", "transactionId": "CS01"}
REQUEST = TopUpRequest.for_line(
    line_id=42, msisdn="+86 138-0013-8000", face_value=1000, product=TopUpProduct.CREDIT
)


def encoded(document: object) -> bytes:
    return json.dumps(document).encode()


def signed(body: bytes, *, at: int = T, secret: str = SECRET) -> dict[str, str]:
    return signed_headers(body, secret=secret, timestamp=at)


def notice_of(body: bytes, headers: dict[str, str], now: datetime = NOW) -> CallbackNotice | None:
    return verify_callback(body, headers, secret=SECRET, now=now)


# The signature


def test_the_signature_is_the_hmac_of_the_time_and_the_body_as_the_push_webhooks() -> None:
    body = encoded(DELIVERED)
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + body, hashlib.sha256).hexdigest()
    assert signed(body) == {"X-Timestamp": str(T), "X-Signature": f"sha256={expected}"}
    assert signed(body)["X-Signature"] == signature(body, timestamp=T, secret=SECRET)


def test_a_signature_is_read_in_any_header_case_and_says_when_it_was_signed() -> None:
    body = encoded(DELIVERED)
    headers = {name.lower(): value.upper() for name, value in signed(body).items()}
    assert signed_at(body, headers, secret=SECRET, now=NOW) == NOW


@pytest.mark.parametrize("seconds", [-300, 0, 300])
def test_a_signature_up_to_five_minutes_from_now_either_way_is_good(seconds: int) -> None:
    body = encoded(DELIVERED)
    assert signed_at(body, signed(body, at=T + seconds), secret=SECRET, now=NOW) is not None


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(signed(b"{}", at=T - 301), id="stale"),
        pytest.param(signed(b"{}", at=T + 301), id="from the future"),
        pytest.param(signed(b"{}", secret="another"), id="another secret"),
        pytest.param(signed(b"{ }"), id="another body"),
        pytest.param({"X-Signature": signed(b"{}")["X-Signature"]}, id="no timestamp"),
        pytest.param({"X-Timestamp": str(T)}, id="no signature"),
        pytest.param({**signed(b"{}"), "X-Timestamp": f" {T}x"}, id="timestamp not a number"),
        pytest.param({**signed(b"{}"), "X-Timestamp": "１７６５０"}, id="full-width digits"),
        pytest.param({**signed(b"{}"), "X-Timestamp": "9" * 40}, id="a huge timestamp"),
        pytest.param({**signed(b"{}"), "X-Signature": "sha256=签名"}, id="not ASCII"),
        pytest.param({**signed(b"{}"), "X-Signature": ""}, id="empty signature"),
    ],
)
def test_a_bad_signature_is_refused_without_an_exception(headers: dict[str, str]) -> None:
    assert signed_at(b"{}", headers, secret=SECRET, now=NOW) is None


def test_no_secret_signs_nothing() -> None:
    headers = signed_headers(b"{}", secret="", timestamp=T)
    assert signed_at(b"{}", headers, secret="", now=NOW) is None


# The callback


def test_a_signed_delivery_callback_is_parsed_into_its_notice() -> None:
    body = encoded(DELIVERED)
    assert notice_of(body, signed(body)) == CallbackNotice(
        "topup:42", TopUpOutcome.DELIVERED, "", "CS01", NOW
    )


def test_a_signed_refusal_callback_carries_its_reason() -> None:
    body = encoded({"idempotencyKey": "topup:7", "outcome": "FAILED", "reason": "ACCOUNT_BARRED"})
    notice = notice_of(body, signed(body))
    assert notice is not None
    assert (notice.outcome, notice.reason, notice.transaction_id) == (
        TopUpOutcome.FAILED,
        "ACCOUNT_BARRED",
        "",
    )


def test_a_callback_replayed_within_five_minutes_is_the_same_notice_and_later_refused() -> None:
    body = encoded(DELIVERED)
    headers = signed(body)
    first = notice_of(body, headers)
    assert first is not None
    assert notice_of(body, headers, NOW + timedelta(minutes=4)) == first  # applied once, by key
    assert notice_of(body, headers, NOW + timedelta(minutes=5, seconds=1)) is None


def test_a_forged_callback_is_refused() -> None:
    body = encoded(DELIVERED)
    forged = encoded({**DELIVERED, "outcome": "FAILED", "reason": NUMBER_NOT_IN_SERVICE})
    assert notice_of(forged, signed(body)) is None
    assert notice_of(body, signed(body, secret="guessed")) is None


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"not json", id="not JSON"),
        pytest.param(b'{"idempotencyKey": "\xff"}', id="not UTF-8"),
        pytest.param(encoded([DELIVERED]), id="a list"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="nested too deep"),
        pytest.param(encoded({**DELIVERED, "idempotencyKey": ""}), id="no key"),
        pytest.param(encoded({**DELIVERED, "idempotencyKey": 42}), id="key a number"),
        pytest.param(encoded({**DELIVERED, "idempotencyKey": "k" * 201}), id="key too long"),
        pytest.param(encoded({**DELIVERED, "idempotencyKey": "a\nb"}), id="key with a newline"),
        pytest.param(encoded({**DELIVERED, "outcome": "PENDING"}), id="pending"),
        pytest.param(encoded({**DELIVERED, "outcome": "UNKNOWN"}), id="unknown"),
        pytest.param(encoded({**DELIVERED, "outcome": "delivered"}), id="lower-case outcome"),
        pytest.param(encoded({**DELIVERED, "outcome": ["DELIVERED"]}), id="outcome a list"),
        pytest.param(encoded({**DELIVERED, "outcome": "FAILED"}), id="failed without reason"),
        pytest.param(encoded({**DELIVERED, "reason": "BARRED"}), id="delivered with a reason"),
        pytest.param(
            encoded({**DELIVERED, "outcome": "FAILED", "reason": "not a code"}), id="bad reason"
        ),
        pytest.param(encoded({**DELIVERED, "transactionId": 7}), id="transaction a number"),
        pytest.param(encoded({**DELIVERED, "transactionId": "T" * 65}), id="transaction long"),
    ],
)
def test_a_malformed_callback_is_refused_even_when_well_signed(body: bytes) -> None:
    assert notice_of(body, signed(body)) is None


@given(body=st.binary(max_size=300), headers=st.dictionaries(st.text(), st.text(), max_size=3))
def test_no_bytes_and_headers_make_the_verification_raise(
    body: bytes, headers: dict[str, str]
) -> None:
    assert notice_of(body, headers) is None
    assert notice_of(body, {**headers, **signed(body)}) is None


FIELDS = st.sampled_from(["idempotencyKey", "outcome", "reason", "transactionId", "extra"])
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=70),
    st.sampled_from(["DELIVERED", "FAILED", "PENDING", NUMBER_NOT_IN_SERVICE, "topup:1"]),
    st.lists(st.integers(), max_size=2),
)


@given(document=st.dictionaries(FIELDS, VALUES))
def test_a_signed_document_is_refused_or_read_as_it_says(document: dict[str, object]) -> None:
    body = encoded(document)
    notice = notice_of(body, signed(body))
    read = None if notice is None else (notice.idempotency_key, notice.outcome, notice.reason)
    expected = (document.get("idempotencyKey"), document.get("outcome"), document.get("reason"))
    assert read is None or read == (expected[0], expected[1], expected[2] or "")


# A top-up request


def test_a_request_carries_its_lines_key_and_the_number_in_e164() -> None:
    assert TopUpRequest("topup:42", "+8613800138000", 1000, TopUpProduct.CREDIT) == REQUEST


@pytest.mark.parametrize(
    ("number", "face_value"), [("12345", 1000), ("", 1000), ("13800138000", 0)]
)
def test_a_request_needs_a_mobile_number_and_a_face_value(number: str, face_value: int) -> None:
    with pytest.raises(InvalidInput):
        TopUpRequest.for_line(
            line_id=1, msisdn=number, face_value=face_value, product=TopUpProduct.DATA
        )


# The client's answers, from a transport in the test


def answering(
    document: object, *, status: int = 200, at: int = T, secret: str = SECRET
) -> httpx.MockTransport:
    body = encoded(document)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers=signed(body, at=at, secret=secret))

    return httpx.MockTransport(answer)


async def ask(transport: httpx.AsyncBaseTransport) -> TopUpAnswer:
    client = ChargingClient(
        ChargingConfig("https://charging.test/v1", SECRET), transport=transport, clock=lambda: T
    )
    try:
        return await client.credit(REQUEST)
    finally:
        await client.close()


async def test_a_credit_is_posted_signed_with_its_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = encoded(DELIVERED)
        return httpx.Response(200, content=body, headers=signed(body))

    assert (await ask(httpx.MockTransport(answer))).outcome is TopUpOutcome.DELIVERED
    (request,) = seen
    assert str(request.url) == "https://charging.test/v1/credits"
    assert request.headers["idempotency-key"] == "topup:42"
    assert request.headers["x-signature"] == signed(request.content)["X-Signature"]
    assert json.loads(request.content) == {
        "idempotencyKey": "topup:42",
        "msisdn": "+8613800138000",
        "faceValue": 1000,
        "product": "CREDIT",
    }


@pytest.mark.parametrize(
    ("transport", "detail"),
    [
        pytest.param(answering(DELIVERED, at=T - 301), "bad signature", id="stale answer"),
        pytest.param(answering(DELIVERED, secret="x"), "bad signature", id="forged answer"),
        pytest.param(
            answering({**DELIVERED, "idempotencyKey": "topup:41"}),
            "unreadable answer",
            id="another line's answer",
        ),
        pytest.param(answering({"ok": True}), "unreadable answer", id="not an answer"),
        pytest.param(answering(DELIVERED, status=201), "HTTP 201", id="an unexpected status"),
        pytest.param(answering(DELIVERED, status=429), "HTTP 429", id="throttled"),
        pytest.param(answering(DELIVERED, status=500), "HTTP 500", id="server error"),
    ],
)
async def test_an_answer_not_to_believe_is_unknown(
    transport: httpx.MockTransport, detail: str
) -> None:
    assert await ask(transport) == TopUpAnswer.unknown("topup:42", detail)


def httpx_exceptions() -> list[type[Exception]]:
    found = (getattr(httpx, name) for name in httpx.__all__)
    return [kind for kind in found if inspect.isclass(kind) and issubclass(kind, Exception)]


def raised(kind: type[Exception], request: httpx.Request) -> Exception:
    if issubclass(kind, httpx.HTTPStatusError):
        return kind("boom", request=request, response=httpx.Response(500, request=request))
    if issubclass(kind, httpx.RequestError):
        return kind("boom", request=request)
    parameters = inspect.signature(kind).parameters
    return kind("boom") if parameters else kind()


def test_every_exception_httpx_declares_is_one_the_client_translates() -> None:
    assert len(httpx_exceptions()) > 20
    assert [kind for kind in httpx_exceptions() if not issubclass(kind, FOREIGN_ERRORS)] == []


@pytest.mark.parametrize("kind", httpx_exceptions(), ids=lambda kind: kind.__name__)
async def test_an_httpx_exception_ends_in_the_client_as_unknown(kind: type[Exception]) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise raised(kind, request)

    answer = await ask(httpx.MockTransport(fail))
    assert answer.outcome is TopUpOutcome.UNKNOWN
    assert answer.detail in ("timeout", kind.__name__)


def test_a_client_needs_an_http_base_url_and_a_secret() -> None:
    with pytest.raises(ValueError, match="base URL"):
        ChargingClient(ChargingConfig("ftp://charging.test", SECRET))
    with pytest.raises(ValueError, match="secret"):
        ChargingClient(ChargingConfig("https://charging.test", ""))
