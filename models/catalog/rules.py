"""Pure catalog rules: who sees a gift, and what a member's points can pay for."""

from __future__ import annotations

from models.actors import Actor


def may_see_gift(viewer: Actor | None, *, active: bool) -> bool:
    """Active gifts are public; an inactive one is the back office's (admins) alone, on
    every path that hands out a gift (by SKU, by global id, through a loader)."""
    return active or (viewer is not None and viewer.is_admin)


def affordable_ceiling(max_points: int | None, *, available: int) -> int:
    """The highest points price a gift may have to be affordable: what the member has
    available, and no more than the `max_points` they asked for."""
    return available if max_points is None else min(max_points, available)
