"""What the operators see of a number: only its last four digits."""

from __future__ import annotations

import pytest

from schema.notifications.types import masked_number


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("+8613800138000", "+*********8000"),
        ("+442079460018", "+********0018"),
        ("8000", "8000"),
        ("", None),
    ],
)
def test_a_number_shows_only_its_last_four_digits(number: str, shown: str | None) -> None:
    assert masked_number(number) == shown
