"""The table: medians, ratios and targets of rows 1-10, printed and written as JSON/Markdown."""

from __future__ import annotations

import json
import platform
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
COMMITTED = Path(__file__).resolve().parent / "RESULTS.md"


@dataclass
class Row:
    number: str
    comparison: str
    service: str
    floor: str
    ratio: str
    target: str
    met: bool | None  # None: not measured (or smoke sizes, where targets do not apply)
    problems: list[str]


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def http_rows(found: dict[str, Any]) -> list[Row]:
    rows = []
    for number, name, label in (("1", "catalog", "Catalog(first: 20)"), ("2", "me", "Me")):
        if name not in found:
            continue
        mine, floor = found[name].median, found[f"floor_{name}"].median
        ratio = _ratio(mine, floor)
        rows.append(
            Row(
                number,
                f"{label} requests/s",
                f"{mine:,.0f}/s",
                f"{floor:,.0f}/s",
                f"{ratio:.2f}x",
                "≥ 0.5x",
                ratio >= 0.5,
                found[name].notes,
            )
        )
    if found.get("ceiling_me") and found["ceiling_me"].samples:
        rows.append(ceiling_row("2c", "Me", found["ceiling_me"], found["floor_me"]))
    return rows


# Row 2 (Me by text) before trusted documents, and row 1's uncached page then (issue 20).
ME_BEFORE = 0.30
UNCACHED_CATALOG_BEFORE = 0.08


def _vs(number: str, label: str, mine: Any, floor: Any, target: float | None) -> Row:
    ratio = _ratio(mine.median, floor.median)
    return Row(
        number,
        label,
        f"{mine.median:,.0f}/s",
        f"{floor.median:,.0f}/s",
        f"{ratio:.2f}x",
        f"≥ {target:.2f}x" if target is not None else "explains the rows above",
        ratio >= target if target is not None else None,
        mine.notes,
    )


def trusted_rows(found: dict[str, Any]) -> list[Row]:
    """Rows 1b-1f and 2d-2f (benchmarks/trusted_rows.py)."""
    if "me_id" not in found or not found["me_id"].samples:
        return []
    floor_me, floor_catalog = found["trusted_floor_me"], found["trusted_floor_catalog"]
    cache_off = "Catalog(first: 20), shared answers off (CATALOG_CACHE_SECONDS=0)"
    rows = [
        _vs(
            "1b",
            f"{cache_off}, by the client's text",
            found["uncached_catalog_text"],
            floor_catalog,
            5 * UNCACHED_CATALOG_BEFORE,
        ),
        _vs("1c", f"{cache_off}, by trusted id", found["uncached_catalog_id"], floor_catalog, 0.5),
        _vs(
            "1d",
            f"{cache_off}, a text no trusted document matches (the ordinary path)",
            found["uncached_catalog_adhoc"],
            floor_catalog,
            None,
        ),
        _vs(
            "1e",
            "a member's affordable page by trusted id vs the floor's",
            found["affordable_id"],
            found["floor_affordable"],
            0.5,
        ),
        _vs(
            "1f",
            "a member's affordable page by the client's text vs the floor's",
            found["affordable_text"],
            found["floor_affordable"],
            None,
        ),
        _vs("2d", "Me by trusted id", found["me_id"], floor_me, 0.5),
        _vs(
            "2e",
            "Me by a text no trusted document matches (the ordinary path; row 2 before)",
            found["me_adhoc"],
            floor_me,
            ME_BEFORE,
        ),
    ]
    share, bytes_ = found.get("revalidated_share", 0.0), found["me_bytes"]
    rows.append(
        Row(
            "1g",
            "a repeated catalog GET by id with its ETag (If-None-Match)",
            f"{found['revalidated'].median:,.0f}/s",
            "",
            f"{share:.1%} answered 304",
            "all 304",
            share >= 0.999,
            [],
        )
    )
    rows.append(
        Row(
            "2f",
            "request body bytes of Me: by trusted id vs by text",
            f"{bytes_['id']} B",
            f"{bytes_['text']} B",
            f"{_ratio(bytes_['id'], bytes_['text']):.2f}x",
            "smaller",
            bytes_["id"] < bytes_["text"],
            [],
        )
    )
    return rows


