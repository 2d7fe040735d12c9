"""Rows 11, 12 and 13: after-sales. The service report over a million tickets and more, one
worker pass with a few due among a million open tickets, the agents' queue's statements.

Their own data set, filled with set-based SQL: members; `service_open` open tickets, of
which the first `service_due[1]` have a first-reply deadline falling due one a second up to
`now` (as in row 5: one in ten is its breach, which owes a compensation, its at-risk alert
raised by an earlier pass; the others turn at risk), two thirds of the rest answered and
waiting for their resolution, the others still within their 48 hours; and `service_resolved`
tickets resolved and rated, so the report's percentiles and satisfaction have rows to work
on.
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta
from typing import Any

import httpx

from api.app import create_app
from api.worker import run_once
from benchmarks import dataset
from benchmarks.inproc_rows import orm, quiet
from benchmarks.report import Row
from benchmarks.sizes import Sizes
from models.points.audit import audit
from tests.support.graphql import GraphQLClient, token
from tests.support.settings import settings_for
from tests.support.sql import counting_statements

BASE = "pointsmall_bench_service_base"
COPY = "pointsmall_bench_service"
NO_DEADLINE = "'2999-12-31 00:00:00+00'::timestamptz"


def _tickets(sizes: Sizes, now: datetime) -> str:
    many, t, n = sizes.service_due[1], dataset._ts(now), sizes.members
    total = sizes.service_open + sizes.service_resolved
    return f"""
    CREATE TEMP TABLE seed_ticket AS
    SELECT i, 1 + (i - 1) % {n} AS member_id,
           CASE WHEN i <= {many} AND i % 10 = 0
                     THEN {t} - ({many} - i) * interval '1 second' - interval '48 hours'
                WHEN i <= {many}
                     THEN {t} - ({many} - i) * interval '1 second' - interval '40 hours'
                WHEN i > {sizes.service_open}
                     THEN {t} - interval '30 days' + (i % 600000) * interval '2 seconds'
                ELSE {t} - (i % 86400) * interval '1 second' - interval '1 hour' END AS opened_at,
           CASE WHEN i <= {many} THEN NULL
                WHEN i > {sizes.service_open} OR i % 3 <> 1 THEN 'REPLIED'
                ELSE 'SOON' END AS kind
    FROM generate_series(1, {total}) i;
    INSERT INTO ticket (id, number, member_id, category, state, channel, subject, assignee,
                        opened_at, first_reply_due_at, first_replied_at, reply_cycle,
                        resolve_due_at, resolution_cycle, resolved_at, closed_at, paused_at,
                        next_due_at, attention, updated_at)
    SELECT i, 'TB' || lpad(i::text, 10, '0'), member_id,
           (ARRAY['PARCEL_NOT_RECEIVED', 'DAMAGED', 'WRONG_ITEM', 'QUALITY_FAULT',
                  'SERVICE_COMPLAINT', 'QUESTION'])[1 + i % 6],
           CASE WHEN i > {sizes.service_open} THEN 'CLOSED'
                WHEN kind = 'REPLIED' THEN 'OPEN' ELSE 'NEW' END,
           'APP', 'Ticket ' || i, CASE WHEN kind = 'REPLIED' THEN 'agent-' || i % 40 ELSE '' END,
           opened_at, opened_at + interval '48 hours',
           CASE WHEN i > {sizes.service_open} THEN opened_at + (1 + i % 50) * interval '1 hour'
                WHEN kind = 'REPLIED' THEN opened_at + (i % 3600) * interval '1 second' END, 0,
           CASE WHEN i <= {sizes.service_open} THEN opened_at + interval '7 days' END, 0,
           CASE WHEN i > {sizes.service_open}
                THEN opened_at + (60 + i % 100) * interval '1 hour' END,
           CASE WHEN i > {sizes.service_open} THEN opened_at + interval '9 days' END, NULL,
           CASE WHEN i > {sizes.service_open} THEN {NO_DEADLINE}
                WHEN kind = 'REPLIED' THEN opened_at + interval '7 days'
                ELSE opened_at + interval '48 hours' END,
           false, {t}
    FROM seed_ticket;
    INSERT INTO ticket_deadline (ticket_id, kind, cycle, due_at)
    SELECT i, 'FIRST_REPLY_BREACHED', 0, opened_at + interval '48 hours' FROM seed_ticket
    WHERE i <= {sizes.service_open} AND kind IS DISTINCT FROM 'REPLIED';
    INSERT INTO ticket_deadline (ticket_id, kind, cycle, due_at)
    SELECT i, 'FIRST_REPLY_AT_RISK', 0, opened_at + interval '40 hours' FROM seed_ticket
    WHERE (i > {many} AND i <= {sizes.service_open} AND kind = 'SOON')
       OR (i <= {many} AND i % 10 <> 0);
    INSERT INTO ticket_deadline (ticket_id, kind, cycle, due_at)
    SELECT i, k, 0, opened_at + interval '7 days' - CASE k WHEN 'RESOLUTION_AT_RISK'
                                                          THEN interval '8 hours'
                                                          ELSE interval '0 hours' END
    FROM seed_ticket, unnest(ARRAY['RESOLUTION_AT_RISK', 'RESOLUTION_BREACHED']) k
    WHERE i <= {sizes.service_open};
    INSERT INTO ticket_alert (ticket_id, kind, cycle, raised_at, compensated_at)
    SELECT i, 'FIRST_REPLY_AT_RISK', 0, opened_at + interval '40 hours', NULL
    FROM seed_ticket WHERE i <= {many} AND i % 10 = 0;
    INSERT INTO service_survey (key, member_id, ticket_id, order_id, asked_at, rating, rated_at,
                                rated_by)
    SELECT 'ticket:TB' || lpad(i::text, 10, '0') || ':0', member_id, i, NULL,
           opened_at + interval '3 days',
           CASE WHEN i % 5 <> 0 THEN 1 + i % 5 END,
           CASE WHEN i % 5 <> 0 THEN opened_at + interval '4 days' END,
           CASE WHEN i % 5 <> 0 THEN 'SMS' ELSE '' END
    FROM seed_ticket WHERE i > {sizes.service_open};
    SELECT setval(pg_get_serial_sequence('ticket', 'id'), {total} + 1, false);
    """


async def prepare(sizes: Sizes, now: datetime) -> None:
    url = await dataset.recreate(BASE)
    dataset.migrate(url)
    started = time.perf_counter()
    async with dataset.bulk_loading(url) as db:
        await dataset._members(db, sizes, now)
        await db.execute(_tickets(sizes, now))
        await dataset._finish(db)
    total = sizes.service_open + sizes.service_resolved
    print(f"  prepared {total:,} tickets in {time.perf_counter() - started:.0f} s")


async def report(sizes: Sizes, now: datetime, repeat: int) -> dict[str, Any]:
    """Row 11: `ServiceReport` over every ticket, in-process (GraphQL and all), and row 13:
    the queue's statements at 10 and 100 tickets a page."""
    url = dataset.database_url(BASE)
    settings = settings_for(url, catalog_cache_seconds=0)
    app = create_app(settings, manage_database=False, listen=False)
    agent = token("agent", "agent-bench")
    window = {
        "from": (now - timedelta(days=60)).isoformat(),
        "to": (now + timedelta(days=1)).isoformat(),
    }
    seconds, statements, answer = [], [], {}
    async with (
        orm(url),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http,
    ):
        api = GraphQLClient(http)
        await api.op("ServiceReport", window, auth=agent)  # warm: plans and caches
        for _ in range(max(repeat, 3)):
            began = time.perf_counter()
            answer = (await api.op("ServiceReport", window, auth=agent)).data["serviceReport"]
            seconds.append(time.perf_counter() - began)
        for size in sizes.counted_sizes:
            await api.op("TicketQueue", {"first": size}, auth=agent)
            with quiet(), counting_statements() as sent:
                page = await api.op("TicketQueue", {"first": size}, auth=agent)
            if len(page.data["ticketQueue"]["edges"]) != size:
                raise RuntimeError(f"TicketQueue returned fewer than {size} tickets")
            statements.append(len(sent))
    total = sizes.service_open + sizes.service_resolved
    if answer.get("ticketsOpened") != total:
        raise RuntimeError(f"serviceReport counted {answer.get('ticketsOpened')}, not {total}")
    print(f"  serviceReport over {total:,} tickets: {statistics.median(seconds) * 1000:,.0f} ms")
    return {"seconds": seconds, "answer": answer, "queue_statements": statements}


