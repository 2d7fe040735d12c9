"""Stock movements of orders: which warehouses can serve an order, reserve, release, ship.

Every change is a conditional update (`reserved + n <= on_hand`), so `available` never goes
below zero however many orders race for the last units.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.catalog.models import Stock, StockMovement, Warehouse
from models.errors import OutOfStock


@dataclass(frozen=True)
class Offer:
    """A warehouse that holds every line of an order, and how many units of them it has."""

    warehouse: Warehouse
    units: int


class _Shortfall(Exception):
    """A line could not be reserved: undo the lines reserved before it."""


async def offers(quantities: Mapping[int, int]) -> list[Offer]:
    """Warehouses with enough available units of every gift in `quantities` (gift id: qty)."""
    rows = await Stock.filter(gift_id__in=list(quantities)).select_related("warehouse")
    units: dict[int, int] = {}
    lines: dict[int, int] = {}
    warehouses: dict[int, Warehouse] = {}
    for row in rows:
        if row.available >= quantities[row.gift_id]:
            lines[row.warehouse_id] = lines.get(row.warehouse_id, 0) + 1
            units[row.warehouse_id] = units.get(row.warehouse_id, 0) + row.available
            warehouses[row.warehouse_id] = row.warehouse
    return [Offer(warehouses[w], units[w]) for w in warehouses if lines[w] == len(quantities)]


async def reserve(*, warehouse_id: int, quantities: Mapping[int, int]) -> bool:
    """Reserve every line in one warehouse, or nothing (False) if one no longer fits."""
    try:
        async with in_transaction():
            for gift_id, quantity in sorted(quantities.items()):
                changed = await Stock.filter(
                    gift_id=gift_id,
                    warehouse_id=warehouse_id,
                    on_hand__gte=F("reserved") + quantity,
                ).update(reserved=F("reserved") + quantity)
                if not changed:
                    raise _Shortfall
    except _Shortfall:
        return False
    return True


async def release(*, warehouse_id: int, quantities: Mapping[int, int]) -> None:
    """Give reserved units back (an order cancelled before it shipped)."""
    for gift_id, quantity in sorted(quantities.items()):
        await Stock.filter(
            gift_id=gift_id, warehouse_id=warehouse_id, reserved__gte=quantity
        ).update(reserved=F("reserved") - quantity)


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
