"""Settings for tests: the test database, quiet logs, and any overrides."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from api.settings import Settings


def settings_for(url: str, **overrides: Any) -> Settings:
    """Development settings on the database `url`, with `overrides` applied."""
    base = Settings(database_url=url, database_url_set=True, log_level="WARNING")
    return replace(base, **overrides)
