"""Who may call what: one row per root field of the schema, one outcome per caller.

Outcomes: ALLOWED (served), UNAUTHENTICATED or FORBIDDEN (a top-level error with that
code), NULL (someone else's object: null, or NOT_FOUND as for an object that does not
exist). The authorization matrix test walks the schema's root fields and fails for a field
without a row here and for a row whose field is gone.

Rows run in schema order, callers in `CALLERS` order, against one world (see `world.py`), so
a later call may find an earlier one's change: the warehouse steps run pick, pack, ship and
scan in that order, and a second caller who is allowed may meet INVALID_TRANSITION, which
still counts as ALLOWED (it got past authorization to the business rules).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from tests.security.world import CALLERS, MEMBER_A, W1, World
from tests.support.catalog import ADDRESS


class Outcome(StrEnum):
    ALLOWED = "ALLOWED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NULL = "NULL"


LETTERS = {"A": Outcome.ALLOWED, "U": Outcome.UNAUTHENTICATED, "F": Outcome.FORBIDDEN}
LETTERS["N"] = Outcome.NULL
Variables = Callable[[World, str], dict[str, Any]]


def expect(letters: str) -> dict[str, Outcome]:
    """One letter per caller in `CALLERS` order: A allowed, U, F, N null."""
    outcomes = [LETTERS[letter] for letter in letters.split()]
    assert len(outcomes) == len(CALLERS), letters
    return dict(zip(CALLERS, outcomes, strict=True))


@dataclass(frozen=True)
class Row:
    document: str
    variables: Variables
    expected: dict[str, Outcome]


def none(world: World, caller: str) -> dict[str, Any]:
    return {}


def order_a(world: World, caller: str) -> dict[str, Any]:
    return {"input": {"orderNumber": world.order_a}}


def tracking_scan(world: World, caller: str) -> dict[str, Any]:
    at = datetime.now(UTC) - timedelta(hours=1)
    scan = {"carrier": "SF", "trackingNumber": "SECA0001", "status": "IN_TRANSIT"}
    return {"input": {**scan, "occurredAt": at.isoformat(), "location": "上海"}}


def sla_window(world: World, caller: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    start, end = (now - timedelta(days=1)).isoformat(), (now + timedelta(days=1)).isoformat()
    return {"from": start, "to": end, "code": W1}


def report_window(world: World, caller: str) -> dict[str, Any]:
    window = sla_window(world, caller)
    return {"since": window["from"], "until": window["to"]}


def ticket_a(world: World, caller: str) -> dict[str, Any]:
    return {"input": {"number": world.ticket_a}}


def ticket_text(world: World, caller: str) -> dict[str, Any]:
    return {"input": {"number": world.ticket_a, "text": f"note from {caller}"}}


ORDER_FIELDS = "number status shippingAddress { recipient phone line1 }"
TICKET = "ticket { number state } errors { code field }"
RESOLUTION = "resolution { kind status } errors { code field }"
PAYLOAD_ORDER = f"order {{ {ORDER_FIELDS} }} errors {{ code field }}"


def payload(field: str, input_type: str, selection: str = PAYLOAD_ORDER) -> str:
    """A mutation of `field` taking `$input`, selecting `selection` of its payload."""
    return f"mutation($input: {input_type}!) {{ {field}(input: $input) {{ {selection} }} }}"


#                           anonymous member_a member_b staff_w1 staff_w2 admin agent
MATRIX: dict[str, Row] = {
    "Query.me": Row("query { me { externalId } }", none, expect("U A A F F F F")),
    "Query.member": Row(
        "query($id: String!) { member(externalId: $id) { externalId } }",
        lambda w, c: {"id": MEMBER_A},
        expect("U F F F F A A"),
    ),
    "Query.categories": Row("query { categories { slug } }", none, expect("A A A A A A A")),
    "Query.gifts": Row("query { gifts(first: 5) { totalCount } }", none, expect("A A A A A A A")),
    "Query.gift": Row('query { gift(sku: "HM-MUG") { sku } }', none, expect("A A A A A A A")),
    "Query.order": Row(
        f"query($n: String!) {{ order(number: $n) {{ {ORDER_FIELDS} }} }}",
        lambda w, c: {"n": w.order_a},
        expect("U A N A N A A"),
    ),
    "Query.fulfilmentQueue": Row(
        "query($w: String!) { fulfilmentQueue(warehouseCode: $w, first: 10) { totalCount } }",
        lambda w, c: {"w": W1},
        expect("U F F A F A F"),
    ),
    "Query.myWarehouses": Row(
        "query { myWarehouses { code timezone } }", none, expect("U F F A A A F")
    ),
    "Query.slaReport": Row(
        "query($from: DateTime!, $to: DateTime!, $code: String) {"
        " slaReport(from: $from, to: $to, warehouseCode: $code) { ordersConfirmed } }",
        sla_window,
        expect("U F F A F A F"),
    ),
    "Query.smsDeliveries": Row(
        "query { smsDeliveries(first: 5) { totalCount edges { node { to memberExternalId } } } }",
        none,
        expect("U F F F F A F"),
    ),
    "Query.smsDeliveryReport": Row(
        "query($since: DateTime!, $until: DateTime!) {"
        " smsDeliveryReport(since: $since, until: $until) { written } }",
        report_window,
        expect("U F F F F A F"),
    ),
    "Query.node": Row(
        f"query($id: ID!) {{ node(id: $id) {{ id ... on RedemptionOrder {{ {ORDER_FIELDS} }} }} }}",
        lambda w, c: {"id": w.order_a_gid},
        expect("N A N A N A A"),
    ),
    "Mutation.upsertMember": Row(
        payload("upsertMember", "MemberInput", "member { externalId } errors { code }"),
        lambda w, c: {"input": {"externalId": f"SEC-NEW-{c}"}},
        expect("U F F F F A F"),
    ),
    "Mutation.upsertCategory": Row(
        payload("upsertCategory", "CategoryInput", "category { slug } errors { code }"),
        lambda w, c: {"input": {"slug": "sec-cat", "name": "Security"}},
        expect("U F F F F A F"),
    ),
    "Mutation.upsertGift": Row(
        payload("upsertGift", "GiftInput", "gift { sku } errors { code }"),
        lambda w, c: {
            "input": {"sku": "SEC-GIFT", "name": "Sec", "categorySlug": "home", "pointsPrice": 10}
        },
        expect("U F F F F A F"),
    ),
    "Mutation.upsertWarehouse": Row(
        payload("upsertWarehouse", "WarehouseInput", "warehouse { code } errors { code }"),
        lambda w, c: {"input": {"code": "SEC9", "name": "Sec", "dailyCapacity": 5}},
        expect("U F F F F A F"),
    ),
    "Mutation.adjustStock": Row(
        payload("adjustStock", "AdjustStockInput", "stock { onHand } errors { code }"),
        lambda w, c: {"input": {"sku": "HM-MUG", "warehouseCode": W1, "delta": 1}},
        expect("U F F F F A F"),
    ),
    "Mutation.importVoucherCodes": Row(
        payload("importVoucherCodes", "ImportVoucherCodesInput", "added errors { code }"),
        lambda w, c: {
            "input": {
                "sku": "HM-MUG",
                "codes": [{"code": f"SEC-CODE-{c}", "expiresAt": "2099-01-01T00:00:00+00:00"}],
            }
        },
        expect("U F F F F A F"),
    ),
    "Mutation.redeem": Row(
        payload("redeem", "RedeemInput"),
        lambda w, c: {
            "input": {
                "idempotencyKey": f"sec-redeem-{c}",
                "lines": [{"sku": "EL-PB10K", "quantity": 1}],
                "shippingAddress": ADDRESS,
            }
        },
        expect("U A A F F F F"),
    ),
    "Mutation.cancelOrder": Row(
        payload("cancelOrder", "CancelOrderInput"),
        lambda w, c: {"input": {"orderNumber": w.spare_a}},
        expect("U A N F F A F"),
    ),
    "Mutation.awardPoints": Row(
        payload("awardPoints", "AwardPointsInput", "points { balance } errors { code }"),
        lambda w, c: {
            "input": {"memberExternalId": MEMBER_A, "amount": 10, "externalRef": f"sec-award-{c}"}
        },
        expect("U F F F F A F"),
    ),
    "Mutation.adjustPoints": Row(
        payload("adjustPoints", "AdjustPointsInput", "points { balance } errors { code }"),
        lambda w, c: {
            "input": {
                "memberExternalId": MEMBER_A,
                "delta": 5,
                "reason": "goodwill",
                "externalRef": f"sec-adjust-{c}",
            }
        },
        expect("U F F F F A F"),
    ),
    "Mutation.startPicking": Row(
        payload("startPicking", "OrderActionInput"),
        order_a,
        expect("U F F A N A F"),
    ),
    "Mutation.markPacked": Row(
        payload("markPacked", "OrderActionInput"),
        order_a,
        expect("U F F A N A F"),
    ),
    "Mutation.shipOrder": Row(
        payload("shipOrder", "ShipOrderInput"),
        lambda w, c: {
            "input": {"orderNumber": w.order_a, "carrier": "SF", "trackingNumber": "SECA0001"}
        },
        expect("U F F A N A F"),
    ),
    "Mutation.recordTrackingEvent": Row(
        payload("recordTrackingEvent", "TrackingEventInput", "shipment { status } errors { code }"),
        tracking_scan,
        expect("U F F A N A F"),
    ),
    "Mutation.setNotificationPreferences": Row(
        payload(
            "setNotificationPreferences",
            "NotificationPreferencesInput",
            "member { language } errors { code }",
        ),
        lambda w, c: {"input": {"language": "en"}},
        expect("U A A F F F F"),
    ),
    "Mutation.markNotificationsRead": Row(
        payload("markNotificationsRead", "MarkNotificationsReadInput", "marked errors { code }"),
        lambda w, c: {"input": {"all": True}},
        expect("U A A F F F F"),
    ),
    "Subscription.orderUpdated": Row(
        f"subscription($n: String!) {{ orderUpdated(number: $n) {{ {ORDER_FIELDS} }} }}",
        lambda w, c: {"n": w.order_a},
        expect("U A N F F A F"),
    ),
    "Subscription.fulfilmentQueueChanged": Row(
        "subscription($w: String!) { fulfilmentQueueChanged(warehouseCode: $w) { number } }",
        lambda w, c: {"w": W1},
        expect("U F F A F A F"),
    ),
    "Subscription.fulfilmentAlerts": Row(
        "subscription($w: String!) { fulfilmentAlerts(warehouseCode: $w) { kind } }",
        lambda w, c: {"w": W1},
        expect("U F F A F A F"),
    ),
    "Subscription.notificationReceived": Row(
        "subscription { notificationReceived { id kind text } }",
        none,
        expect("U A A F F F F"),
    ),
    # After-sales: members their own tickets, agents and admins every ticket, staff none.
    "Query.ticket": Row(
        "query($n: String!) { ticket(number: $n) { number state subject } }",
        lambda w, c: {"n": w.ticket_a},
        expect("U A N F F A A"),
    ),
    "Query.myTickets": Row(
        "query { myTickets(first: 5) { totalCount edges { node { number } } } }",
        none,
        expect("U A A F F F F"),
    ),
    "Query.ticketQueue": Row(
        "query { ticketQueue(first: 5) { totalCount edges { node { number nextDeadline } } } }",
        none,
        expect("U F F F F A A"),
    ),
    "Query.serviceReport": Row(
        "query($from: DateTime!, $to: DateTime!) {"
        " serviceReport(from: $from, to: $to) { ticketsOpened averageRating } }",
        lambda w, c: {k: v for k, v in sla_window(w, c).items() if k != "code"},
        expect("U F F F F A A"),
    ),
    "Mutation.openTicket": Row(
        payload("openTicket", "OpenTicketInput", TICKET),
        lambda w, c: {"input": {"category": "QUESTION", "text": f"问题 {c}"}},
        expect("U A A F F F F"),
    ),
    "Mutation.addTicketMessage": Row(
        payload("addTicketMessage", "AddTicketMessageInput", TICKET),
        lambda w, c: {"input": {"number": w.ticket_a, "text": "补充说明"}},
        expect("U A N F F F F"),
    ),
    "Mutation.confirmTicketResolved": Row(
        payload("confirmTicketResolved", "TicketActionInput", TICKET),
        lambda w, c: {"input": {"number": w.ticket_a}},
        expect("U A N F F F F"),
    ),
    "Mutation.rateService": Row(
        payload("rateService", "RateServiceInput", "survey { rating } errors { code }"),
        lambda w, c: {"input": {"ticketNumber": w.rated_ticket_a, "rating": 5}},
        expect("U A N F F F F"),
    ),
    "Mutation.openTicketForCaller": Row(
        payload("openTicketForCaller", "OpenTicketForCallerInput", TICKET),
        lambda w, c: {
            "input": {
                "memberExternalId": MEMBER_A,
                "category": "QUESTION",
                "text": "来电咨询",
                "callOutcome": "answered on the call",
            }
        },
        expect("U F F F F A A"),
    ),
    "Mutation.replyToTicket": Row(
        payload("replyToTicket", "ReplyToTicketInput", TICKET),
        ticket_text,
        expect("U F F F F A A"),
    ),
    "Mutation.addInternalNote": Row(
        payload("addInternalNote", "AddInternalNoteInput", TICKET),
        ticket_text,
        expect("U F F F F A A"),
    ),
    "Mutation.logTicketCall": Row(
        payload("logTicketCall", "LogTicketCallInput", TICKET),
        lambda w, c: {"input": {"number": w.ticket_a, "outcome": "called back"}},
        expect("U F F F F A A"),
    ),
    "Mutation.claimTicket": Row(
        payload("claimTicket", "TicketActionInput", TICKET), ticket_a, expect("U F F F F A A")
    ),
    "Mutation.assignTicket": Row(
        payload("assignTicket", "AssignTicketInput", TICKET),
        lambda w, c: {"input": {"number": w.ticket_a, "agent": "agent-1"}},
        expect("U F F F F A A"),
    ),
    "Mutation.waitOnMember": Row(
        payload("waitOnMember", "TicketActionInput", TICKET), ticket_a, expect("U F F F F A A")
    ),
    "Mutation.resumeTicket": Row(
        payload("resumeTicket", "TicketActionInput", TICKET), ticket_a, expect("U F F F F A A")
    ),
    "Mutation.resolveTicket": Row(
        payload("resolveTicket", "ResolveTicketInput", TICKET),
        lambda w, c: {"input": {"number": w.ticket_a, "summary": "已处理"}},
        expect("U F F F F A A"),
    ),
    "Mutation.refundOrderPoints": Row(
        payload("refundOrderPoints", "RefundOrderPointsInput", RESOLUTION),
        lambda w, c: {"input": {"number": w.ticket_a, "idempotencyKey": f"sec-refund-{c}"}},
        expect("U F F F F A A"),
    ),
    "Mutation.creditGoodwill": Row(
        payload("creditGoodwill", "CreditGoodwillInput", RESOLUTION),
        lambda w, c: {
            "input": {
                "number": w.ticket_a,
                "idempotencyKey": f"sec-goodwill-{c}",
                "points": 10,
                "reason": "sorry",
            }
        },
        expect("U F F F F A A"),
    ),
    "Mutation.approveGoodwill": Row(
        payload("approveGoodwill", "ApproveGoodwillInput", RESOLUTION),
        lambda w, c: {"input": {"resolutionId": w.pending_goodwill_gid}},
        expect("U F F F F A F"),
    ),
    "Mutation.setGoodwillCap": Row(
        payload("setGoodwillCap", "SetGoodwillCapInput", "agent dailyPoints errors { code }"),
        lambda w, c: {"input": {"agent": "agent-1", "dailyPoints": 800}},
        expect("U F F F F A F"),
    ),
    "Mutation.sendReplacement": Row(
        payload("sendReplacement", "SendReplacementInput", RESOLUTION),
        lambda w, c: {"input": {"number": w.ticket_a, "idempotencyKey": f"sec-replace-{c}"}},
        expect("U F F F F A A"),
    ),
    "Mutation.startReturn": Row(
        payload("startReturn", "StartReturnInput", RESOLUTION),
        lambda w, c: {
            "input": {
                "number": w.ticket_a,
                "idempotencyKey": f"sec-return-{c}",
                "carrier": "YTO",
                "trackingNumber": "SECRETURN01",
            }
        },
        expect("U F F F F A A"),
    ),
    "Mutation.recordReturnScan": Row(
        payload(
            "recordReturnScan", "TrackingEventInput", "returnParcel { status } errors { code }"
        ),
        lambda w, c: {
            "input": {
                "carrier": "YTO",
                "trackingNumber": "SECRETURN01",
                "status": "IN_TRANSIT",
                "occurredAt": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
            }
        },
        expect("U F F A N A F"),
    ),
    "Subscription.ticketUpdated": Row(
        "subscription($n: String!) { ticketUpdated(number: $n) { number state } }",
        lambda w, c: {"n": w.ticket_a},
        expect("U A N F F A A"),
    ),
    "Subscription.serviceAlerts": Row(
        "subscription { serviceAlerts { kind ticket { number } } }",
        none,
        expect("U F F F F A A"),
    ),
}
