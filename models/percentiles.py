"""The one percentile rule of the reports (the SLA report, the service report), in SQL.

Both reports give interpolated percentiles (PostgreSQL's `percentile_cont`) of hours
between two moments. PostgreSQL computes them itself (two percentiles of one ordering
share its sort); SQLite has no `percentile_cont`, so the same interpolated value comes from
window functions: the values ranked in a CTE (`ranked`), then linear between the two
nearest ranks (`percentile`). A test feeds both forms the same rows.
"""

from __future__ import annotations


def hours(start: str, end: str, *, postgres: bool) -> str:
    """The hours from the SQL moment `start` to `end` (NULL if either is)."""
    if postgres:
        # date_part gives double precision (EXTRACT gives numeric, whose sort is slower).
        return f"date_part('epoch', {end} - {start}) / 3600.0"
    return f"(julianday({end}) - julianday({start})) * 24.0"


def ranked(name: str, *, values: str, source: str, where: str) -> str:
    """SQLite: a CTE `name` of the values (an expression over `source`, the rows `where`
    keeps) ranked: h, its 0-based rank i, and their count n. Empty on PostgreSQL."""
    return f""",
        {name} AS (
            SELECT h, ROW_NUMBER() OVER (ORDER BY h) - 1 AS i, COUNT(*) OVER () AS n
            FROM (SELECT {values} AS h FROM {source} WHERE {where})
        )"""  # noqa: S608 -- constant fragments only


def percentile(p: float, *, of: str, ranked: str, postgres: bool) -> str:
    """percentile_cont(p) of the expression `of` (PostgreSQL; NULLs ignored), or of the
    values of the SQLite CTE `ranked`."""
    if postgres:
        return f"percentile_cont({p}) WITHIN GROUP (ORDER BY {of})"
    position = f"({p} * (n - 1))"
    low = f"CAST({position} AS INTEGER)"
    fraction = f"({position} - {low})"
    interpolated = (
        f"SUM(h * CASE WHEN i = {low} THEN 1 - {fraction} "
        f"WHEN i = {low} + 1 THEN {fraction} ELSE 0 END)"
    )
    return f"(SELECT {interpolated} FROM {ranked})"  # noqa: S608 -- constant fragments
