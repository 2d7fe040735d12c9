"""The soak's clients: every request goes through `Recorder`, which judges its answer.

A request passes when it is HTTP 200 (a carrier webhook may be 422 for a refused scan) and
every error in it is a business refusal with a known code. Anything else (a 5xx, a
transport error, a top-level GraphQL error, `INTERNAL_SERVER_ERROR`, an unknown code) is a
failure, kept with a sample of what came back.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx

from api.webhooks.carrier import sign
from schema.errors import ErrorCode
from tests.fakes.stripe_server import StripeFake
from tests.support.graphql import operation

BUSINESS_CODES = frozenset(code.value for code in ErrorCode)
CARRIER_SECRETS = {"SF": "dev-sf-secret", "YTO": "dev-yto-secret", "EMS": "dev-ems-secret"}
MAX_SAMPLES = 20


@dataclass
class Recorder:
    """Counts requests by operation and refusals by code; keeps failures."""

    requests: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    refused_by: Counter[tuple[str, str]] = field(default_factory=Counter)  # (code, operation)
    failures: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))

    def fail(self, name: str, detail: str) -> None:
        self.failures[name] += 1
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(f"{name}: {detail[:600]}")

    def refused(self, codes: list[str], name: str) -> None:
        for code in codes:
            if code in BUSINESS_CODES:
                self.refusals[code] += 1
                self.refused_by[(code, name)] += 1
            else:
                self.fail(name, f"unknown error code {code!r}")

    @property
    def total(self) -> int:
        return sum(self.requests.values())


class Client:
    """GraphQL and webhooks over one HTTP connection pool to the API process."""

    def __init__(self, http: httpx.AsyncClient, recorder: Recorder, stripe: StripeFake) -> None:
        self.http = http
        self.recorder = recorder
        self.stripe = stripe

    async def op(
        self, name: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any] | None:
        """Run a client operation; its `data`, or None when it failed (recorded)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = {"query": operation(name), "variables": variables or {}, "operationName": name}
        response = await self._post(name, "/graphql", json=body, headers=headers)
        if response is None:
            return None
        if response.status_code != 200:
            self.recorder.fail(name, f"HTTP {response.status_code}: {response.text}")
            return None
        result = response.json()
        if result.get("errors"):
            self.recorder.fail(name, json.dumps(result["errors"], ensure_ascii=False))
            return None
        data: dict[str, Any] = result["data"]
        for payload in data.values():
            if isinstance(payload, dict) and payload.get("errors"):
                self.recorder.refused([e["code"] for e in payload["errors"]], name)
        return data

    async def stripe_event(self, event: dict[str, Any]) -> None:
        """Deliver a signed Stripe event to the API, as Stripe does."""
        name = f"webhook:{event['type']}"
        self.recorder.requests[name] += 1
        started = time.monotonic()
        try:
            response = await self.stripe.deliver(event)
        except httpx.HTTPError as exc:
            self.recorder.fail(name, f"transport: {exc!r}")
            return
        finally:
            self.recorder.seconds[name] += time.monotonic() - started
        outcome = response.json().get("outcome") if response.status_code == 200 else None
        if outcome not in {"applied", "duplicate", "ignored"}:
            self.recorder.fail(name, f"HTTP {response.status_code}: {response.text}")

    async def carrier_scans(self, carrier: str, scans: list[dict[str, str]]) -> None:
        """POST signed scans to /webhooks/carrier/{carrier}."""
        name = "webhook:carrier"
        raw = json.dumps(scans).encode()
        headers = {"X-Signature": sign(raw, CARRIER_SECRETS[carrier])}
        response = await self._post(
            name, f"/webhooks/carrier/{carrier}", content=raw, headers=headers
        )
        if response is None:
            return
        if response.status_code not in {200, 422}:
            self.recorder.fail(name, f"HTTP {response.status_code}: {response.text}")
            return
        refused = [r for r in response.json()["results"] if r["outcome"] == "refused"]
        self.recorder.refused([r["code"] for r in refused], name)

    async def _post(self, name: str, path: str, **kwargs: Any) -> httpx.Response | None:
        self.recorder.requests[name] += 1
        started = time.monotonic()
        try:
            return await self.http.post(path, **kwargs)
        except httpx.HTTPError as exc:
            self.recorder.fail(name, f"transport: {exc!r}")
            return None
        finally:
            self.recorder.seconds[name] += time.monotonic() - started
