"""Tickets below the API: opened, answered and swept through the after-sales services."""

from __future__ import annotations

from datetime import datetime

from api.wiring import SweepPolicy
from api.worker import SOURCES, JobContext, PassReport, compose, run_pass
from fulfilment.planning import Planner
from models.actors import Actor, Role
from models.aftersales import tickets
from models.aftersales.models import Ticket, TicketCategory
from models.aftersales.rules import TicketPolicy

POLICY = TicketPolicy()
AGENT = Actor(Role.AGENT, "agent-1")
SUPERVISOR = Actor(Role.ADMIN, "admin-1")


def member(external_id: str) -> Actor:
    return Actor(Role.MEMBER, external_id)


async def opened(
    external_id: str,
    text: str = "杯子碎了 The cup arrived broken",
    *,
    at: datetime,
    order_number: str | None = None,
    category: TicketCategory = TicketCategory.DAMAGED,
) -> Ticket:
    """A ticket the member opened in the app at `at`."""
    request = tickets.TicketRequest(category=category, text=text, order_number=order_number)
    return await tickets.open_ticket(
        actor=member(external_id), request=request, now=at, policy=POLICY
    )


async def fresh(ticket: Ticket) -> Ticket:
    return await Ticket.get(id=ticket.id)


async def pass_at(now: datetime, *, batch: int = 100) -> PassReport:
    """One worker pass of every domain's jobs at `now`."""
    context = JobContext(planner=Planner(), gateway=None, policy=SweepPolicy(batch=batch))
    return await run_pass(compose(SOURCES, context), now=now)


async def member_with_mobile(external_id: str, mobile: str, *, language: str = "zh-CN") -> None:
    """A member the SMS router knows by their mobile."""
    from models.members import service as members
    from models.members.models import Tier

    await members.upsert_member(
        external_id=external_id,
        display_name="",
        tier=Tier.STANDARD,
        contact=members.Contact(mobile=mobile, language=language),
    )


async def texted(sender: str, body: str, *, at: datetime) -> str:
    """A text from a handset, routed as the SMS centre hands it over; how it was handled."""
    from models.notifications import router
    from models.notifications.ports import InboundSms as Text

    routed = await router.route(
        Text(sender, body, at), now=at, policy=router.RouterPolicy(replies_per_hour=100)
    )
    return routed.handled_as.value


async def delivered(external_id: str, key: str, sku: str, tracking: str, *, units: int = 1):  # type: ignore[no-untyped-def]
    """An order of `units` of `sku`, placed, shipped with SF and delivered (a carrier scan)."""
    from datetime import UTC, timedelta

    from fulfilment import rules as fulfilment_rules
    from fulfilment import tracking as carrier_scans
    from models.orders.models import Order
    from tests.support.fulfilment import place, shipped

    order = await place(external_id, key, (sku, units))
    at = datetime.now(UTC) - timedelta(hours=2)
    await shipped(order.number, tracking, at=at - timedelta(hours=20))
    scan = fulfilment_rules.Scan("SF", tracking, "DELIVERED", "上海", "签收", at)
    await carrier_scans.record(scan=scan, actor=None, now=datetime.now(UTC))
    return await Order.get(id=order.id)
