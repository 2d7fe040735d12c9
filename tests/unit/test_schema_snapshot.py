"""The committed schema.graphql is the schema the code builds, and changes do not break it."""

from __future__ import annotations

import pytest

from api.schema_check import REGENERATE, SNAPSHOT, breaking_changes, current_sdl, snapshot_at


def test_committed_snapshot_matches_the_code() -> None:
    assert SNAPSHOT.exists(), f"schema.graphql is missing; create it with: {REGENERATE}"
    assert SNAPSHOT.read_text() == current_sdl(), (
        f"schema.graphql differs from the code's schema; regenerate it with: {REGENERATE}"
    )


def test_schema_has_no_breaking_changes_against_the_last_commit() -> None:
    committed = snapshot_at("HEAD")
    if committed is None:
        pytest.skip("no committed schema.graphql to compare with (not a git checkout)")
    changes = breaking_changes(committed, current_sdl())
    assert not changes, "breaking changes against HEAD:schema.graphql:\n" + "\n".join(
        f"  {c.type.name}: {c.description}" for c in changes
    )


def test_breaking_change_detection_notices_a_removed_field() -> None:
    old = "type Query { a: Int, b: Int }"
    new = "type Query { a: Int }"
    assert [c.description for c in breaking_changes(old, new)] == ["Field Query.b was removed."]
