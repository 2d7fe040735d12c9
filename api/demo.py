"""`pointsmall seed-demo`: a believable mall to try the API on."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from api.demo_data import CATEGORIES, FAMILY_NAMES, GIFTS, GIVEN_NAMES, WAREHOUSES
from fulfilment import tracking
from fulfilment.planning import Planner
from fulfilment.shipments import ship
from models.actors import Actor, Role
from models.aftersales import tickets
from models.aftersales.models import TicketCategory
from models.aftersales.rules import TicketPolicy
from models.catalog import service as catalog
from models.catalog.models import Gift, GiftKind, Stock, Warehouse
from models.members.models import Tier
from models.members.service import Contact, upsert_member
from models.orders import lifecycle, redemption
from models.orders.models import Order, OrderStatus
from models.orders.ports import ShipPlanner
from models.orders.rules import Address, LineRequest
from models.parcels import Scan
from models.points import service as points
from models.topups.ports import TopUpProduct
from models.vouchers import pools
from models.vouchers import rules as vouchers
from models.vouchers.seal import VoucherSeal

DEMO_MEMBER = "13800000001"
DEMO_CURRENCY = "CNY"
DEMO_TIMEZONE = "Asia/Shanghai"
# The warehouse of the demo member's order: `make run` prints a staff token for it.
DEMO_WAREHOUSE = "SH01"
DEMO_ADDRESS = Address(
    "张伟", "13800000001", "上海市", "上海市", "嘉定区", "安亭镇墨玉路 185 号", "", "201805"
)
TIERS = [Tier.STANDARD] * 6 + [Tier.SILVER] * 3 + [Tier.GOLD] * 2 + [Tier.DIAMOND]


async def seed(
    *,
    members: int,
    if_empty: bool,
    planner: ShipPlanner | None = None,
    service: TicketPolicy | None = None,
    seal: VoucherSeal | None = None,
) -> str:
    """Create the demo catalog, stock and members with points; idempotent by design. With a
    planner, the demo member also has an order waiting in DEMO_WAREHOUSE (for the console);
    with members, an open ticket about their delivered mug waits for an agent (`service`:
    the after-sales promise it runs under, the default one when None); with a `seal`, the
    coffee e-voucher has a pool of codes."""
    if if_empty and await Gift.exists():
        return "demo data already present: nothing to do"
    rng = random.Random(20261124)  # the same demo every time
    now = datetime.now(UTC)
    await _catalog(rng)
    await _top_ups()
    vouchers_ = ""
    if seal is not None:
        await _vouchers(seal, now)
        vouchers_ = f" and the e-voucher {DEMO_VOUCHER} with {DEMO_CODES} codes"
    await _members(rng, members, now)
    order = await _demo_order(planner, now) if planner is not None and members else None
    waiting = ""
    if order is not None and order.warehouse_id is not None:
        warehouse = await Warehouse.get(id=order.warehouse_id)
        waiting = f"; their order {order.number} waits in {warehouse.code}"
    if members:
        cup = await _delivered_cup(planner or Planner(), now)
        ticket = await _cup_ticket(cup, service or TicketPolicy(), now)
        waiting += (
            f"; their mug, order {cup}, was delivered two days ago and ticket {ticket} about it"
            " waits for an agent's answer"
        )
    return (
        f"seeded {len(WAREHOUSES)} warehouses, {len(CATEGORIES)} categories, "
        f"{len(GIFTS)} gifts, the top-ups {', '.join(DEMO_TOP_UPS)}{vouchers_}, "
        f"{members} members (demo member {DEMO_MEMBER}{waiting})"
    )


async def _delivered_cup(planner: ShipPlanner, now: datetime) -> str:
    """The demo member's mug, redeemed four days ago, shipped and delivered two days ago: the
    order an after-sales ticket is about ("the cup arrived broken")."""
    placed_at = now - timedelta(days=4)
    request = redemption.RedeemRequest("demo-cup", [LineRequest("HM-MUG", 1)], DEMO_ADDRESS)
    placed = await redemption.redeem(
        member_external_id=DEMO_MEMBER, request=request, now=placed_at, planner=planner
    )
    number = placed.order.number
    staff = Actor(Role.ADMIN, "demo-seed")
    for step in (OrderStatus.PICKING, OrderStatus.PACKED):
        await lifecycle.advance(number=number, to=step, actor=staff, now=placed_at)
    await ship(
        number=number,
        carrier="SF",
        tracking_number="SF-DEMO-CUP-1",
        actor=staff,
        now=now - timedelta(days=3),
        planner=planner,
    )
    scan = Scan("SF", "SF-DEMO-CUP-1", "DELIVERED", "上海嘉定", "本人签收", now - timedelta(days=2))
    await tracking.record(scan=scan, actor=None, now=now)
    return number


async def _cup_ticket(order_number: str, policy: TicketPolicy, now: datetime) -> str:
    """The demo member's ticket about the mug, opened in the app long enough ago that its
    first reply is due within the at-risk threshold: the service desk's queue shows it at
    risk, and a public reply takes it out of risk."""
    due_in = max(policy.at_risk / 2, timedelta(minutes=30))
    opened_at = now - max(policy.first_reply - due_in, timedelta(0))
    request = tickets.TicketRequest(
        category=TicketCategory.DAMAGED,
        text="杯子收到时已经碎了，能换一个吗？ The mug arrived broken: can I have a new one?",
        order_number=order_number,
        idempotency_key="demo-cup-ticket",
    )
    member = Actor(Role.MEMBER, DEMO_MEMBER)
    ticket = await tickets.open_ticket(actor=member, request=request, now=opened_at, policy=policy)
    return ticket.number


async def _demo_order(planner: ShipPlanner, now: datetime) -> Order | None:
    """The demo member redeems a points-only gift that DEMO_WAREHOUSE holds most of (the
    planner prefers the warehouse with the most units among those shipping as early)."""
    units: dict[int, dict[str, int]] = {}
    for row in await Stock.all().prefetch_related("warehouse"):
        units.setdefault(row.gift_id, {})[row.warehouse.code] = int(row.on_hand)
    for gift in await Gift.filter(cash_price__isnull=True, points_price__lte=9_000).order_by("id"):
        held = units.get(gift.id, {})
        here = held.get(DEMO_WAREHOUSE, 0)
        elsewhere = [n for code, n in held.items() if code != DEMO_WAREHOUSE]
        if here > max(elsewhere, default=0):
            lines = [LineRequest(gift.sku, 1)]
            request = redemption.RedeemRequest("demo-console", lines, DEMO_ADDRESS)
            placed = await redemption.redeem(
                member_external_id=DEMO_MEMBER, request=request, now=now, planner=planner
            )
            return placed.order
    return None


async def _catalog(rng: random.Random) -> None:
    for position, (slug, name) in enumerate(CATEGORIES):
        await catalog.upsert_category(slug=slug, name=name)
        await _position(slug, position)
    for code, name, capacity, zone, closed in WAREHOUSES:
        await catalog.upsert_warehouse(
            code=code,
            name=name,
            daily_capacity=capacity,
            timezone=zone,
            closed_dates=[datetime.fromisoformat(d).date() for d in closed],
            default_timezone=DEMO_TIMEZONE,
        )
    for gift in GIFTS:
        await catalog.upsert_gift(
            fields=catalog.GiftFields(
                sku=gift.sku,
                name=gift.name,
                description=f"{gift.name}. 正品行货，全国包邮。Genuine, shipped free nationwide.",
                image_url=f"https://img.pointsmall.example/gifts/{gift.sku.lower()}.jpg",
                category_slug=gift.category,
                points_price=gift.points,
                cash_price=gift.cash,
                currency=DEMO_CURRENCY,
                limit_per_member=gift.limit,
                active=True,
            ),
            default_currency=DEMO_CURRENCY,
        )
        for code, *_ in WAREHOUSES:
            units = 5 if gift.sku == "KD-HOT" else rng.randrange(0, 400)
            if units:
                await catalog.adjust_stock(
                    sku=gift.sku, warehouse_code=code, delta=units, reason="demo receipt"
                )


# Phone credit and a data pack, sent to the member's own number through the charging system
# (`make run` starts its local stand-in): (sku, name, points, product, face value).
DEMO_TOP_UPS = {
    "TU-CREDIT-10": ("10元话费 ¥10 phone credit", 840, TopUpProduct.CREDIT, 1_000),
    "TU-DATA-1G": ("1GB流量包 1 GB data pack", 600, TopUpProduct.DATA, 1_024),
}


async def _top_ups() -> None:
    for sku, (name, points_price, product, face_value) in DEMO_TOP_UPS.items():
        await catalog.upsert_gift(
            fields=catalog.GiftFields(
                sku=sku,
                name=name,
                description=(
                    "充值到您的手机号，10分钟内到账。Credited to your own number within 10 minutes."
                ),
                image_url=f"https://img.pointsmall.example/gifts/{sku.lower()}.jpg",
                category_slug="electronics",
                points_price=points_price,
                cash_price=None,
                currency=DEMO_CURRENCY,
                limit_per_member=None,
                active=True,
                kind=GiftKind.TOP_UP,
                top_up_product=product,
                face_value=face_value,
                daily_budget=DEMO_DAILY_BUDGET,
            ),
            default_currency=DEMO_CURRENCY,
        )


DEMO_DAILY_BUDGET = 1_000_000  # face value a day: ¥10,000 of credit, or ~1 TB of data
DEMO_VOUCHER = "EV-LUCKIN-20"
DEMO_CODES = 200


async def _vouchers(seal: VoucherSeal, now: datetime) -> None:
    """A coffee e-voucher with a pool of codes (the same codes every time: a second seed
    adds none)."""
    await catalog.upsert_gift(
        fields=catalog.GiftFields(
            sku=DEMO_VOUCHER,
            name="瑞幸咖啡20元券 Luckin Coffee ¥20 e-voucher",
            description="到店或App下单时出示券码。Show the code in store or in the Luckin app.",
            image_url="https://img.pointsmall.example/gifts/ev-luckin-20.jpg",
            category_slug="food",
            points_price=1_800,
            cash_price=None,
            currency=DEMO_CURRENCY,
            limit_per_member=None,
            active=True,
            kind=GiftKind.E_VOUCHER,
            partner="Luckin Coffee 瑞幸咖啡",
            instructions=(
                "在瑞幸App“兑换券”中输入券码。Enter the code under Vouchers in the Luckin app."
            ),
        ),
        default_currency=DEMO_CURRENCY,
    )
    expires = now + timedelta(days=180)
    read = (
        vouchers.check_entry(n, f"LKDEMO-{n:04d}", expires, now=now)
        for n in range(1, DEMO_CODES + 1)
    )
    await pools.import_codes(sku=DEMO_VOUCHER, read=read, seal=seal, now=now)


async def _position(slug: str, position: int) -> None:
    from models.catalog.models import Category

    await Category.filter(slug=slug).update(position=position)


async def _members(rng: random.Random, count: int, now: datetime) -> None:
    for index in range(count):
        external_id = DEMO_MEMBER if index == 0 else f"138{rng.randrange(10**8):08d}"
        name = rng.choice(FAMILY_NAMES) + rng.choice(GIVEN_NAMES)
        # The demo member's number is the one `make sms-demo` texts from; every tenth member
        # reads English and a few have no mobile, so the demo shows each case.
        contact = Contact(
            mobile="" if index % 17 == 5 else f"+86{external_id}",
            language="en" if index % 10 == 3 else "zh-CN",
        )
        await upsert_member(
            external_id=external_id, display_name=name, tier=rng.choice(TIERS), contact=contact
        )
        for month in range(rng.randrange(1, 7)):
            await points.award(
                member_external_id=external_id,
                amount=rng.randrange(300, 4000) if index else 9_000,
                reason="话费积分 Monthly bill points",
                external_ref=f"demo:{external_id}:{month}",
                now=now,
            )
