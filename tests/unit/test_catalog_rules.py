"""The pure catalog rules: who sees a gift, and what "affordable" means."""

from __future__ import annotations

import pytest

from models.actors import Actor, Role
from models.catalog.rules import affordable_ceiling, may_see_gift

ADMIN = Actor(Role.ADMIN, "admin-1")
MEMBER = Actor(Role.MEMBER, "C1")
STAFF = Actor(Role.WAREHOUSE, "staff-1", frozenset({"SH01"}))


@pytest.mark.parametrize("viewer", [None, MEMBER, STAFF, ADMIN])
def test_everyone_sees_an_active_gift(viewer: Actor | None) -> None:
    assert may_see_gift(viewer, active=True)


@pytest.mark.parametrize("viewer", [None, MEMBER, STAFF])
def test_only_the_back_office_sees_an_inactive_gift(viewer: Actor | None) -> None:
    assert not may_see_gift(viewer, active=False)
    assert may_see_gift(ADMIN, active=False)


def test_affordable_is_up_to_the_available_points() -> None:
    assert affordable_ceiling(None, available=6900) == 6900


def test_affordable_keeps_a_lower_max_points_the_member_asked_for() -> None:
    assert affordable_ceiling(5000, available=6900) == 5000
    assert affordable_ceiling(9000, available=6900) == 6900


def test_nothing_is_affordable_without_available_points() -> None:
    assert affordable_ceiling(None, available=0) == 0
