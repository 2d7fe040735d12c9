"""Rows 1b-1f and 2d-2f: trusted documents, the catalog without its shared answers, GET.

Measured beside rows 1-2 in the same run, each against the floor measured in the same
block (service and floor alternating): `Me` by trusted id and by a text no trusted
document matches (the ordinary path); `Catalog(first: 20)` with the shared answers off
(`CATALOG_CACHE_SECONDS=0`) by the client's text, by trusted id and as the ordinary path;
a member's `affordable` page (never shared); what a repeated catalog GET with the tag it
already holds gets (304s); and the bytes of a `Me` request by id and by text.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from api.auth import mint_token
from api.settings import DEV_JWT_SECRET
from benchmarks.http_rows import Series, _fetch, _measure, _warm
from benchmarks.servers import Server, serving
from benchmarks.sizes import Sizes
from benchmarks.workloads import CATALOG_FIRST, Scripts, adhoc, by_id, get_path, graphql, member
from models.actors import Role

NAMES = (
    "me_text",
    "me_id",
    "me_adhoc",
    "trusted_floor_me",
    "uncached_catalog_text",
    "uncached_catalog_id",
    "uncached_catalog_adhoc",
    "trusted_floor_catalog",
    "affordable_id",
    "affordable_text",
    "floor_affordable",
    "revalidated",
)
AFFORDABLE: dict[str, object] = {"first": CATALOG_FIRST, "filter": {"affordable": True}}


def _same(
    service: Server, floor: Server, body: dict[str, Any], path: str, token: str | None
) -> str:
    """'' if the service's answer to `body` is the floor's; else what differs."""
    mine = _fetch(service.url + "/graphql", body, token)
    floors = _fetch(floor.url + path, None, token)
    if mine.get("errors") or mine != floors:
        return f"{body.get('operationName')}: the floor's JSON differs: {json.dumps(mine)[:300]}"
    return ""


def _tag(service: Server, path: str) -> str:
    with urllib.request.urlopen(service.url + path, timeout=30) as answer:
        return str(answer.headers["ETag"])


def read_rows(
    database_url: str, sizes: Sizes, scripts: Scripts, logs: Path, repeat: int
) -> dict[str, Any]:
    found: dict[str, Any] = {k: Series() for k in NAMES}
    token = mint_token(DEV_JWT_SECRET, role=Role.MEMBER, subject=member(3))
    tokens = (str(scripts.token_file("readers")), "0")
    catalog: dict[str, object] = {"first": CATALOG_FIRST}
    catalog_get = get_path(by_id("Catalog", catalog))
    with (
        serving("service", database_url, logs) as service,
        serving("service", database_url, logs, {"CATALOG_CACHE_SECONDS": "0"}) as uncached,
        serving("floor", database_url, logs) as floor,
    ):
        for name, body, path, who in (
            ("me_id", by_id("Me"), "/me", token),
            ("me_adhoc", adhoc("Me"), "/me", token),
            ("uncached_catalog_id", by_id("Catalog", catalog), "/catalog?first=20", None),
            (
                "affordable_id",
                by_id("Catalog", AFFORDABLE),
                "/catalog?first=20&affordable=1",
                token,
            ),
        ):
            if differs := _same(uncached, floor, body, path, who):
                found[name].notes.append(differs)
        plan = [
            ("me_text", service, scripts.me("text"), tokens),
            ("me_id", service, scripts.me("id"), tokens),
            ("me_adhoc", service, scripts.me("adhoc"), tokens),
            ("trusted_floor_me", floor, scripts.floor_me(), tokens),
            ("uncached_catalog_text", uncached, scripts.catalog("text"), ()),
            ("uncached_catalog_id", uncached, scripts.catalog("id"), ()),
            ("uncached_catalog_adhoc", uncached, scripts.catalog("adhoc"), ()),
            ("trusted_floor_catalog", floor, scripts.floor_catalog(), ()),
            ("affordable_id", service, scripts.affordable("id"), tokens),
            ("affordable_text", service, scripts.affordable("text"), tokens),
            ("floor_affordable", floor, scripts.floor_affordable(), tokens),
            (
                "revalidated",
                service,
                scripts.revalidate(catalog_get, _tag(service, catalog_get)),
                (),
            ),
        ]
        for _, server, script, args in plan:
            _warm(script, server, sizes, 64, *args)
        for _ in range(repeat):
            for name, server, script, args in plan:
                outcome = _measure(script, server, sizes, connections=64, args=args)
                found[name].samples.append(outcome.rate)
                if name == "revalidated":
                    found["revalidated_share"] = outcome.ok / max(outcome.requests, 1)
                print(f"  {name}: {outcome.rate:,.0f}/s (p99 {outcome.p99_ms:.1f} ms)")
    found["me_bytes"] = {
        "id": len(json.dumps(by_id("Me"))),
        "text": len(json.dumps(graphql("Me"))),
    }
    return found
