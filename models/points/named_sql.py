"""Statements written with named placeholders (`$now`), numbered for asyncpg once.

A statement that runs far from where it is written keeps its parameters by name: the
caller binds `now=...`, never `$1` counted by hand. The numbering happens when the module
loads; the text asyncpg sees is the numbered one, so its statement cache is unaffected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_NAME = re.compile(r"\$([a-z_][a-z0-9_]*)")


@dataclass(frozen=True)
class NamedStatement:
    """`text` with `$1`, `$2`, ... in place of the names, numbered by first appearance."""

    text: str
    names: tuple[str, ...]

    @classmethod
    def of(cls, source: str) -> NamedStatement:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match[1] not in names:
                names.append(match[1])
            return f"${names.index(match[1]) + 1}"

        return cls(_NAME.sub(number, source), tuple(names))

    def args(self, **values: Any) -> list[Any]:
        """The values in placeholder order; raises TypeError unless every name, and only
        those, is given."""
        if values.keys() != set(self.names):
            raise TypeError(f"the statement takes {sorted(self.names)}, not {sorted(values)}")
        return [values[name] for name in self.names]