async def one_pass(at: datetime, *, check_audit: bool) -> dict[str, Any]:
    """A worker pass at `at` on a fresh copy of the service data set."""
    url = await dataset.recreate(COPY, template=BASE)
    try:
        async with orm(url):
            began = time.perf_counter()
            summary = await run_once(settings_for(url), now=at)
            seconds = time.perf_counter() - began
            clean = not await audit() if check_audit else None
    finally:
        await dataset.drop(COPY)
    return {"seconds": seconds, "summary": str(summary), "audit_clean": clean}


async def sweeper(sizes: Sizes, now: datetime, repeat: int) -> dict[str, Any]:
    """Row 12: pass times with no, few and many tickets due among `service_open` open ones."""
    few, many = sizes.service_due
    moments = {
        "0": now - timedelta(seconds=many + 1),
        str(few): now - timedelta(seconds=many - few),
        str(many): now,
    }
    found: dict[str, Any] = {due: [] for due in moments}
    for rep in range(repeat):
        for due, at in moments.items():
            outcome = await one_pass(at, check_audit=rep == 0 and due != "0")
            found[due].append(outcome)
            print(
                f"  ticket pass, {due} due: {outcome['seconds'] * 1000:,.0f} ms; "
                f"{outcome['summary']}"
            )
    return found


