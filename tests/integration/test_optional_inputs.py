"""Optional inputs take null, and null means what leaving the field out means.

Apollo's forms, and Saleor's and Shopify's address and product inputs, send `null` for an
optional field left empty: every such field of the schema is sent as null here, through
the client operations, and the answer shows the value an absent field gets.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from graphql import GraphQLInputObjectType, is_non_null_type

from schema.root import build_schema
from tests.support.catalog import ADDRESS, small_mall
from tests.support.fulfilment import place, shipped
from tests.support.graphql import GraphQLClient, admin_token, member_token, staff_token, token
from tests.support.members import member_with_points

MEMBER = "C-NULL"
TRACKING = "SF20261124"
GIFT = {
    "sku": "HM-CUP",
    "name": "Cup",
    "description": "A cup",
    "imageUrl": "https://img.example.com/cup.jpg",
    "categorySlug": "home",
    "pointsPrice": 500,
    "cashPrice": {"amount": "9.90", "currency": "CNY"},
    "limitPerMember": None,
    "active": True,
    "kind": "PHYSICAL",
    "partner": "",
    "instructions": "",
}
TOP_UP = {
    **GIFT,
    "sku": "TU-CUP",
    "kind": "TOP_UP",
    "cashPrice": None,
    "topUpProduct": "DATA",
    "faceValue": 1024,
    "dailyBudget": 10_240,
}
WAREHOUSE = {
    "code": "HZ01",
    "name": "Hangzhou",
    "dailyCapacity": 10,
    "timezone": "Asia/Shanghai",
    "closedDates": ["2027-01-01"],
}
EXPIRING = """
query Expiring($withinDays: Int) {
  me { points { expiring(withinDays: $withinDays) { amount } } }
}
"""


async def mall(api: GraphQLClient) -> dict[str, str]:
    await small_mall(api)
    await member_with_points(MEMBER, 100_000)
    return {}


async def placed(api: GraphQLClient) -> dict[str, str]:
    await mall(api)
    return {"number": (await place(MEMBER, "null-1", ("HM-MUG", 1))).number}


async def shipped_order(api: GraphQLClient) -> dict[str, str]:
    found = await placed(api)
    await shipped(found["number"], TRACKING)
    return found


@dataclass(frozen=True)
class Case:
    operation: str  # a client operation, or a document
    null: str  # the path of the field sent as null
    variables: Callable[[dict[str, str]], dict[str, Any]]
    auth: Callable[[], str]
    shows: tuple[str, object] | None = None  # a path of the answer, and what it holds
    setup: Callable[[GraphQLClient], Awaitable[dict[str, str]]] = mall


def gift(_: dict[str, str]) -> dict[str, Any]:
    return {"input": GIFT}


def top_up(_: dict[str, str]) -> dict[str, Any]:
    return {"input": TOP_UP}


def warehouse(_: dict[str, str]) -> dict[str, Any]:
    return {"input": WAREHOUSE}


def stock(_: dict[str, str]) -> dict[str, Any]:
    return {"input": {"sku": "HM-MUG", "warehouseCode": "SH01", "delta": 1, "reason": "r"}}


def member(_: dict[str, str]) -> dict[str, Any]:
    contact = {"mobile": "13800138000", "language": "en", "optOuts": ["POINTS_EXPIRING"]}
    return {"input": {"externalId": MEMBER, "displayName": "王芳", "tier": "GOLD", **contact}}


def preferences(_: dict[str, str]) -> dict[str, Any]:
    return {"input": {"language": "en", "optOuts": ["QUESTION"]}}


def mark_all(_: dict[str, str]) -> dict[str, Any]:
    return {"input": {"ids": None, "all": True}}


def mark_ids(_: dict[str, str]) -> dict[str, Any]:
    return {"input": {"ids": [], "all": False}}


def deliveries(_: dict[str, str]) -> dict[str, Any]:
    wanted = {"memberExternalId": MEMBER, "kind": "ORDER_CONFIRMED", "status": "PENDING"}
    window = {"since": "2026-01-01T00:00:00Z", "until": "2036-01-01T00:00:00Z"}
    return {"first": 5, "filter": {**wanted, **window}}


def award(_: dict[str, str]) -> dict[str, Any]:
    ref = {"memberExternalId": MEMBER, "amount": 5, "externalRef": "null:award"}
    return {"input": {**ref, "reason": "bill", "expiresAt": None}}


def redeem(_: dict[str, str]) -> dict[str, Any]:
    lines = [{"sku": "HM-MUG", "quantity": 1}]
    return {"input": {"idempotencyKey": "null-r", "lines": lines, "shippingAddress": ADDRESS}}


def cancel(world: dict[str, str]) -> dict[str, Any]:
    return {"input": {"orderNumber": world["number"], "reason": "changed my mind"}}


def scan(_: dict[str, str]) -> dict[str, Any]:
    event = {"carrier": "SF", "trackingNumber": TRACKING, "status": "IN_TRANSIT"}
    at = datetime.now(UTC).isoformat()
    return {"input": {**event, "occurredAt": at, "location": "杭州", "description": "到达"}}


def expiring(_: dict[str, str]) -> dict[str, Any]:
    return {"withinDays": 30}


QUEUE_FILTER = {
    "first": 5,
    "filter": {
        "category": ["DAMAGED"],
        "state": ["NEW"],
        "atRisk": False,
        "breached": False,
        "assignee": "",
        "attention": False,
    },
}


def catalog(_: dict[str, str]) -> dict[str, Any]:
    wanted = {"categorySlug": "home", "search": "mug", "minPoints": 1, "maxPoints": 90_000}
    chosen = {"inStock": True, "affordable": True, "kind": "PHYSICAL"}
    return {"first": 5, "filter": {**wanted, **chosen}}


async def ticketed(api: GraphQLClient) -> dict[str, str]:
    """A delivered order of the member, a ticket about it, and a resolved ticket."""
    from models.aftersales import replies
    from tests.support.aftersales import AGENT as DESK
    from tests.support.aftersales import POLICY, delivered, opened

    await mall(api)
    order = await delivered(MEMBER, "null-t", "HM-MUG", "SFNULL0001")
    now = datetime.now(UTC)
    ticket = await opened(MEMBER, at=now, order_number=order.number)
    done = await opened(MEMBER, "答复了", at=now)
    await replies.resolve(actor=DESK, number=done.number, summary="ok", now=now, policy=POLICY)
    return {"number": order.number, "ticket": ticket.number, "resolved": done.number}


def open_ticket(_: dict[str, str]) -> dict[str, Any]:
    return {
        "input": {
            "category": "QUESTION",
            "text": "问题",
            "orderNumber": None,
            "photoUrls": ["https://img.example.com/a.jpg"],
            "idempotencyKey": "null-open",
        }
    }


def message(world: dict[str, str]) -> dict[str, Any]:
    return {"input": {"number": world["ticket"], "text": "more", "photoUrls": []}}


def rate_ticket(world: dict[str, str]) -> dict[str, Any]:
    return {"input": {"ticketNumber": world["resolved"], "orderNumber": None, "rating": 4}}


def rate_order(world: dict[str, str]) -> dict[str, Any]:
    return {"input": {"ticketNumber": None, "orderNumber": world["number"], "rating": 4}}


def caller(world: dict[str, str]) -> dict[str, Any]:
    call = {"category": "QUESTION", "text": "来电", "callOutcome": "answered"}
    return {"input": {"memberExternalId": MEMBER, "orderNumber": world["number"], **call}}


def call(world: dict[str, str]) -> dict[str, Any]:
    return {"input": {"number": world["ticket"], "outcome": "called", "notes": "said hello"}}


def refund(world: dict[str, str]) -> dict[str, Any]:
    lines = [{"sku": "HM-MUG", "quantity": 1}]
    return {"input": {"number": world["ticket"], "idempotencyKey": "null-refund", "lines": lines}}


def replace(world: dict[str, str]) -> dict[str, Any]:
    lines = [{"sku": "HM-MUG", "quantity": 1}]
    return {"input": {"number": world["ticket"], "idempotencyKey": "null-x", "lines": lines}}


def goodwill(world: dict[str, str]) -> dict[str, Any]:
    credit = {"points": 10, "reason": "sorry", "requestApproval": False}
    return {"input": {"number": world["ticket"], "idempotencyKey": "null-g", **credit}}


ADMIN, OWNER, STAFF = admin_token, lambda: member_token(MEMBER), lambda: staff_token("SH01")
DESK_TOKEN = lambda: token("agent", "agent-null")  # noqa: E731
CASES = {
    "GiftInput.description": Case("UpsertGift", "input.description", gift, ADMIN),
    "GiftInput.imageUrl": Case("UpsertGift", "input.imageUrl", gift, ADMIN),
    "GiftInput.cashPrice": Case(
        "UpsertGift", "input.cashPrice", gift, ADMIN, ("gift.cashPrice", None)
    ),
    "GiftInput.limitPerMember": Case("UpsertGift", "input.limitPerMember", gift, ADMIN),
    "GiftInput.active": Case("UpsertGift", "input.active", gift, ADMIN, ("gift.active", True)),
    "GiftInput.kind": Case("UpsertGift", "input.kind", gift, ADMIN, ("gift.kind", "PHYSICAL")),
    "GiftInput.partner": Case("UpsertGift", "input.partner", gift, ADMIN, ("gift.partner", None)),
    "GiftInput.instructions": Case(
        "UpsertGift", "input.instructions", gift, ADMIN, ("gift.instructions", None)
    ),
    "GiftInput.topUpProduct": Case(
        "UpsertGift", "input.topUpProduct", top_up, ADMIN, ("gift.topUp.product", "CREDIT")
    ),
    "GiftInput.faceValue": Case("UpsertGift", "input.faceValue", gift, ADMIN, ("gift.topUp", None)),
    "GiftInput.dailyBudget": Case(
        "UpsertGift", "input.dailyBudget", top_up, ADMIN, ("gift.topUp.faceValue", 1024)
    ),
    "MoneyInput.currency": Case(
        "UpsertGift", "input.cashPrice.currency", gift, ADMIN, ("gift.cashPrice.currency", "CNY")
    ),
    "WarehouseInput.timezone": Case(
        "UpsertWarehouse",
        "input.timezone",
        warehouse,
        ADMIN,
        ("warehouse.timezone", "Asia/Shanghai"),
    ),
    "WarehouseInput.closedDates": Case(
        "UpsertWarehouse", "input.closedDates", warehouse, ADMIN, ("warehouse.closedDates", [])
    ),
    "AdjustStockInput.reason": Case("AdjustStock", "input.reason", stock, ADMIN),
    "MemberInput.displayName": Case(
        "UpsertMember", "input.displayName", member, ADMIN, ("member.displayName", "")
    ),
    "MemberInput.tier": Case(
        "UpsertMember", "input.tier", member, ADMIN, ("member.tier", "STANDARD")
    ),
    "MemberInput.mobile": Case(
        "UpsertMember", "input.mobile", member, ADMIN, ("member.mobile", None)
    ),
    "MemberInput.language": Case(
        "UpsertMember", "input.language", member, ADMIN, ("member.language", "zh-CN")
    ),
    "MemberInput.optOuts": Case(
        "UpsertMember", "input.optOuts", member, ADMIN, ("member.optOuts", [])
    ),
    "NotificationPreferencesInput.language": Case(
        "SetNotificationPreferences",
        "input.language",
        preferences,
        OWNER,
        ("member.language", "zh-CN"),  # unchanged: the default of a new member
    ),
    "NotificationPreferencesInput.optOuts": Case(
        "SetNotificationPreferences", "input.optOuts", preferences, OWNER, ("member.optOuts", [])
    ),
    "MarkNotificationsReadInput.ids": Case(
        "MarkNotificationsRead", "input.ids", mark_all, OWNER, ("marked", 0)
    ),
    "MarkNotificationsReadInput.all": Case(
        "MarkNotificationsRead", "input.all", mark_ids, OWNER, ("marked", 0)
    ),
    **{
        f"SmsDeliveryFilter.{name}": Case(
            "SmsDeliveries", f"filter.{name}", deliveries, ADMIN, None, placed
        )
        for name in ("memberExternalId", "kind", "status", "since", "until")
    },
    "AwardPointsInput.reason": Case(
        "AwardPoints", "input.reason", award, ADMIN, ("entry.reason", "")
    ),
    "AwardPointsInput.expiresAt": Case("AwardPoints", "input.expiresAt", award, ADMIN),
    "ShippingAddressInput.district": Case(
        "Redeem",
        "input.shippingAddress.district",
        redeem,
        OWNER,
        ("order.shippingAddress.district", ""),
    ),
    "ShippingAddressInput.line2": Case(
        "Redeem", "input.shippingAddress.line2", redeem, OWNER, ("order.shippingAddress.line2", "")
    ),
    "ShippingAddressInput.postalCode": Case(
        "Redeem",
        "input.shippingAddress.postalCode",
        redeem,
        OWNER,
        ("order.shippingAddress.postalCode", ""),
    ),
    "CancelOrderInput.reason": Case(
        "CancelOrder", "input.reason", cancel, OWNER, ("order.status", "CANCELLED"), placed
    ),
    "TrackingEventInput.location": Case(
        "RecordTrackingEvent",
        "input.location",
        scan,
        STAFF,
        ("shipment.events.0.location", ""),
        shipped_order,
    ),
    "TrackingEventInput.description": Case(
        "RecordTrackingEvent",
        "input.description",
        scan,
        STAFF,
        ("shipment.events.0.description", ""),
        shipped_order,
    ),
    "PointsSummary.expiring(withinDays)": Case(EXPIRING, "withinDays", expiring, OWNER),
    **{
        f"GiftFilter.{name}": Case("Catalog", f"filter.{name}", catalog, OWNER)
        for name in (
            "categorySlug",
            "search",
            "minPoints",
            "maxPoints",
            "inStock",
            "affordable",
            "kind",
        )
    },
    "OpenTicketInput.orderNumber": Case(
        "OpenTicket", "input.orderNumber", open_ticket, OWNER, ("ticket.order", None), ticketed
    ),
    "OpenTicketInput.photoUrls": Case(
        "OpenTicket", "input.photoUrls", open_ticket, OWNER, ("ticket.state", "NEW"), ticketed
    ),
    "OpenTicketInput.idempotencyKey": Case(
        "OpenTicket", "input.idempotencyKey", open_ticket, OWNER, ("ticket.state", "NEW"), ticketed
    ),
    "AddTicketMessageInput.photoUrls": Case(
        "AddTicketMessage", "input.photoUrls", message, OWNER, ("ticket.state", "NEW"), ticketed
    ),
    "RateServiceInput.ticketNumber": Case(
        "RateService", "input.ticketNumber", rate_order, OWNER, ("survey.rating", 4), ticketed
    ),
    "RateServiceInput.orderNumber": Case(
        "RateService", "input.orderNumber", rate_ticket, OWNER, ("survey.rating", 4), ticketed
    ),
    "OpenTicketForCallerInput.orderNumber": Case(
        "OpenTicketForCaller",
        "input.orderNumber",
        caller,
        DESK_TOKEN,
        ("ticket.state", "OPEN"),
        ticketed,
    ),
    "LogTicketCallInput.notes": Case(
        "LogTicketCall", "input.notes", call, DESK_TOKEN, ("ticket.state", "OPEN"), ticketed
    ),
    "RefundOrderPointsInput.lines": Case(
        "RefundOrderPoints",
        "input.lines",
        refund,
        DESK_TOKEN,
        ("resolution.points", 7_800),  # every line: the whole order
        ticketed,
    ),
    "SendReplacementInput.lines": Case(
        "SendReplacement",
        "input.lines",
        replace,
        DESK_TOKEN,
        ("resolution.status", "DONE"),
        ticketed,
    ),
    "CreditGoodwillInput.requestApproval": Case(
        "CreditGoodwill",
        "input.requestApproval",
        goodwill,
        DESK_TOKEN,
        ("resolution.status", "DONE"),
        ticketed,
    ),
    **{
        f"TicketQueueFilter.{name}": Case(
            "TicketQueue", f"filter.{name}", lambda _: QUEUE_FILTER, DESK_TOKEN, None, ticketed
        )
        for name in ("category", "state", "atRisk", "breached", "assignee", "attention")
    },
}


def with_null(variables: dict[str, Any], path: str) -> dict[str, Any]:
    changed = deepcopy(variables)
    *parents, last = path.split(".")
    target = changed
    for key in parents:
        target = target[key]
    target[last] = None
    return changed


def at(value: Any, path: str) -> Any:
    for key in path.split("."):
        value = value[int(key)] if isinstance(value, list) else value[key]
    return value


@pytest.mark.parametrize("field", sorted(CASES))
async def test_an_optional_input_sent_as_null_is_taken_as_absent(
    api: GraphQLClient, field: str
) -> None:
    case = CASES[field]
    variables = with_null(case.variables(await case.setup(api)), case.null)
    if case.operation.lstrip().startswith("query"):
        result = await api.query(case.operation, variables, auth=case.auth())
    else:
        result = await api.op(case.operation, variables, auth=case.auth())
    assert result.body.get("errors") is None, result.body["errors"]
    payload = next(iter(result.data.values()))
    assert payload.get("errors", []) == []
    if case.shows is not None:
        path, value = case.shows
        assert at(payload, path) == value


def test_every_optional_input_field_of_the_schema_is_sent_as_null_above() -> None:
    types = build_schema()._schema.type_map.values()
    optional = {
        f"{t.name}.{name}"
        for t in types
        if isinstance(t, GraphQLInputObjectType)
        for name, field in t.fields.items()
        if not is_non_null_type(field.type)
    }
    assert optional <= set(CASES), sorted(optional - set(CASES))
