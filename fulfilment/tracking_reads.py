"""Shipment reads for loaders: each order's shipment, each shipment's scans in time order."""

from __future__ import annotations

from collections.abc import Sequence

from fulfilment.models import Shipment, TrackingEvent


async def shipments_by_order_ids(order_ids: Sequence[int]) -> list[Shipment | None]:
    found = {s.order_id: s for s in await Shipment.filter(order_id__in=list(order_ids))}
    return [found.get(i) for i in order_ids]


async def events_by_shipment_ids(shipment_ids: Sequence[int]) -> list[list[TrackingEvent]]:
    grouped: dict[int, list[TrackingEvent]] = {i: [] for i in shipment_ids}
    events = TrackingEvent.filter(shipment_id__in=list(shipment_ids)).order_by("occurred_at", "id")
    for event in await events:
        grouped[event.shipment_id].append(event)
    return [grouped[i] for i in shipment_ids]
