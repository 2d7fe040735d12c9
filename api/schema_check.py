"""Compare the code's schema with a committed snapshot: differences and breaking changes."""

from __future__ import annotations

import subprocess
from pathlib import Path

from graphql import BreakingChange, build_schema, find_breaking_changes

SNAPSHOT = Path(__file__).resolve().parent.parent / "schema.graphql"
REGENERATE = "make schema   (or: .venv/bin/pointsmall export-schema > schema.graphql)"


def current_sdl() -> str:
    """The SDL the code builds, exactly as `pointsmall export-schema` prints it."""
    from schema.root import build_schema as build_app_schema

    return build_app_schema().as_str() + "\n"


def breaking_changes(old_sdl: str, new_sdl: str) -> list[BreakingChange]:
    return find_breaking_changes(build_schema(old_sdl), build_schema(new_sdl))


def snapshot_at(ref: str) -> str | None:
    """The committed snapshot at a git ref, or None outside git or before it existed."""
    try:
        shown = subprocess.run(  # noqa: S603 - fixed arguments, git from PATH on purpose
            ["git", "show", f"{ref}:schema.graphql"],  # noqa: S607
            cwd=SNAPSHOT.parent,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    return shown.stdout if shown.returncode == 0 else None
