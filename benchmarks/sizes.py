"""How big a run is: the full benchmark (the issue's sizes) and the CI smoke run."""

from __future__ import annotations

from dataclasses import dataclass

HOT_SKU = "HOT-CAMPAIGN-01"
HOT_PRICE = 100
VOUCHER_SKU = "EV-FLASH-01"  # row 14's flash sale: an e-voucher and its pool of codes
VOUCHER_PRICE = 100
TOP_UP_SKU = "TU-BENCH-01"  # row 15's top-up: ¥10 of phone credit, inactive
SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Sizes:
    members: int
    gifts: int
    orders: int
    hot_stock: int
    sweep_open: int
    sweep_due: tuple[int, int]
    import_rows: int
    mixed_requests: int
    seconds: int  # length of one wrk measurement
    warmup_seconds: int
    tokens: int  # distinct members the load generator rotates through
    sms_backlog: int  # messages due when the worker starts (row 8)
    claim_waiting: tuple[int, int]  # messages waiting, few and very many (row 9)
    service_open: int  # after-sales: open tickets (rows 11 and 12)
    service_resolved: int  # and resolved, rated ones besides (row 11)
    service_due: tuple[int, int]
    counted_sizes: tuple[int, int] = (10, 100)
    voucher_codes: int = 100_000  # row 14's pool
    top_up_lines: int = 10_000  # row 15's top-ups, one line an order

    @property
    def smoke(self) -> bool:
        return self.members < 10_000


FULL = Sizes(
    members=100_000,
    gifts=500,
    orders=1_000_000,
    hot_stock=1_000_000,
    sweep_open=1_000_000,
    sweep_due=(1_000, 10_000),
    import_rows=1_000_000,
    mixed_requests=100_000,
    seconds=10,
    warmup_seconds=3,
    tokens=20_000,
    sms_backlog=100_000,
    claim_waiting=(10_000, 1_000_000),
    service_open=1_000_000,
    service_resolved=250_000,
    service_due=(1_000, 10_000),
)

SMOKE = Sizes(
    members=2_000,
    gifts=120,
    orders=20_000,
    hot_stock=1_000_000,
    sweep_open=20_000,
    sweep_due=(20, 200),
    import_rows=5_000,
    mixed_requests=2_000,
    seconds=2,
    warmup_seconds=0,
    tokens=1_000,
    sms_backlog=2_000,
    claim_waiting=(1_000, 20_000),
    service_open=20_000,
    service_resolved=5_000,
    service_due=(20, 200),
    voucher_codes=5_000,
    top_up_lines=300,
)
