"""A member's inbox: reading marks messages read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from models.events import NOTIFICATIONS, announce
from models.notifications.models import Notification

MAX_IDS = 100


async def mark_read(*, member_id: int, ids: Sequence[int] | None, now: datetime) -> int:
    """Mark the member's messages read (`ids` None: all of them); how many were unread.
    Another member's ids are ignored, as if they did not exist."""
    query = Notification.filter(member_id=member_id, read_at__isnull=True)
    if ids is not None:
        query = query.filter(id__in=list(ids)[:MAX_IDS])
    changed = await query.update(read_at=now)
    if changed:
        await announce(NOTIFICATIONS, str(member_id))
    return int(changed)
