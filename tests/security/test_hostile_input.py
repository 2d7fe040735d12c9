"""What the fuzzer and its hand-written cousins found: each answered with a stable code now.

Every case here used to end as a 500 or an `INTERNAL_SERVER_ERROR` (an exception nobody
expected); each is now a clear refusal: a GraphQL error with a code, a payload error, a null
for something that cannot exist, or a 400 for a body that is not a GraphQL request.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
import strawberry

from models.actors import Actor, Role
from schema.errors import ErrorPolicy, client_error
from tests.security.world import W1, build_world
from tests.support.fulfilment import subscribe
from tests.support.graphql import GraphQLClient, Result, admin_token, member_token, staff_token

ADMIN, MEMBER, STAFF = admin_token(), member_token("SEC-A"), staff_token(W1)
LONG = "x" * 300


def cursor(values: list[Any]) -> str:
    raw = json.dumps(values).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def codes(result: Result) -> list[str | None]:
    assert result.status == 200, result.body
    return result.error_codes


def payload_codes(result: Result, field: str) -> list[tuple[str, str | None]]:
    payload = result.data[field]
    return [(e["code"], e.get("field")) for e in payload["errors"]]


@pytest.mark.parametrize(
    "after",
    [
        cursor([10**30]),  # past 64 bits: neither database can take it
        cursor([1.5]),
        cursor(["abc"]),  # text where the id goes
        cursor([True]),
        cursor([None]),
        "%%%",
        base64.urlsafe_b64encode(b"[" * 50_000 + b"]" * 50_000).decode(),  # nested too deep
    ],
)
async def test_a_forged_cursor_is_invalid_input(api: GraphQLClient, after: str) -> None:
    await build_world(api)
    queries = [
        ("query($a: String) { gifts(first: 5, after: $a) { totalCount } }", None),
        ("query($a: String) { me { orders(first: 5, after: $a) { totalCount } } }", MEMBER),
        ("query($a: String) { me { pointsHistory(first: 5, after: $a) { totalCount } } }", MEMBER),
        ("query($a: String) { me { notifications(first: 5, after: $a) { totalCount } } }", MEMBER),
        ("query($a: String) { smsDeliveries(first: 5, after: $a) { totalCount } }", ADMIN),
    ]
    for query, auth in queries:
        assert codes(await api.query(query, {"a": after}, auth=auth)) == ["INVALID_INPUT"], query


@pytest.mark.parametrize(
    "after",
    [
        cursor(["x" * 201, 1]),  # longer than any gift name
        cursor([5, 1]),
        cursor(["Mug", 10**30]),
    ],
)
async def test_a_forged_cursor_of_the_name_order_is_invalid_input(
    api: GraphQLClient, after: str
) -> None:
    query = "query($a: String) { gifts(first: 5, sortBy: NAME, after: $a) { totalCount } }"
    assert codes(await api.query(query, {"a": after})) == ["INVALID_INPUT"]


@pytest.mark.parametrize(
    "values",
    [
        ["9999-12-31T23:59:59-05:00", 1],  # cannot be converted to UTC
        ["2026-01-01T00:00:00", 1],  # no zone
        ["not a time", 1],
        ["2026-01-01T00:00:00+00:00", 10**30],
        [1, 1],
    ],
)
async def test_a_forged_work_queue_cursor_is_invalid_input(
    api: GraphQLClient, values: list[Any]
) -> None:
    await build_world(api)
    query = (
        'query($a: String) { fulfilmentQueue(warehouseCode: "SH01", first: 5, after: $a) {'
        " totalCount } }"
    )
    assert codes(await api.query(query, {"a": cursor(values)}, auth=STAFF)) == ["INVALID_INPUT"]


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00Z"]
)
async def test_times_at_the_ends_of_the_calendar_are_invalid_input(
    api: GraphQLClient, moment: str
) -> None:
    await build_world(api)
    sla = (
        'query($t: DateTime!) { slaReport(from: $t, to: "2030-01-01T00:00:00Z") {'
        " ordersConfirmed } }"
    )
    assert codes(await api.query(sla, {"t": moment}, auth=ADMIN)) == ["INVALID_INPUT"]
    award = (
        'mutation($t: DateTime) { awardPoints(input: {memberExternalId: "SEC-A", amount: 5,'
        ' externalRef: "edge", expiresAt: $t}) { errors { code field } } }'
    )
    result = await api.query(award, {"t": moment}, auth=ADMIN)
    assert payload_codes(result, "awardPoints") == [("INVALID_INPUT", "expiresAt")]
    scan = (
        'mutation($t: DateTime!) { recordTrackingEvent(input: {carrier: "SF",'
        ' trackingNumber: "SECA0001", status: IN_TRANSIT, occurredAt: $t}) { errors { code } } }'
    )
    result = await api.query(scan, {"t": moment}, auth=ADMIN)
    assert [code for code, _ in payload_codes(result, "recordTrackingEvent")] in (
        ["INVALID_INPUT"],
        ["NOT_FOUND"],  # the date is checked first; either way, nothing unexpected
    )
    sms = (
        'query($t: DateTime!) { smsDeliveryReport(since: $t, until: "2030-01-01T00:00:00Z") {'
        " written } }"
    )
    assert codes(await api.query(sms, {"t": moment}, auth=ADMIN)) == ["INVALID_INPUT"]
    window = "query($t: DateTime) { smsDeliveries(first: 1, filter: {until: $t}) { totalCount } }"
    assert codes(await api.query(window, {"t": moment}, auth=ADMIN)) == ["INVALID_INPUT"]


@pytest.mark.parametrize(
    ("query", "auth"),
    [
        ('{ gift(sku: "HM-MUG\\u0000") { sku } }', None),
        ('{ order(number: "a\\u0000b") { number } }', MEMBER),
        ('{ member(externalId: "SEC-A\\u0000") { externalId } }', ADMIN),
        ('{ gifts(first: 1, filter: {search: "\\u0000"}) { totalCount } }', None),
        ('{ fulfilmentQueue(warehouseCode: "SH01\\u0000", first: 1) { totalCount } }', STAFF),
    ],
)
async def test_text_with_a_nul_character_is_invalid_input(
    api: GraphQLClient, query: str, auth: str | None
) -> None:
    assert codes(await api.query(query, auth=auth)) == ["INVALID_INPUT"]


async def test_a_nul_character_in_a_variable_is_invalid_input(api: GraphQLClient) -> None:
    query = "query($f: GiftFilter) { gifts(first: 1, filter: $f) { totalCount } }"
    nested = {"f": {"categorySlug": "home", "search": "mug\x00"}}
    assert codes(await api.query(query, nested)) == ["INVALID_INPUT"]


@pytest.mark.parametrize("row", ["²", "٣", "1²", "-1", " 1", "1e3", "9" * 30])
async def test_a_global_id_whose_row_part_is_no_plain_number_names_nothing(
    api: GraphQLClient, row: str
) -> None:
    """`"²".isdigit()` is true, yet `int("²")` fails: such an id used to end as a 500."""
    await build_world(api)
    query = "query($id: ID!) { node(id: $id) { id } }"
    for type_name in ("Member", "RedemptionOrder", "PointsEntry", "Gift", "Notification"):
        node_id = base64.b64encode(f"{type_name}:{row}".encode()).decode()
        assert (await api.query(query, {"id": node_id}, auth=ADMIN)).data == {"node": None}


async def test_lookups_longer_than_any_stored_key_find_nothing(api: GraphQLClient) -> None:
    await build_world(api)
    assert (await api.query(f'{{ gift(sku: "{LONG}") {{ sku }} }}')).data == {"gift": None}
    order = f'{{ order(number: "{LONG}") {{ number }} }}'
    assert (await api.query(order, auth=MEMBER)).data == {"order": None}
    member = f'{{ member(externalId: "{LONG}") {{ externalId }} }}'
    assert (await api.query(member, auth=ADMIN)).data == {"member": None}
    queue = f'{{ fulfilmentQueue(warehouseCode: "{LONG}", first: 1) {{ totalCount }} }}'
    assert codes(await api.query(queue, auth=ADMIN)) == ["NOT_FOUND"]
    sla = (
        f'{{ slaReport(from: "2026-01-01T00:00:00Z", to: "2027-01-01T00:00:00Z",'
        f' warehouseCode: "{LONG}") {{ ordersConfirmed }} }}'
    )
    assert codes(await api.query(sla, auth=ADMIN)) == ["NOT_FOUND"]
    slug = f'{{ gifts(first: 1, filter: {{categorySlug: "{LONG}"}}) {{ totalCount }} }}'
    assert codes(await api.query(slug)) == ["INVALID_INPUT"]


async def test_mutations_naming_something_too_long_to_exist_answer_not_found(
    api: GraphQLClient,
) -> None:
    await build_world(api)
    cancel = f'mutation {{ cancelOrder(input: {{orderNumber: "{LONG}"}}) {{ errors {{ code }} }} }}'
    assert payload_codes(await api.query(cancel, auth=MEMBER), "cancelOrder")[0][0] == "NOT_FOUND"
    pick = f'mutation {{ startPicking(input: {{orderNumber: "{LONG}"}}) {{ errors {{ code }} }} }}'
    assert payload_codes(await api.query(pick, auth=STAFF), "startPicking")[0][0] == "NOT_FOUND"
    stock = (
        f'mutation {{ adjustStock(input: {{sku: "HM-MUG", warehouseCode: "{LONG}", delta: 1}})'
        " { errors { code field } } }"
    )
    result = await api.query(stock, auth=ADMIN)
    assert payload_codes(result, "adjustStock") == [("NOT_FOUND", "warehouseCode")]
    gift = (
        f'mutation {{ upsertGift(input: {{sku: "SEC-LONG", name: "n", categorySlug: "{LONG}",'
        " pointsPrice: 10}) { errors { code field } } }"
    )
    result = await api.query(gift, auth=ADMIN)
    assert payload_codes(result, "upsertGift") == [("NOT_FOUND", "categorySlug")]


@pytest.mark.parametrize("zone", ["Asia", LONG, "Mars/Olympus", "../../etc/passwd", ""])
async def test_a_warehouse_time_zone_that_is_not_one_is_invalid_input(
    api: GraphQLClient, zone: str
) -> None:
    upsert = (
        'mutation($z: String!) { upsertWarehouse(input: {code: "TZ1", name: "t",'
        " dailyCapacity: 5, timezone: $z}) { warehouse { timezone } errors { code field } } }"
    )
    result = await api.query(upsert, {"z": zone}, auth=ADMIN)
    assert payload_codes(result, "upsertWarehouse") == [("INVALID_INPUT", "timezone")]


async def test_a_warehouse_time_zone_is_stored_trimmed(api: GraphQLClient) -> None:
    upsert = (
        'mutation { upsertWarehouse(input: {code: "TZ2", name: "t", dailyCapacity: 5,'
        ' timezone: " UTC "}) { warehouse { timezone } errors { code } } }'
    )
    payload = (await api.query(upsert, auth=ADMIN)).data["upsertWarehouse"]
    assert payload == {"warehouse": {"timezone": "UTC"}, "errors": []}


@pytest.mark.parametrize(
    "amount", ["NaN", "sNaN", "Infinity", "-Infinity", "1e999", "-0", "0.001", "1E-999999"]
)
async def test_odd_decimals_are_invalid_input(api: GraphQLClient, amount: str) -> None:
    await build_world(api)
    upsert = (
        'mutation($a: Decimal!) { upsertGift(input: {sku: "SEC-CASH", name: "c",'
        ' categorySlug: "home", pointsPrice: 10, cashPrice: {amount: $a}}) {'
        " errors { code field } } }"
    )
    result = await api.query(upsert, {"a": amount}, auth=ADMIN)
    assert payload_codes(result, "upsertGift") == [("INVALID_INPUT", "cashPrice.amount")]


async def test_extreme_integers_are_refused_with_a_code(api: GraphQLClient) -> None:
    await build_world(api)
    assert codes(await api.query("{ gifts(first: 2147483647) { totalCount } }")) == [
        "INVALID_INPUT"
    ]
    expiring = "{ me { points { expiring(withinDays: 2147483647) { amount } } } }"
    assert codes(await api.query(expiring, auth=MEMBER)) == ["INVALID_INPUT"]
    too_big = "query($f: Int!) { gifts(first: $f) { totalCount } }"
    assert codes(await api.query(too_big, {"f": 2**40})) == ["BAD_USER_INPUT"]
    assert codes(await api.query("{ gifts(first: 99999999999) { totalCount } }")) == [
        "GRAPHQL_VALIDATION_FAILED"
    ]


async def test_requests_graphql_refuses_carry_a_code(api: GraphQLClient) -> None:
    assert codes(await api.query("{ categories {")) == ["GRAPHQL_PARSE_FAILED"]
    assert codes(await api.query("{ nope }")) == ["GRAPHQL_VALIDATION_FAILED"]
    typed = "query($f: Int!) { gifts(first: $f) { totalCount } }"
    assert codes(await api.query(typed, {"f": "ten"})) == ["BAD_USER_INPUT"]
    assert codes(await api.query(typed, {})) == ["BAD_USER_INPUT"]
    many = "{ " + " ".join(f"a{i}: categories {{ slug }}" for i in range(800)) + " }"
    assert codes(await api.query(many)) == ["GRAPHQL_PARSE_FAILED"]  # over the token limit


async def test_a_subscription_posted_over_http_is_a_400(api: GraphQLClient) -> None:
    response = await api.http.post(
        "/graphql",
        json={"query": 'subscription { orderUpdated(number: "x") { number } }'},
        headers={"Authorization": f"Bearer {MEMBER}"},
    )
    assert response.status_code == 400
    assert "subscriptions are not allowed" in response.text


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # deeper than the JSON parser recurses
        b'{"query": "{ categories { slug } }", "variables": {"a": '
        + b'{"b": ' * 50_000
        + b"1"
        + b"}" * 50_000
        + b"}}",
        b'{"query": "{ categories { slug } }\xff"}',  # not UTF-8
    ],
)
async def test_a_body_that_is_not_a_json_document_is_a_400(api: GraphQLClient, body: bytes) -> None:
    response = await api.http.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ('subscription { orderUpdated(number: "a\\u0000") { number } }', {}, "INVALID_INPUT"),
        (
            "subscription($n: String!) { orderUpdated(number: $n) { number } }",
            {"n": "PM\x00"},
            "INVALID_INPUT",
        ),
        (f'subscription {{ orderUpdated(number: "{LONG}") {{ number }} }}', {}, "NOT_FOUND"),
        (
            f'subscription {{ fulfilmentAlerts(warehouseCode: "{LONG}") {{ kind }} }}',
            {},
            "NOT_FOUND",
        ),
    ],
)
async def test_hostile_subscription_arguments_end_the_stream_with_a_code(
    api: GraphQLClient, query: str, variables: dict[str, Any], code: str
) -> None:
    results = [r async for r in subscribe(query, variables, Actor(Role.ADMIN, "admin-1"))]
    assert [[e.extensions["code"] for e in r.errors or []] for r in results] == [[code]]


@strawberry.type
class _Query:
    @strawberry.field
    def huge(self) -> int:
        return 2**40  # what a balance past 2,147,483,647 points would be for `Int`

    @strawberry.field
    def forbidden(self) -> int:
        raise client_error("Forbidden.", "FORBIDDEN")


async def test_a_value_graphql_cannot_represent_is_masked_with_an_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    schema = strawberry.Schema(query=_Query, extensions=[ErrorPolicy])
    with caplog.at_level(logging.ERROR, logger="pointsmall.graphql"):
        result = await schema.execute("{ huge }")
    assert result.errors is not None
    extensions = result.errors[0].extensions or {}
    assert extensions["code"] == "INTERNAL_SERVER_ERROR"
    assert extensions["errorId"] in caplog.text
    assert "1099511627776" not in result.errors[0].message
    forbidden = await schema.execute("{ forbidden }")
    assert forbidden.errors is not None
    assert forbidden.errors[0].extensions == {"code": "FORBIDDEN"}, "coded errors stay as they are"
