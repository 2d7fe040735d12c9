"""The ceiling of GraphQL on this stack: strawberry over the floor's own SQL.

Not a comparison of the issue's table but its explanation. The same starlette + asyncpg
+ hand-written statements as `benchmarks.floor`, with strawberry's GraphQL execution in
front instead of a hand-built JSON answer: no ORM, no middleware, no limits, no logging,
no metrics, no ship-slot booking; only strawberry's parser and validation caches. What
this answers per second is the most a strawberry service can do for `Me` and for the
floor's redemption on this machine; its ratio to the floor bounds rows 2 and 3.
"""

from __future__ import annotations

from base64 import b64encode
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types import Info

from benchmarks.floor import (
    EXPIRING,
    ME,
    Refusal,
    global_id,
    lifespan,
    member_of,
    place_order,
    readyz,
)


@strawberry.type
class Expiring:
    amount: int
    expires_at: datetime


@strawberry.type
class Points:
    balance: int
    held: int
    available: int
    member_id: strawberry.Private[int]

    @strawberry.field
    async def expiring(self, info: Info, within_days: int) -> list[Expiring]:
        now = datetime.now(UTC)
        async with info.context["pool"].acquire() as db:
            lots = await db.fetch(EXPIRING, self.member_id, now, now + timedelta(days=within_days))
        return [Expiring(amount=int(r["amount"]), expires_at=r["expires_at"]) for r in lots]


@strawberry.type
class Member:
    id: strawberry.ID
    external_id: str
    display_name: str
    tier: str
    points: Points


@strawberry.type
class Query:
    @strawberry.field
    async def me(self, info: Info) -> Member | None:
        subject = member_of(info.context["request"])
        if subject is None:
            return None
        async with info.context["pool"].acquire() as db:
            row = await db.fetchrow(ME, subject)
        if row is None:
            return None
        points = Points(
            balance=row["balance"],
            held=row["held"],
            available=row["balance"] - row["held"],
            member_id=row["id"],
        )
        return Member(
            id=strawberry.ID(global_id("Member", row["id"])),
            external_id=row["external_id"],
            display_name=row["display_name"],
            tier=row["tier"],
            points=points,
        )


@strawberry.input
class LineInput:
    sku: str
    quantity: int


@strawberry.input
class AddressInput:
    recipient: str
    phone: str
    province: str
    city: str
    district: str
    line1: str
    line2: str = ""
    postal_code: str = ""


@strawberry.input
class RedeemInput:
    idempotency_key: str
    lines: list[LineInput]
    shipping_address: AddressInput


@strawberry.enum
class OrderStatus(Enum):
    CONFIRMED = "CONFIRMED"


@strawberry.type(name="Money")
class CeilingMoney:
    amount: Decimal
    currency: str


@strawberry.type
class Line:
    sku: str
    name: str
    quantity: int
    points_each: int
    cash_each: CeilingMoney | None = None


@strawberry.type
class Address:
    recipient: str
    phone: str
    province: str
    city: str
    district: str
    line1: str
    line2: str
    postal_code: str


@strawberry.type
class TrackingEvent:
    status: str
    location: str
    description: str
    occurred_at: datetime


@strawberry.type
class Shipment:
    carrier: str
    tracking_number: str
    status: str
    events: list[TrackingEvent]


@strawberry.type(name="RedemptionOrder")
class CeilingOrder:
    """The contract's `RedemptionOrder` (`OrderDetail` selects all of it); a new order has
    no cash part, no shipment and none of the later timestamps."""

    id: strawberry.ID
    number: str
    status: OrderStatus
    placed_at: datetime
    confirmed_at: datetime
    ship_by: datetime
    promised_ship_date: date | None
    points_total: int
    lines: list[Line]
    shipping_address: Address
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    cash_total: CeilingMoney | None = None
    shipment: Shipment | None = None


@strawberry.type
class Problem:
    code: str
    message: str = ""
    field: str | None = None


@strawberry.type(name="Payment")
class CeilingPayment:
    client_secret: str
    status: str
    amount: CeilingMoney


@strawberry.type
class RedeemPayload:
    order: CeilingOrder | None
    errors: list[Problem]
    payment: CeilingPayment | None = None


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def redeem(self, info: Info, input: RedeemInput) -> RedeemPayload:
        subject = member_of(info.context["request"])
        if subject is None:
            return RedeemPayload(order=None, errors=[Problem(code="UNAUTHENTICATED")])
        line, address = input.lines[0], input.shipping_address
        body = {
            "sku": line.sku,
            "quantity": line.quantity,
            "idempotencyKey": input.idempotency_key,
            "shippingAddress": {
                "recipient": address.recipient,
                "phone": address.phone,
                "province": address.province,
                "city": address.city,
                "district": address.district,
                "line1": address.line1,
                "line2": address.line2,
                "postalCode": address.postal_code,
            },
        }
        try:
            placed = await place_order(info.context["pool"], subject, body)
        except Refusal as refusal:
            return RedeemPayload(order=None, errors=[Problem(code=refusal.code)])
        where = placed["shippingAddress"]
        order = CeilingOrder(
            # The floor returns no row id: the number stands in (same encoding work).
            id=strawberry.ID(b64encode(f"RedemptionOrder:{placed['number']}".encode()).decode()),
            number=placed["number"],
            status=OrderStatus(placed["status"]),
            placed_at=datetime.fromisoformat(placed["placedAt"]),
            confirmed_at=datetime.fromisoformat(placed["confirmedAt"]),
            ship_by=datetime.fromisoformat(placed["shipBy"]),
            promised_ship_date=None,  # the floor books no ship day
            points_total=placed["pointsTotal"],
            lines=[
                Line(**line, points_each=placed["pointsTotal"] // line["quantity"])
                for line in placed["lines"]
            ],
            shipping_address=Address(
                **{k: v for k, v in where.items() if k != "postalCode"},
                postal_code=where["postalCode"],
            ),
        )
        return RedeemPayload(order=order, errors=[])


REDEEM = """
mutation Redeem($input: RedeemInput!) {
  redeem(input: $input) {
    order {
      number status placedAt confirmedAt shipBy pointsTotal
      lines { sku name quantity }
      shippingAddress { recipient phone province city district line1 line2 postalCode }
    }
    errors { code }
  }
}
"""


class CeilingGraphQL(GraphQL[dict[str, Any], None]):
    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        return {"request": request, "pool": request.app.state.pool}


# strawberry's own caches of parsed and validated documents: without them every request
# would validate its document again, and the ceiling would sit below the service.
SCHEMA = strawberry.Schema(
    Query,
    Mutation,
    extensions=[lambda: ParserCache(maxsize=512), lambda: ValidationCache(maxsize=512)],
)


app = Starlette(
    routes=[
        Route("/graphql", CeilingGraphQL(SCHEMA), methods=["POST"]),
        Route("/readyz", readyz),
    ],
    lifespan=lifespan,
)
