"""Periodic jobs: the one shape in which every domain declares its periodic work.

Each domain's `scheduled.py` builds its jobs from the policy and the ports they need (a
compensation rate, a payment timeout, a batch size, a ship planner, a payment gateway),
in the order they must run. The `worker` command composes the domains' lists into a pass
(`api/worker.py`) without knowing what any job does, so a new module's job is declared in
that module's `scheduled.py` and composed by the worker: no other domain's file changes.

A job runs at `now` and says what it did as counts by label. Its `counts` name those
labels, in order, with the words a pass's summary reads them by: a pass reports zero for
work a job found none of, and /metrics counts each label.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class JobRun(Protocol):
    def __call__(self, *, now: datetime) -> Awaitable[Mapping[str, int]]:
        """Do the job's work due at `now`; what it did, counted by label."""
        ...


@dataclass(frozen=True)
class Job:
    """A domain's periodic work: its name (for logs), what it counts, and one run of it."""

    name: str
    counts: Mapping[str, str]
    run: JobRun
