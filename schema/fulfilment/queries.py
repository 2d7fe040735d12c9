"""Fulfilment queries for staff: the work queue and the SLA report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from fulfilment import queue, sla
from models.actors import Role
from models.catalog import reads as catalog_reads
from models.orders.models import OrderStatus
from models.orders.rules import OPEN_STATUSES
from models.topups.report import digital_report
from schema.caller_dependence import DEPENDS_ON_CALLER
from schema.catalog.types import WarehouseType
from schema.context import Info
from schema.fulfilment.types import SlaReportType
from schema.orders.types import OrderType
from schema.pagination import Connection, connection
from schema.permissions import require_role, require_warehouse

# The open statuses in the order an order moves through them: "Null: A, B and C."
_OPEN = [status.value for status in OrderStatus if status in OPEN_STATUSES]
OPEN_STATUSES_DESCRIPTION = f"Null: {', '.join(_OPEN[:-1])} and {_OPEN[-1]}."


@strawberry.type
class FulfilmentQueries:
    @strawberry.field(
        description="The warehouses the signed-in staff member works in (all, for admins).",
        directives=[DEPENDS_ON_CALLER],
    )
    async def my_warehouses(self, info: Info) -> list[WarehouseType]:
        actor = require_role(info, Role.WAREHOUSE, Role.ADMIN)
        rows = await catalog_reads.warehouses_of(actor=actor)
        return [WarehouseType.from_row(row) for row in rows]

    @strawberry.field(
        description="A warehouse's orders, earliest shipBy first.", directives=[DEPENDS_ON_CALLER]
    )
    async def fulfilment_queue(
        self,
        info: Info,
        warehouse_code: str,
        first: int,
        after: str | None = None,
        status: Annotated[
            list[OrderStatus] | None,
            strawberry.argument(description=OPEN_STATUSES_DESCRIPTION),
        ] = None,
    ) -> Connection[OrderType]:
        require_warehouse(info, warehouse_code)
        page = await queue.work_queue(
            warehouse_code=warehouse_code, statuses=status or None, first=first, after=after
        )
        return connection(page, OrderType.from_row, after=after)

    @strawberry.field(
        description="The promise kept, for orders confirmed in [from, to).",
        directives=[DEPENDS_ON_CALLER],
    )
    async def sla_report(
        self,
        info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        warehouse_code: str | None = None,
    ) -> SlaReportType:
        actor = require_role(info, Role.WAREHOUSE, Role.ADMIN)
        if warehouse_code is not None:
            require_warehouse(info, warehouse_code)
        report = await sla.sla_report(
            actor=actor,
            warehouse_code=warehouse_code,
            start=from_,
            end=to,
            now=info.context.now(),
            at_risk=info.context.services.at_risk,
        )
        digital = None
        if actor.role is Role.ADMIN and warehouse_code is None:
            digital = await digital_report(start=from_, end=to)
        return SlaReportType.from_report(report, digital)
