"""POST /webhooks/carrier/{carrier}: signed carrier scans, each stored once.

The body is one scan or a list of scans with the fields of `TrackingEventInput`
(`trackingNumber`, `status`, `occurredAt`, optional `location`, `description`, `carrier`).
`X-Signature: sha256=<hex>` is the HMAC-SHA256 of the raw body with the carrier's secret.

401: unknown carrier, or a missing or wrong signature (nothing is read further).
400: not JSON, or not scans (nothing is stored).
A tracking number no outbound parcel has is looked for among after-sales' returns (a return
received refunds its points, and its cash through Stripe after the receipt).

200: every scan stored or already stored; 422: some were refused (unknown tracking number,
a scan in the future...), the others stored. Each result names its scan by index, and
resending the whole body is always safe.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from fulfilment import tracking
from fulfilment.rules import Scan
from models.aftersales import returns
from models.errors import DomainError, NotFound
from schema.context import Services

log = logging.getLogger("pointsmall.webhooks.carrier")
MAX_SCANS = 500
SIGNATURE_PREFIX = "sha256="


class BadPayload(ValueError):
    """The body is not a scan or a list of scans."""


def sign(body: bytes, secret: str) -> str:
    """The X-Signature header value for `body` (what a carrier sends; used by tests too)."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify_signature(body: bytes, header: str | None, secret: str) -> bool:
    """Whether `header` is the body's signature with `secret`, compared in constant time."""
    if not header or not secret:
        return False
    given = header.strip()
    if not given.lower().startswith(SIGNATURE_PREFIX):
        return False
    return hmac.compare_digest(
        sign(body, secret).encode(), given.lower().encode("ascii", "replace")
    )


def parse_scans(body: bytes, carrier: str) -> list[Scan]:
    """The scans of a webhook body for `carrier`; raises BadPayload saying what is wrong."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadPayload(f"the body is not valid JSON: {exc}") from exc
    items = data if isinstance(data, list) else [data]
    if not items or len(items) > MAX_SCANS:
        raise BadPayload(f"send 1 to {MAX_SCANS} scans")
    return [_scan(item, carrier, index) for index, item in enumerate(items)]


def _scan(item: Any, carrier: str, index: int) -> Scan:
    where = f"scan {index}"
    if not isinstance(item, dict):
        raise BadPayload(f"{where} is not an object")
    fields = {}
    for name in ("trackingNumber", "status", "occurredAt", "location", "description", "carrier"):
        value = item.get(name)
        value = "" if value is None else value
        if not isinstance(value, str):
            raise BadPayload(f"{where}: {name} must be a string")
        fields[name] = value
    for name in ("trackingNumber", "status", "occurredAt"):
        if not fields[name].strip():
            raise BadPayload(f"{where}: {name} is required")
    if fields["carrier"] and fields["carrier"].strip().upper() != carrier:
        raise BadPayload(f"{where}: carrier {fields['carrier']!r} does not match the URL")
    try:
        occurred_at = datetime.fromisoformat(fields["occurredAt"].strip())
    except ValueError as exc:
        raise BadPayload(f"{where}: occurredAt is not an ISO-8601 date and time") from exc
    return Scan(
        carrier=carrier,
        tracking_number=fields["trackingNumber"],
        status=fields["status"],
        location=fields["location"],
        description=fields["description"],
        occurred_at=occurred_at,
    )


async def carrier_webhook(request: Request) -> JSONResponse:
    """Verify the carrier's signature, then record each scan once."""
    carrier = str(request.path_params["carrier"]).strip().upper()
    secrets: dict[str, str] = request.app.state.settings.carrier_secrets
    body = await request.body()
    if not verify_signature(body, request.headers.get("x-signature"), secrets.get(carrier, "")):
        log.warning("refused a carrier webhook for %r: unknown carrier or bad signature", carrier)
        return JSONResponse({"error": "unknown carrier or invalid signature"}, status_code=401)
    try:
        scans = parse_scans(body, carrier)
    except BadPayload as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    services: Services = request.app.state.services
    results = [await _record(index, scan, services) for index, scan in enumerate(scans)]
    refused = any(result["outcome"] == "refused" for result in results)
    return JSONResponse({"results": results}, status_code=422 if refused else 200)


async def _record(index: int, scan: Scan, services: Services) -> dict[str, Any]:
    try:
        recorded = await tracking.record(scan=scan, actor=None, now=services.clock())
    except NotFound as missing:
        return await _record_return(index, scan, services, missing)
    except DomainError as exc:
        return _refused(index, exc)
    outcome = "recorded" if recorded.created else "duplicate"
    return {"index": index, "outcome": outcome, "shipmentStatus": str(recorded.shipment.status)}


async def _record_return(
    index: int, scan: Scan, services: Services, missing: NotFound
) -> dict[str, Any]:
    """A tracking number no outbound parcel has may be a return's (after-sales)."""
    try:
        scanned = await returns.record_scan(scan=scan, actor=None, now=services.clock())
    except DomainError as exc:
        return _refused(index, exc)
    if scanned is None:
        return _refused(index, missing)
    if scanned.received:
        await returns.refund_cash(resolution_id=scanned.resolution_id, gateway=services.payments)
    outcome = "recorded" if scanned.created else "duplicate"
    return {"index": index, "outcome": outcome, "shipmentStatus": scanned.parcel.status}


def _refused(index: int, exc: DomainError) -> dict[str, Any]:
    return {"index": index, "outcome": "refused", "code": exc.code, "message": exc.message}
