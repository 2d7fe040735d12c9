"""The soak's traffic: members, browsers, the back office, the warehouse and the carriers.

Each actor loops until `stop` is set, sending the client operations of `tests/clients`
(and the signed webhooks) the way its real counterpart does, with the races they bring:
a member cancels what the warehouse is picking, a payment lands after the order timed out,
a scan comes twice, a billing file is resent.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.resilience.soak_client import Client
from tests.support.catalog import ADDRESS
from tests.support.graphql import admin_token, member_token, operation, staff_token
from tests.support.ws import graphql_socket

POINTS_GIFTS = ["PT-1", "PT-2", "PT-3", "PT-4", "PT-5", "PT-LIM", "PT-RARE", "BJ-TEA"]
CASH_GIFTS = ["CS-1", "CS-2"]
ODD_GIFTS = ["PT-OLD", "NOPE-1"]  # inactive, unknown
CARRIERS = ["SF", "YTO", "EMS"]
SCANS = ["IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"]


@dataclass
class Parcel:
    carrier: str
    tracking: str
    scans: int = 0
    last: dict[str, str] | None = None


@dataclass
class Mall:
    """What the traffic has learnt so far, shared by the actors."""

    members: list[str]
    warehouses: list[str]
    orders: dict[str, list[str]] = field(default_factory=dict)
    unpaid: list[tuple[str, str]] = field(default_factory=list)  # (member, intent id)
    parcels: list[Parcel] = field(default_factory=list)
    deliveries: set[asyncio.Task[None]] = field(default_factory=set)  # webhooks on their way
    keys: int = 0

    def next_key(self, member: str) -> str:
        self.keys += 1
        return f"{member}-{self.keys}"


def redeem_input(key: str, lines: list[tuple[str, int]]) -> dict[str, Any]:
    return {
        "input": {
            "idempotencyKey": key,
            "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines],
            "shippingAddress": ADDRESS,
        }
    }


async def think(rng: random.Random) -> None:
    await asyncio.sleep(rng.uniform(0.0, 0.02))


async def member(client: Client, mall: Mall, stop: asyncio.Event, rng: random.Random) -> None:
    while not stop.is_set():
        who = rng.choice(mall.members)
        token = member_token(who)
        roll = rng.random()
        if roll < 0.35:
            await redeem(client, mall, rng, who, cash=False)
        elif roll < 0.55:
            await redeem(client, mall, rng, who, cash=True)
        elif roll < 0.63 and mall.orders.get(who):
            number = rng.choice(mall.orders[who])
            await client.op("CancelOrder", {"input": {"orderNumber": number}}, token)
        elif roll < 0.70 and mall.unpaid:
            await pay(client, mall, mall.unpaid.pop(rng.randrange(len(mall.unpaid))), rng)
        elif roll < 0.82:
            await client.op("Me", token=token)
        elif roll < 0.92:
            await client.op("MyOrders", {"first": 10}, token)
        elif roll < 0.96:
            await client.op("PointsHistory", {"first": 20}, token)
        elif mall.orders.get(who):
            await client.op("Order", {"number": rng.choice(mall.orders[who])}, token)
        await think(rng)


async def redeem(client: Client, mall: Mall, rng: random.Random, who: str, *, cash: bool) -> None:
    token = member_token(who)
    pool = CASH_GIFTS if cash else POINTS_GIFTS + (ODD_GIFTS if rng.random() < 0.03 else [])
    skus = rng.sample(pool, k=min(len(pool), rng.choice([1, 1, 1, 2])))
    lines = [(sku, rng.choice([1, 1, 2])) for sku in skus]
    key = mall.next_key(who)
    data = await client.op("Redeem", redeem_input(key, lines), token)
    placed = data and data["redeem"]["order"]
    if not placed:
        return
    mall.orders.setdefault(who, []).append(placed["number"])
    if rng.random() < 0.05:  # the app retries: the same order comes back
        again = await client.op("Redeem", redeem_input(key, lines), token)
        replayed = again and again["redeem"]["order"]
        if replayed and replayed["number"] != placed["number"]:
            client.recorder.fail("Redeem", f"replay of {key} made {replayed['number']}")
    elif rng.random() < 0.02:  # the same key for other lines
        await client.op("Redeem", redeem_input(key, [("PT-1", 3)]), token)
    payment = data["redeem"]["payment"] if data else None
    if payment:
        intent = payment["clientSecret"].split("_secret_")[0]
        await settle(client, mall, rng, who, placed["number"], intent)


async def settle(
    client: Client, mall: Mall, rng: random.Random, who: str, number: str, intent: str
) -> None:
    """The member pays now, the card fails, they cancel, or they leave it for later."""
    roll = rng.random()
    if roll < 0.45:
        await pay(client, mall, (who, intent), rng)
        if rng.random() < 0.1:  # and changes their mind, perhaps before Stripe's webhook
            await client.op("CancelOrder", {"input": {"orderNumber": number}}, member_token(who))
    elif roll < 0.55:
        await client.stripe_event(client.stripe.fail_payment(intent))
        mall.unpaid.append((who, intent))
    elif roll < 0.65:
        await client.op("CancelOrder", {"input": {"orderNumber": number}}, member_token(who))
    else:
        mall.unpaid.append((who, intent))


async def pay(client: Client, mall: Mall, unpaid: tuple[str, str], rng: random.Random) -> None:
    """Stripe takes the money and tells the API, sometimes twice, sometimes seconds later."""
    try:
        event = client.stripe.succeed(unpaid[1])
    except ValueError:
        return  # the intent was cancelled meanwhile (the order timed out)
    if rng.random() < 0.3:
        late = asyncio.create_task(deliver_later(client, event, rng.uniform(0.1, 3.0)))
        mall.deliveries.add(late)
        late.add_done_callback(mall.deliveries.discard)
        return
    await client.stripe_event(event)
    if rng.random() < 0.1:
        await client.stripe_event(event)


async def deliver_later(client: Client, event: dict[str, Any], seconds: float) -> None:
    await asyncio.sleep(seconds)
    await client.stripe_event(event)


async def browser(client: Client, mall: Mall, stop: asyncio.Event, rng: random.Random) -> None:
    sorts = ["POINTS_ASC", "POINTS_DESC", "NEWEST", "NAME", None]
    filters: list[dict[str, Any] | None] = [
        None,
        {"categorySlug": "electronics"},
        {"search": "mug"},
        {"inStock": True, "maxPoints": 3000},
    ]
    while not stop.is_set():
        roll = rng.random()
        if roll < 0.5:
            variables: dict[str, Any] = {"first": rng.choice([5, 10, 30])}
            variables["filter"] = rng.choice(filters)
            variables["sortBy"] = rng.choice(sorts)
            data = await client.op("Catalog", variables)
            page = data and data["gifts"]["pageInfo"]
            if page and page["hasNextPage"]:
                await client.op("Catalog", {**variables, "after": page["endCursor"]})
        elif roll < 0.85:
            await client.op("Gift", {"sku": rng.choice(POINTS_GIFTS + CASH_GIFTS + ODD_GIFTS)})
        else:
            await client.op("Categories")
        await think(rng)


async def admin(client: Client, mall: Mall, stop: asyncio.Event, rng: random.Random) -> None:
    token, refs = admin_token(), 0
    award: dict[str, Any] = {}
    while not stop.is_set():
        refs += 1
        who, roll = rng.choice(mall.members), rng.random()
        if roll < 0.05 and award:  # the billing file is sent again: credits nothing twice
            await client.op("AwardPoints", {"input": award}, token)
        elif roll < 0.45:
            award = {"memberExternalId": who, "amount": rng.randint(20_000, 120_000)}
            award |= {"reason": "bill", "externalRef": f"soak-bill-{refs}"}
            if rng.random() < 0.2:  # a campaign's points that expire within seconds
                soon = datetime.now(UTC) + timedelta(seconds=rng.uniform(3, 20))
                award |= {"amount": 700, "expiresAt": soon.isoformat()}
            await client.op("AwardPoints", {"input": award}, token)
        elif roll < 0.55:
            adjust = {"memberExternalId": who, "delta": rng.choice([-3_000, -500, 200, 1_000])}
            adjust |= {"reason": "service", "externalRef": f"soak-adjust-{refs}"}
            await client.op("AdjustPoints", {"input": adjust}, token)
        elif roll < 0.85:
            sku = rng.choice(["PT-1", "PT-2", "PT-3", "PT-4", "PT-5", "CS-1", "CS-2"])
            delta = rng.choice([40, 40, 40, -3])
            stock = {"sku": sku, "warehouseCode": rng.choice(["SH01", "GZ01"]), "delta": delta}
            await client.op("AdjustStock", {"input": {**stock, "reason": "receipt"}}, token)
        else:
            await client.op("Member", {"externalId": who}, token)
        await asyncio.sleep(rng.uniform(0.02, 0.1))


async def staff(client: Client, mall: Mall, stop: asyncio.Event, rng: random.Random) -> None:
    token = staff_token(*mall.warehouses)
    steps = {"CONFIRMED": "StartPicking", "PICKING": "MarkPacked", "PACKED": "ShipOrder"}
    while not stop.is_set():
        code = rng.choice(mall.warehouses)
        if rng.random() < 0.05:
            now = datetime.now(UTC)
            window = {"from": (now - timedelta(days=1)).isoformat(), "to": now.isoformat()}
            await client.op("SlaReport", {"warehouseCode": code, **window}, token)
        data = await client.op("FulfilmentQueue", {"warehouseCode": code, "first": 20}, token)
        edges = data["fulfilmentQueue"]["edges"] if data else []
        for edge in rng.sample(edges, k=min(len(edges), rng.randint(1, 6))):
            order = edge["node"]
            name = steps[order["status"]]
            action: dict[str, Any] = {"orderNumber": order["number"]}
            if name == "ShipOrder":
                action.update(parcel_for(mall, rng, order["number"]))
            shipped = await client.op(name, {"input": action}, token)
            moved = shipped and next(iter(shipped.values()))
            if name == "ShipOrder" and moved and moved["errors"] == []:
                mall.parcels.append(Parcel(action["carrier"], action["trackingNumber"]))
        await think(rng)


def parcel_for(mall: Mall, rng: random.Random, number: str) -> dict[str, str]:
    if mall.parcels and rng.random() < 0.03:  # a label printed twice
        reused = rng.choice(mall.parcels)
        return {"carrier": reused.carrier, "trackingNumber": reused.tracking}
    return {"carrier": rng.choice(CARRIERS), "trackingNumber": f"T{number}"}


async def carrier(client: Client, mall: Mall, stop: asyncio.Event, rng: random.Random) -> None:
    token = staff_token(*mall.warehouses)
    while not stop.is_set():
        moving = [p for p in mall.parcels if p.scans < len(SCANS)]
        if not moving:
            await asyncio.sleep(0.1)
            continue
        parcel = rng.choice(moving)
        if parcel.last is not None and rng.random() < 0.1:
            scan = parcel.last  # the same scan, sent twice
        else:
            scan = {
                "carrier": parcel.carrier,
                "trackingNumber": parcel.tracking,
                "status": SCANS[parcel.scans],
                "location": "上海",
                "description": "",
                "occurredAt": (datetime.now(UTC) - timedelta(seconds=1)).isoformat(),
            }
            parcel.scans, parcel.last = parcel.scans + 1, scan
        if rng.random() < 0.5:
            await client.carrier_scans(parcel.carrier, [scan])
        else:
            await client.op("RecordTrackingEvent", {"input": scan}, token)
        await think(rng)


async def watcher(client: Client, mall: Mall, stop: asyncio.Event, rng: random.Random) -> None:
    """A member opens the app on an order, follows it a moment, and leaves."""
    base = str(client.http.base_url).rstrip("/")
    while not stop.is_set():
        followed = [(m, n) for m, numbers in mall.orders.items() for n in numbers[-3:]]
        if not followed:
            await asyncio.sleep(0.2)
            continue
        who, number = rng.choice(followed)
        client.recorder.requests["OrderUpdates"] += 1
        try:
            async with graphql_socket(base, member_token(who)) as socket:
                sid = await socket.subscribe(operation("OrderUpdates"), {"number": number})
                await follow(client, socket, sid, seconds=rng.uniform(0.5, 2.0))
        except Exception as exc:  # any failure to subscribe is a finding
            client.recorder.fail("OrderUpdates", repr(exc))


async def follow(client: Client, socket: Any, sid: str, *, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        try:
            message = await socket.receive(timeout=left)
        except TimeoutError:
            return
        if message.get("type") != "next" or message["payload"].get("errors"):
            client.recorder.fail("OrderUpdates", str(message))
            return


ACTORS = {
    "member": member,
    "browser": browser,
    "admin": admin,
    "staff": staff,
    "carrier": carrier,
    "watcher": watcher,
}
