"""A ticket's timeline: every message, note, call, state change and resolution, in order.

Entries are appended, never edited. Members see only the public ones (their own messages,
replies to them, calls, state changes, resolutions); internal notes stay with the agents.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from models.actors import Actor
from models.aftersales.models import TimelineEntry, TimelineKind

SYSTEM = "system"
INTERNAL = frozenset({TimelineKind.INTERNAL_NOTE, TimelineKind.ASSIGNMENT})


def role_of(actor: Actor | None) -> str:
    """Who wrote an entry, as the timeline shows it: member, agent, admin, or system."""
    return SYSTEM if actor is None else actor.role.value


async def add(
    *,
    ticket_id: int,
    kind: TimelineKind,
    actor: Actor | None,
    now: datetime,
    body: str = "",
    channel: str = "",
    call_outcome: str = "",
    data: Mapping[str, Any] | None = None,
) -> TimelineEntry:
    """Append an entry (actor None: the service itself)."""
    return await TimelineEntry.create(
        ticket_id=ticket_id,
        kind=kind,
        author_role=role_of(actor),
        author=actor.subject if actor is not None else "",
        body=body,
        channel=channel,
        call_outcome=call_outcome,
        public=kind not in INTERNAL,
        data=dict(data or {}),
        created_at=now,
    )
