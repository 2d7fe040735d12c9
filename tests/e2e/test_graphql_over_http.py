"""The GraphQL over HTTP spec's own audit (graphql-http's `auditServer`, by the spec's
editors) against the running server: every MUST and every SHOULD passes.

The MAY audits are the spec's options; the server takes them too (GET for queries, 400 for
parameters of the wrong type), and they are reported, not required.
"""

from __future__ import annotations

import json

from tests.support.js import node


async def test_every_must_and_should_of_the_spec_passes(server_url: str) -> None:
    lines = (await node("audit.mjs", f"{server_url}/graphql")).splitlines()
    results = [json.loads(line) for line in lines if line.startswith("{")]
    required = [r for r in results if r["name"].startswith(("MUST", "SHOULD"))]
    failed = [r for r in required if r["status"] != "ok"]
    assert len(required) >= 30, f"the audit ran {len(required)} MUST/SHOULD cases: {lines[:5]}"
    assert not failed, "\n".join(json.dumps(r, ensure_ascii=False) for r in failed)
    optional = [r for r in results if r["name"].startswith("MAY") and r["status"] != "ok"]
    assert not optional, f"MAY audits the server meant to take: {optional}"