def ceiling_row(number: str, label: str, ceiling: Any, floor: Any, *, answering: str = "") -> Row:
    """What strawberry alone over the floor's SQL reaches: the bound of the row above."""
    ratio = _ratio(ceiling.median, floor.median)
    return Row(
        number,
        f"{label}: stack ceiling (strawberry over the floor's SQL, no ORM{answering}) vs floor",
        f"{ceiling.median:,.0f}/s",
        f"{floor.median:,.0f}/s",
        f"{ratio:.2f}x",
        "explains the row above",
        None,
        ceiling.notes,
    )


def redeem_rows(found: dict[str, Any]) -> list[Row]:
    if "redeem_64" not in found:
        return []
    at64, at8, floor = (found[k].median for k in ("redeem_64", "redeem_8", "floor_redeem_2"))
    checks = found["checks"]
    vs_floor, vs_8 = _ratio(at64, floor), _ratio(at64, at8)
    correct = checks["oversold"] == 0 and checks["audit_clean"]
    explained = [
        ceiling_row(number, label, found[name], found["floor_redeem_2"], answering=answering)
        for number, label, name, answering in (
            ("3d", "redeem at 2 clients", "ceiling_redeem_2", ""),
            ("3e", "redeem at 64 clients (the row's own load)", "ceiling_redeem_64", ""),
            (
                "3g",
                "redeem at 64 clients",
                "ceiling_contract_redeem_64",
                "; answering the client's own Redeem, as the service does",
            ),
        )
        if found.get(name) is not None and found[name].samples
    ]
    by_id = found.get("redeem_id_64")
    if by_id is not None and by_id.samples:
        explained.append(
            _vs(
                "3h",
                "redeem at 64 clients by trusted id vs floor at 2",
                by_id,
                found["floor_redeem_2"],
                0.6,
            )
        )
    floor_64 = found.get("floor_redeem_64")
    if floor_64 is not None and floor_64.samples:
        ratio = _ratio(floor_64.median, floor)
        explained.append(
            Row(
                "3f",
                "redeem: the floor itself at 64 clients vs at 2 (hot-row contention)",
                f"{floor_64.median:,.0f}/s",
                f"{floor:,.0f}/s",
                f"{ratio:.2f}x",
                "explains row 3",
                None,
                [],
            )
        )
    return [
        Row(
            "3",
            "redeem hot gift, orders/s: service at 64 clients vs floor at 2",
            f"{at64:,.0f}/s",
            f"{floor:,.0f}/s",
            f"{vs_floor:.2f}x",
            "≥ 0.5x",
            vs_floor >= 0.5,
            [],
        ),
        Row(
            "3b",
            "redeem: 64 clients vs 8 clients (no collapse)",
            f"{at64:,.0f}/s",
            f"{at8:,.0f}/s at 8",
            f"{vs_8:.2f}x",
            "≥ 0.9x",
            vs_8 >= 0.9,
            [],
        ),
        Row(
            "3c",
            "redeem correctness after the runs",
            f"oversold {checks['oversold']}, reserved {checks['reserved']:,} = "
            f"ordered {checks['ordered']:,}",
            "",
            "",
            "0 oversold, audit clean",
            correct,
            [] if correct else [f"oversell/audit: {checks}"],
        ),
        *explained,
    ]


def voucher_rows(found: dict[str, Any]) -> list[Row]:
    """Row 14 (benchmarks/voucher_rows.py): the e-voucher flash sale, and its checks."""
    if "voucher_64" not in found or not found["voucher_64"].samples:
        return []
    checks = found["voucher_checks"]
    exact = checks["without"] == 0 and checks["twice"] == 0
    exact = exact and checks["assigned"] == checks["orders"]
    return [
        _vs(
            "14",
            "e-voucher flash sale, orders/s: service at 64 clients vs floor at 2",
            found["voucher_64"],
            found["floor_voucher_2"],
            0.5,
        ),
        Row(
            "14b",
            "flash sale correctness: one code to each order, no code twice",
            f"{checks['orders']:,} orders, {checks['assigned']:,} codes assigned",
            "",
            "",
            "0 without a code, 0 twice",
            exact,
            [] if exact else [f"codes: {checks}"],
        ),
    ]


