"""The world the security tests act in: two members, two warehouses, an order in each.

Member A has an order allocated to W1 (SH01: only it stocks the mug) and a spare one to
cancel; member B has an order in W2 (GZ01: only it stocks the earbuds). The callers are
anonymous, each member, staff of each warehouse, an admin and a service agent. Member A has
a ticket about the W1 order, and a resolved one (whose service they may rate); an agent's
goodwill credit awaits a supervisor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from strawberry import relay

from fulfilment.planning import Planner
from models.actors import Actor, Role
from models.aftersales import goodwill, replies, tickets
from models.aftersales.models import TicketCategory
from models.aftersales.rules import TicketPolicy
from models.catalog.models import Warehouse
from models.members.models import Member
from models.orders import redemption
from models.orders.models import Order
from models.orders.rules import Address, LineRequest
from models.points.models import PointsEntry
from tests.support.catalog import small_mall
from tests.support.graphql import GraphQLClient, admin_token, member_token, staff_token, token
from tests.support.members import member_with_points

MEMBER_A, MEMBER_B = "SEC-A", "SEC-B"
W1, W2 = "SH01", "GZ01"
CALLERS = ("anonymous", "member_a", "member_b", "staff_w1", "staff_w2", "admin", "agent")

A_ADDRESS = Address(
    "李秀英", "13912345678", "上海市", "上海市", "徐汇区", "漕溪北路 88 号", "", "200030"
)
B_ADDRESS = Address(
    "陈杰", "13598765432", "广东省", "广州市", "天河区", "体育西路 6 号", "", "510620"
)
# What only member A, their warehouse and the back office may ever read.
A_SECRETS = (A_ADDRESS.phone, A_ADDRESS.recipient, A_ADDRESS.line1)


def caller_token(caller: str) -> str | None:
    """The bearer token of a caller of the matrix (None: anonymous)."""
    return {
        "anonymous": None,
        "member_a": member_token(MEMBER_A),
        "member_b": member_token(MEMBER_B),
        "staff_w1": staff_token(W1),
        "staff_w2": staff_token(W2),
        "admin": admin_token(),
        "agent": token("agent", "agent-1"),
    }[caller]


@dataclass(frozen=True)
class World:
    order_a: str
    spare_a: str
    order_b: str
    order_a_gid: str
    member_a_gid: str
    entry_a_gid: str
    ticket_a: str
    rated_ticket_a: str
    pending_goodwill_gid: str


async def build_world(api: GraphQLClient) -> World:
    """The small mall, both members with points and their orders, as the matrix needs them."""
    await small_mall(api)
    await member_with_points(MEMBER_A, 100_000)
    await member_with_points(MEMBER_B, 100_000)
    order_a = await place(MEMBER_A, "sec-a-1", "HM-MUG", A_ADDRESS)
    spare_a = await place(MEMBER_A, "sec-a-2", "HM-MUG", A_ADDRESS)
    order_b = await place(MEMBER_B, "sec-b-1", "EL-BUDS", B_ADDRESS)
    member_a = await Member.get(external_id=MEMBER_A)
    entry_a = await PointsEntry.filter(member_id=member_a.id).order_by("id").first()
    assert entry_a is not None
    assert await _warehouse_code(order_a.warehouse_id) == W1
    assert await _warehouse_code(order_b.warehouse_id) == W2
    return World(
        order_a=order_a.number,
        spare_a=spare_a.number,
        order_b=order_b.number,
        order_a_gid=relay.to_base64("RedemptionOrder", order_a.id),
        member_a_gid=relay.to_base64("Member", member_a.id),
        entry_a_gid=relay.to_base64("PointsEntry", entry_a.id),
        **await _tickets(order_a.number),
    )


async def _tickets(order_number: str) -> dict[str, str]:
    """Member A's tickets: one about the W1 order, one resolved (rated later), and a
    goodwill credit above the agent's cap, awaiting approval."""
    now = datetime.now(UTC)
    policy = TicketPolicy()
    member_a, agent = Actor(Role.MEMBER, MEMBER_A), Actor(Role.AGENT, "agent-1")
    about = tickets.TicketRequest(TicketCategory.DAMAGED, "杯子碎了", order_number=order_number)
    ticket = await tickets.open_ticket(actor=member_a, request=about, now=now, policy=policy)
    other = tickets.TicketRequest(TicketCategory.QUESTION, "积分什么时候到账？")
    rated = await tickets.open_ticket(actor=member_a, request=other, now=now, policy=policy)
    await replies.resolve(
        actor=agent, number=rated.number, summary="已答复", now=now, policy=policy
    )
    pending = await goodwill.credit_goodwill(
        actor=agent,
        number=rated.number,
        key="sec-pending",
        amount=policy.goodwill_daily_cap + 1,
        reason="goodwill",
        request_approval=True,
        now=now,
        policy=policy,
    )
    return {
        "ticket_a": ticket.number,
        "rated_ticket_a": rated.number,
        "pending_goodwill_gid": relay.to_base64("Resolution", pending.resolution.id),
    }


async def place(member: str, key: str, sku: str, address: Address) -> Order:
    """A confirmed order of one `sku`, placed through the redemption."""
    request = redemption.RedeemRequest(key, [LineRequest(sku, 1)], address)
    placed = await redemption.redeem(
        member_external_id=member, request=request, now=datetime.now(UTC), planner=Planner()
    )
    return placed.order


async def _warehouse_code(warehouse_id: int | None) -> str | None:
    found = await Warehouse.get_or_none(id=warehouse_id)
    return found.code if found else None
