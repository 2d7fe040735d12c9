"""GraphQL fuzzing with schemathesis: operations for each root field, judged by their answers.

schemathesis (through hypothesis-graphql) writes the documents from the live schema: valid
ones (positive) and ones GraphQL must refuse (negative). Two things steer it where random
text would not reach:

- the custom scalars get hostile values: NaN, Infinity and 1e999 for `Decimal`; years 1 and
  9999, naive and far-offset times for `DateTime`; forged and foreign global ids for `ID`;
- string arguments named like our identifiers (`sku`, `orderNumber`, `warehouseCode`...) are
  often replaced by the world's real values, so a generated call gets past NOT_FOUND into
  the code behind it.

An answer passes when it is not a server error and every GraphQL error carries a code we
issue on purpose; `INTERNAL_SERVER_ERROR` is a failure (an exception nobody expected).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from random import Random
from typing import Any

import graphql
import httpx
import schemathesis
from graphql import ArgumentNode, IntValueNode, ObjectFieldNode, StringValueNode, Visitor, visit
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from api.documents import BAD_ID, HASH_MISMATCH, NOT_FOUND, NOT_TRUSTED
from schema.errors import BAD_USER_INPUT, PARSE_FAILED, VALIDATION_FAILED, ErrorCode
from tests.security.world import MEMBER_A, MEMBER_B, W1, W2, World

KNOWN_CODES = frozenset(
    {code.value for code in ErrorCode}
    | {"UNAUTHENTICATED", "FORBIDDEN", PARSE_FAILED, VALIDATION_FAILED, BAD_USER_INPUT}
    | {NOT_FOUND, NOT_TRUSTED, HASH_MISMATCH, BAD_ID}
)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


ODD_DECIMALS = ["NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "1e999", "-1e999", "1E-999999"]
ODD_DECIMALS += ["-0", "0", "0.001", "12.345", "99999999999999999999999999999999.99", "1e5", "abc"]
ODD_DATETIMES = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00Z"]
ODD_DATETIMES += ["9999-12-31T23:59:59.999999+00:00", "2026-02-30T00:00:00Z", "now", ""]
DECIMALS = st.one_of(
    st.sampled_from(ODD_DECIMALS),
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
).map(nodes.String)

ZONES = st.one_of(
    st.none(),
    st.just(UTC),
    st.timedeltas(min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23)).map(
        timezone
    ),
)
DATETIMES = st.one_of(
    st.datetimes(timezones=ZONES).map(datetime.isoformat),
    st.sampled_from(ODD_DATETIMES),
).map(nodes.String)
DATES = st.one_of(
    st.dates().map(date.isoformat),
    st.sampled_from(["0001-01-01", "9999-12-31", "2026-02-30", "20261301", ""]),
).map(nodes.String)


def global_ids(world: World) -> list[str]:
    """Real ids (mine and others'), and forgeries: unknown types, huge and negative rows."""
    forged = ["RedemptionOrder:99999999999999999999999", "RedemptionOrder:-1", "Nope:1"]
    forged += ["Member:1e3", "PointsEntry:", ":", "Query:1", "RedemptionOrder:1:2"]
    return [world.order_a_gid, world.member_a_gid, world.entry_a_gid, "@@", ""] + [
        _b64(text) for text in forged
    ]


def register_scalars(world: World) -> None:
    """Strategies for the custom scalars (global in schemathesis: set once per run)."""
    schemathesis.graphql.scalar("Decimal", DECIMALS)
    schemathesis.graphql.scalar("DateTime", DATETIMES)
    schemathesis.graphql.scalar("Date", DATES)
    schemathesis.graphql.scalar("ID", st.sampled_from(global_ids(world)).map(nodes.String))


def known_values(world: World) -> dict[str, list[str]]:
    """Argument and input field names, with the world's values for them."""
    orders = [world.order_a, world.spare_a, world.order_b, "PM-NOPE"]
    return {
        "sku": ["HM-MUG", "EL-PB10K", "EL-BUDS", "HM-TOWEL", "EL-OLD"],
        "orderNumber": orders,
        "number": orders,
        "warehouseCode": [W1, W2, "sh01"],
        "code": [W1, W2],
        "externalId": [MEMBER_A, MEMBER_B],
        "memberExternalId": [MEMBER_A, MEMBER_B],
        "carrier": ["SF", "YTO", "ems"],
        "trackingNumber": ["SECA0001", "FZ-1"],
        "categorySlug": ["electronics", "home"],
        "slug": ["electronics", "home"],
        "currency": ["CNY", "USD"],
        "idempotencyKey": ["fz-1", "fz-2"],
        "externalRef": ["fz-ref-1", "fz-ref-2"],
        "timezone": ["Asia/Shanghai", "Europe/London", "Mars/Olympus"],
    }


HOSTILE_TEXT = ["a\x00b", "HM-MUG\x00", "x" * 300, "' OR '1'='1", "%_%", "\\", "\u202e", "🙂", " "]
HOSTILE_INTS = [0, -1, 101, 2**31 - 1, -(2**31)]


def plant(document: str, values: Mapping[str, Sequence[str]], random: Random) -> str:
    """The document with some arguments replaced: strings named in `values` by one of those
    (often), any string by hostile text and any integer by an extreme (sometimes)."""
    tree = graphql.parse(document)

    class Plant(Visitor):
        def enter_argument(self, node: ArgumentNode, *_: object) -> ArgumentNode | None:
            return _replaced(node, values, random)

        def enter_object_field(self, node: ObjectFieldNode, *_: object) -> ObjectFieldNode | None:
            return _replaced(node, values, random)

    return graphql.print_ast(visit(tree, Plant()))


def _replaced(node: Any, values: Mapping[str, Sequence[str]], random: Random) -> Any:
    value, roll = node.value, random.random()
    if isinstance(value, StringValueNode):
        known = values.get(node.name.value)
        if known and roll < 0.5:
            value = StringValueNode(value=random.choice(known))
        elif roll > 0.7:
            value = StringValueNode(value=random.choice(HOSTILE_TEXT))
    elif isinstance(value, IntValueNode) and roll > 0.7:
        value = IntValueNode(value=str(random.choice(HOSTILE_INTS)))
    return None if value is node.value else node.__class__(name=node.name, value=value)


@dataclass
class Findings:
    """What the fuzzer saw go wrong, one example per kind of failure."""

    examples: dict[str, str] = field(default_factory=dict)
    sent: int = 0
    tried: set[str] = field(default_factory=set)

    def check(self, label: str, document: str, response: httpx.Response) -> None:
        self.sent += 1
        self.tried.add(label)
        for kind, detail in problems(response):
            self.examples.setdefault(f"{label}: {kind}", f"{detail}\n{document}")

    def refused(self, label: str, document: str, response: httpx.Response, code: str) -> None:
        """A failure unless the answer refused the document with `code`."""
        try:
            codes = [(e.get("extensions") or {}).get("code") for e in response.json()["errors"]]
        except (json.JSONDecodeError, KeyError, TypeError):
            codes = []
        if codes != [code] and response.status_code < 500:
            self.examples.setdefault(f"{label}: not refused with {code}", document)

    def merge(self, other: Findings) -> None:
        self.sent += other.sent
        self.tried |= other.tried
        for kind, example in other.examples.items():
            self.examples.setdefault(kind, example)

    def report(self) -> str:
        return "\n\n".join(f"{kind}\n{doc[:800]}" for kind, doc in sorted(self.examples.items()))


def problems(response: httpx.Response) -> list[tuple[str, str]]:
    """Why an answer fails, as (kind, detail): a 5xx, a body that is not JSON, an error
    without one of our codes."""
    if response.status_code >= 500:
        return [(f"HTTP {response.status_code}", response.text[:300])]
    if response.status_code != 200:
        return []  # refused as HTTP (400 for a subscription over POST, 413 too big)
    try:
        body = response.json()
    except json.JSONDecodeError:
        return [("not JSON", response.text[:300])]
    found = []
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code not in KNOWN_CODES:
            path = ".".join(str(p) for p in error.get("path") or [])
            found.append((f"code {code} at {path or '-'}", str(error.get("message"))[:300]))
    return found