def topup_rows(found: dict[str, Any]) -> list[Row]:
    """Row 15 (benchmarks/topup_rows.py): top-ups delivered through a charging system that
    loses 5 % of its answers, against the client alone; and 15b, the lines' ends."""
    runs = found.get("topups")
    if not runs:
        return []
    rate = _median([r["rate"] for r in runs])
    ceiling = _median([r["ceiling_rate"] for r in runs])
    t = runs[-1]
    final = sum(n for status, n in t["statuses"].items() if status != "PENDING")
    delivered = t["statuses"].get("DELIVERED", 0)
    exact = all(
        r["statuses"].get("DELIVERED", 0) == r["lines"] == r["credited"] and r["twice"] == 0
        for r in runs
    )
    return [
        Row(
            "15",
            f"top-ups, {t['lines']:,} lines with 5 % of answers lost, lines/s: "
            "deliver_round vs the charging client alone (no database)",
            f"{rate:,.0f}/s",
            f"{ceiling:,.0f}/s",
            f"{_ratio(rate, ceiling):.2f}x",
            "≥ 500 lines/s",
            rate >= 500,
            [],
        ),
        Row(
            "15b",
            "top-up correctness: every line final, none credited twice",
            f"{final:,} of {t['lines']:,} final ({delivered:,} DELIVERED), "
            f"{t['twice']} credited twice",
            "",
            f"{t['lost']:,} answers lost ({_ratio(t['lost'], t['lines']):.1%})",
            "all DELIVERED, 0 twice",
            exact,
            [] if exact else [f"top-ups: {[(r['statuses'], r['credited']) for r in runs]}"],
        ),
    ]


def statements_row(counts: dict[str, list[int]]) -> Row:
    text = ", ".join(f"{name} {'/'.join(map(str, c))}" for name, c in counts.items())
    ok = all(c[0] == c[-1] <= 5 for c in counts.values())
    return Row(
        "4", "SQL statements per request at 10/100 items", text, "", "", "equal, ≤ 5", ok, []
    )


def sweeper_row(found: dict[str, Any], due: tuple[int, int], total: int) -> Row:
    none, few, many = (_median([r["seconds"] for r in found[str(d)]]) for d in (0, *due))
    per_few = (few - none) / due[0] * 1000
    per_many = (many - none) / due[1] * 1000
    linear = per_many <= 2 * per_few + 0.01
    ok = few <= 1.0 and none <= 0.1 and linear
    audit_ok = all(r["audit_clean"] in (None, True) for rs in found.values() for r in rs)
    return Row(
        "5",
        f"one sweeper pass, {total:,} open orders: {due[0]:,} due (and {due[1]:,}, 0)",
        f"{few * 1000:,.0f} ms ({many * 1000:,.0f} ms, {none * 1000:,.0f} ms)",
        "",
        f"{per_few:.2f} → {per_many:.2f} ms/due order",
        "≤ 1 s, grows with due",
        ok and audit_ok,
        [] if audit_ok else ["audit not clean after a pass"],
    )


def import_row(results: list[dict[str, Any]]) -> Row:
    rate = _median([r["rows_per_second"] for r in results])
    rows = results[0]["rows"] if results else 0
    clean = all(r["audit_clean"] in (None, True) and not r["rejected"] for r in results)
    return Row(
        "6",
        f"import-points, {rows:,}-row file",
        f"{rate:,.0f} rows/s",
        "",
        "",
        "≥ 20,000 rows/s",
        rate >= 20_000 and clean,
        [] if clean else ["rows rejected or audit not clean"],
    )


