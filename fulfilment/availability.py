"""What the catalog promises: units available, and the day an order placed now would ship."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from fulfilment.planning import promised_days
from models.catalog.models import Stock, Warehouse


@dataclass(frozen=True)
class Availability:
    quantity_available: int
    estimated_ship_by: date | None

    @property
    def in_stock(self) -> bool:
        return self.quantity_available > 0


async def availability(
    gift_ids: Sequence[int], *, now: datetime, within: timedelta
) -> list[Availability]:
    """Availability of each gift: two queries whatever the number of gifts."""
    rows = await Stock.filter(gift_id__in=list(gift_ids)).select_related("warehouse")
    warehouses: dict[int, Warehouse] = {row.warehouse_id: row.warehouse for row in rows}
    days = await promised_days(list(warehouses.values()), now=now, within=within)
    units: dict[int, int] = {}
    best: dict[int, date] = {}
    for row in rows:
        if row.available <= 0:
            continue
        units[row.gift_id] = units.get(row.gift_id, 0) + row.available
        day = days.get(row.warehouse_id)
        if day is not None and (row.gift_id not in best or day < best[row.gift_id]):
            best[row.gift_id] = day
    return [Availability(units.get(g, 0), best.get(g)) for g in gift_ids]
