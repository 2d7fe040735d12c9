"""The worker's pass composes the domains' jobs; a new module's job joins by being composed."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from api.worker import SOURCES, JobContext, run_forever
from fulfilment.models import Alert
from models.jobs import Job
from tests.support.catalog import small_mall
from tests.support.fulfilment import place
from tests.support.graphql import GraphQLClient
from tests.support.members import member_with_points
from tests.support.settings import settings_for


class Reminders:
    """A made-up module's periodic work, declared as a domain's `scheduled.py` declares its
    own: it counts the breaches compensated at `now`."""

    def __init__(self) -> None:
        self.runs: list[datetime] = []

    def jobs(self, context: JobContext) -> list[Job]:
        async def remind(*, now: datetime) -> dict[str, int]:
            self.runs.append(now)
            return {"reminded": await Alert.filter(compensated_at=now).count()}

        return [Job("reminders", {"reminded": "reminders sent"}, remind)]


def counted(metric: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(metric, labels) or 0.0


async def test_a_job_declared_outside_the_domains_runs_in_the_pass_after_theirs_and_is_counted(
    api: GraphQLClient, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pointsmall.worker")
    await small_mall(api)
    await member_with_points("WK1", 30_000)
    await place("WK1", "late", ("EL-PB10K", 1), now=datetime.now(UTC) - timedelta(days=8))
    now = datetime.now(UTC)
    stop = asyncio.Event()
    reminders = Reminders()

    def clock() -> datetime:  # read at the start of a pass: this one is the last
        stop.set()
        return now

    steps = "pointsmall_sweeper_actions_total"
    before = {
        "reminded": counted(steps, step="reminded"),
        "compensated": counted(steps, step="compensated"),
        "breached": counted("pointsmall_alerts_total", kind="BREACHED"),
    }

    passes = await run_forever(
        settings_for(database_url), clock=clock, stop=stop, sources=[*SOURCES, reminders.jobs]
    )

    assert passes == 1
    assert reminders.runs == [now]
    assert counted(steps, step="reminded") - before["reminded"] == 1, (
        "the breach was compensated earlier in the same pass, and the pass counted the job"
    )
    assert counted(steps, step="compensated") - before["compensated"] == 1
    assert counted("pointsmall_alerts_total", kind="BREACHED") - before["breached"] == 1
    [logged] = [
        r.getMessage() for r in caplog.records if r.getMessage().startswith("sweeper pass:")
    ]
    assert logged == (
        "sweeper pass: alerts at risk 1, breached 1; compensated 1; expired lots 0; "
        "cancelled unpaid 0; payments settled 0; expiry notices 0; texts taken in 0; "
        "tickets at risk 0, breached 0; compensated 0; tickets closed 0; returns refunded 0; "
        "pools low 0; top-ups delivered 0, top-ups refunded 0, top-ups waiting for an answer 0, "
        "top-ups at risk 0; reminders sent 1"
    )
