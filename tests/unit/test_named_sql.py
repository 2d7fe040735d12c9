"""Statements with named placeholders: numbered once, bound by name."""

from __future__ import annotations

import pytest

from models.sql import NamedStatement


def test_names_are_numbered_by_first_appearance_and_a_repeated_name_keeps_its_number() -> None:
    statement = NamedStatement.of(
        "SELECT $now::timestamptz, $ceiling, $now WHERE a::int > $ceiling"
    )
    assert statement.text == "SELECT $1::timestamptz, $2, $1 WHERE a::int > $2"
    assert statement.names == ("now", "ceiling")


def test_values_are_bound_by_name_in_placeholder_order() -> None:
    statement = NamedStatement.of("UPDATE t SET a = $outcome WHERE b = ANY($refs)")
    assert statement.args(refs=["r-1"], outcome=None) == [None, ["r-1"]]


@pytest.mark.parametrize("values", [{"now": 1}, {"now": 1, "ceiling": 2, "extra": 3}])
def test_a_missing_or_unknown_name_is_refused(values: dict[str, int]) -> None:
    statement = NamedStatement.of("SELECT $now, $ceiling")
    with pytest.raises(TypeError):
        statement.args(**values)
