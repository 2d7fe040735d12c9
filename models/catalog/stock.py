"""Stock movements of orders: which warehouses can serve an order, reserve, release, ship.

Every change is a conditional update (`reserved + n <= on_hand`), so `available` never goes
below zero however many orders race for the last units.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import F

from models import sql
from models.catalog.models import Stock, StockMovement, Warehouse
from models.errors import OutOfStock


@dataclass(frozen=True)
class Offer:
    """A warehouse that holds every line of an order, and how many units of them it has."""

    warehouse: Warehouse
    units: int


OFFERS = """
SELECT s.gift_id, s.on_hand - s.reserved AS available, w.*
FROM stock s JOIN warehouse w ON w.id = s.warehouse_id
WHERE s.gift_id IN ({gifts})
"""


async def offers(quantities: Mapping[int, int]) -> list[Offer]:
    """Warehouses with enough available units of every gift in `quantities` (gift id: qty)."""
    gift_ids = list(quantities)
    if not gift_ids:
        return []
    rows = await sql.fetch(OFFERS.format(gifts=sql.listed(len(gift_ids))), *gift_ids)
    return offers_of(rows, quantities)


def offers_of(rows: Iterable[Mapping[str, Any]], quantities: Mapping[int, int]) -> list[Offer]:
    """The offers in rows of `OFFERS`' columns (a row may repeat: it counts once)."""
    units: dict[int, int] = {}
    lines: dict[int, int] = {}
    warehouses: dict[int, Warehouse] = {}
    seen: set[tuple[int, int]] = set()
    for row in rows:
        warehouse_id, gift_id = int(row["id"]), int(row["gift_id"])
        if (gift_id, warehouse_id) in seen:
            continue
        seen.add((gift_id, warehouse_id))
        available = int(row["available"])
        if available >= quantities[gift_id]:
            lines[warehouse_id] = lines.get(warehouse_id, 0) + 1
            units[warehouse_id] = units.get(warehouse_id, 0) + available
            warehouses[warehouse_id] = sql.model(Warehouse, row)
    return [Offer(warehouses[w], units[w]) for w in warehouses if lines[w] == len(quantities)]


def reserve_text(p: sql.Params, *, gift_id: int, warehouse_id: int, units: int) -> str:
    """Reserve `units` of a gift in a warehouse if they are there: the one rule that keeps
    `available` from going below zero, as a conditional update (no row changed: no room)."""
    n = p(units)
    return f"""UPDATE stock SET reserved = reserved + {n}, updated_at = {p(datetime.now(UTC))}
    WHERE gift_id = {p(gift_id)} AND warehouse_id = {p(warehouse_id)} AND on_hand >= reserved + {n}"""  # noqa: E501, S608 (placeholders, never values)


def reserve_step(p: sql.Params, *, gift_id: int, warehouse_id: int, units: int) -> str:
    """`reserve_text` as a step of another statement (PostgreSQL): a row if it reserved."""
    return f"{reserve_text(p, gift_id=gift_id, warehouse_id=warehouse_id, units=units)} RETURNING 1"


RELEASE = """
UPDATE stock SET reserved = reserved - $3, updated_at = $4
WHERE gift_id = $1 AND warehouse_id = $2 AND reserved >= $3
"""


async def reserve(*, warehouse_id: int, quantities: Mapping[int, int]) -> bool:
    """Reserve every line in one warehouse, or nothing (False) if one no longer fits.

    Call it inside a transaction: lines reserved before a short one are given back by
    compensating updates, not by a savepoint.
    """
    done: dict[int, int] = {}
    for gift_id, quantity in sorted(quantities.items()):
        p = sql.Params()
        text = reserve_text(p, gift_id=gift_id, warehouse_id=warehouse_id, units=quantity)
        if not await sql.execute(text, *p.values):
            await release(warehouse_id=warehouse_id, quantities=done)
            return False
        done[gift_id] = quantity
    return True


async def release(*, warehouse_id: int, quantities: Mapping[int, int]) -> None:
    """Give reserved units back (an order cancelled before it shipped)."""
    now = datetime.now(UTC)
    for gift_id, quantity in sorted(quantities.items()):
        await sql.execute(RELEASE, gift_id, warehouse_id, quantity, now)


async def ship(*, warehouse_id: int, quantities: Mapping[int, int], reason: str) -> None:
    """Units leave the warehouse: the reservation and the units on hand go down together."""
    for gift_id, quantity in sorted(quantities.items()):
        stock = await Stock.get(gift_id=gift_id, warehouse_id=warehouse_id)
        shipped = await Stock.filter(
            id=stock.id, reserved__gte=quantity, on_hand__gte=quantity
        ).update(reserved=F("reserved") - quantity, on_hand=F("on_hand") - quantity)
        if not shipped:
            raise OutOfStock(f"fewer than {quantity} units are reserved to ship", field="lines")
        await StockMovement.create(stock_id=stock.id, delta=-quantity, reason=reason)


async def restock(*, warehouse_id: int, quantities: Mapping[int, int], reason: str) -> None:
    """Units come back into a warehouse (a return received): on hand goes up, recorded."""
    for gift_id, quantity in sorted(quantities.items()):
        found = await Stock.get_or_none(gift_id=gift_id, warehouse_id=warehouse_id)
        if found is None:
            found = await Stock.create(gift_id=gift_id, warehouse_id=warehouse_id, on_hand=0)
        await Stock.filter(id=found.id).update(on_hand=F("on_hand") + quantity)
        await StockMovement.create(stock_id=found.id, delta=quantity, reason=reason)