def rows(found: dict[str, Any], sizes: Sizes) -> list[Row]:
    service = found["service"]
    total = sizes.service_open + sizes.service_resolved
    seconds = statistics.median(service["seconds"])
    few, many = sizes.service_due
    passes = found["ticket_sweeper"]
    none, at_few, at_many = (
        statistics.median([r["seconds"] for r in passes[str(d)]]) for d in (0, few, many)
    )
    per_few, per_many = (at_few - none) / few * 1000, (at_many - none) / many * 1000
    audit_ok = all(r["audit_clean"] in (None, True) for rs in passes.values() for r in rs)
    small, large = service["queue_statements"][0], service["queue_statements"][-1]
    return [
        Row(
            "11",
            f"serviceReport over {total:,} tickets ({sizes.service_open:,} open)",
            f"{seconds * 1000:,.0f} ms",
            "",
            f"average rating {service['answer']['averageRating']}",
            "≤ 1 s",
            seconds <= 1.0,
            [],
        ),
        Row(
            "12",
            f"one worker pass, {sizes.service_open:,} open tickets: {few:,} due (and {many:,}, 0)",
            f"{at_few * 1000:,.0f} ms ({at_many * 1000:,.0f} ms, {none * 1000:,.0f} ms)",
            "",
            f"{per_few:.2f} → {per_many:.2f} ms/due ticket",
            "≤ 1 s, grows with due",
            at_few <= 1.0 and per_many <= 2 * per_few + 0.01 and audit_ok,
            [] if audit_ok else ["audit not clean after a pass"],
        ),
        Row(
            "13",
            "SQL statements of the agents' queue at 10/100 tickets",
            f"TicketQueue {small}/{large}",
            "",
            "",
            "equal, ≤ 5",
            small == large <= 5,
            [],
        ),
    ]