def memory_row(found: dict[str, Any]) -> Row:
    end, growth = found["rss_end_mb"], found["growth_last_half_mb"]
    flat = growth <= max(0.05 * end, 5.0)
    return Row(
        "7",
        f"server RSS after {found['requests']:,} mixed requests",
        f"{end:.0f} MB (max {found['rss_max_mb']:.0f})",
        "",
        f"+{growth:.1f} MB over the last half",
        "≤ 250 MB, flat",
        end <= 250 and flat,
        [f"{found['bad']} bad answers"] if found["bad"] else [],
    )


def delivery_row(runs: list[dict[str, Any]]) -> Row:
    rate = _median([r["rate"] for r in runs])
    backlog = runs[0]["backlog"] if runs else 0
    whole = all(r["received"] == r["backlog"] for r in runs)
    drained = _median([r["drained_seconds"] for r in runs])
    return Row(
        "8",
        f"SMS delivery: a {backlog:,}-message backlog drains to the SMS centre (its own process)",
        f"{rate:,.0f} messages/s",
        "",
        f"all {backlog:,} arrived; drained {drained:.0f} s after the worker started",
        "≥ 1,000 messages/s",
        rate >= 1_000 and whole,
        [] if whole else [f"messages missing: {[r['received'] for r in runs]}"],
    )


def claim_row(found: dict[str, Any]) -> Row:
    few, many = (k for k in found if k != "batch")
    at_few, at_many = _median(found[few]["ms"]), _median(found[many]["ms"])
    ratio = _ratio(at_many, at_few)
    return Row(
        "9",
        f"SMS claim of {found['batch']} messages: {int(many):,} waiting vs {int(few):,}",
        f"{at_many:.1f} ms",
        f"{at_few:.1f} ms",
        f"{ratio:.2f}x",
        "≤ 1.5x",
        ratio <= 1.5,
        [],
    )


def latency_row(found: dict[str, Any], row3_rate: float | None) -> Row:
    against = f"; row 3: {row3_rate:,.0f} orders/s" if row3_rate else ""
    arrived = found["missing"] == 0
    return Row(
        "10",
        "commit-to-submit seconds of order confirmations under row 3's load, the worker delivering",
        f"p95 {found['p95']:.2f} s (p50 {found['p50']:.2f} s, max {found['max']:.2f} s)",
        "",
        f"{found['messages']:,} messages at {found['orders_per_second']:,.0f} orders/s{against}; "
        f"p95 from the request's start {found['p95_from_placing']:.2f} s",
        "p95 < 2 s",
        found["p95"] < 2.0 and arrived and found["messages"] > 0,
        [] if arrived else [f"{found['missing']} confirmations not at the SMS centre or unheard"],
    )


def table(rows: list[Row], *, smoke: bool) -> str:
    head = "| # | comparison | service | floor | ratio / detail | target | met |"
    lines = [head, "|---|---|---|---|---|---|---|"]
    for r in rows:
        met = "—" if smoke or r.met is None else ("yes" if r.met else "**no**")
        lines.append(
            f"| {r.number} | {r.comparison} | {r.service} | {r.floor} | {r.ratio} | "
            f"{r.target} | {met} |"
        )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    import os

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def write(rows: list[Row], raw: dict[str, Any], meta: dict[str, Any], *, smoke: bool) -> None:
    RESULTS.mkdir(exist_ok=True)
    name = "smoke" if smoke else "latest"
    document = {"meta": meta, "rows": [asdict(r) for r in rows], "raw": raw}
    (RESULTS / f"{name}.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
    text = table(rows, smoke=smoke)
    (RESULTS / f"{name}.md").write_text(text + "\n")
    if not smoke and meta.get("complete"):
        COMMITTED.write_text(
            "# Benchmark results\n\n"
            f"{meta['date']}, {meta['machine']['cpus']} cores, Python "
            f"{meta['machine']['python']}, PostgreSQL on the same machine; server pinned to "
            "core 0, wrk to core 1, one uvicorn worker; medians of "
            f"{meta['repeat']} runs of {meta['seconds']} s; {meta['quiet']}. "
            "Rerun: `make bench`; what the profiles showed: `benchmarks/PROFILES.md`.\n\n"
            + text
            + "\n"
        )
