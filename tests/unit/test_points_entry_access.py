"""Whose points entries a caller may see (`models.points.rules.entry_access`)."""

from __future__ import annotations

from models.actors import Actor, Role
from models.points.rules import EntryAccess, entry_access


def test_an_admin_sees_every_members_entries() -> None:
    assert entry_access(Actor(Role.ADMIN, "admin-1")) == EntryAccess(every_member=True)


def test_a_member_sees_only_their_own_entries() -> None:
    access = entry_access(Actor(Role.MEMBER, "C1"))
    assert access == EntryAccess(member="C1")
    assert not access.nothing


def test_staff_and_callers_without_a_token_see_none() -> None:
    staff = Actor(Role.WAREHOUSE, "staff-1", frozenset({"SH01"}))
    assert entry_access(staff).nothing
    assert entry_access(None).nothing
