"""The soak's report: what was sent, what was refused, what broke, and the API's memory."""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.resilience.soak_client import Recorder


@dataclass
class Report:
    seconds: float
    database: str
    recorder: Recorder
    rss: list[tuple[float, int]] = field(default_factory=list)
    orders: dict[str, int] = field(default_factory=dict)
    swept: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def rss_figures(self) -> tuple[int, int, int]:
        """RSS (KiB) at the start, the middle and the end of the traffic."""

        def around(lo: float, hi: float) -> int:
            picked = [k for t, k in self.rss if lo * self.seconds <= t <= hi * self.seconds]
            return int(statistics.median(picked or [k for _, k in self.rss[-1:]]))

        start = self.rss[0][1] if self.rss else 0
        return start, around(0.45, 0.55), around(0.9, 1.01)

    def summary(self) -> str:
        rec = self.recorder
        start, mid, end = self.rss_figures()
        rate = rec.total / self.seconds if self.seconds else 0.0
        lines = [
            f"soak: {self.seconds:.0f} s on {self.database}, {rec.total} requests "
            f"({rate:.0f}/s), {sum(rec.failures.values())} failed, {len(self.problems)} problems",
            "requests: " + _counts(rec.requests),
            "refusals: " + (_refusals(rec) or "none"),
            "mean ms: " + _latencies(rec),
            "orders: " + _counts(self.orders),
            "swept: " + _counts(self.swept),
            f"API RSS MiB: start {start / 1024:.1f}, mid {mid / 1024:.1f}, end {end / 1024:.1f} "
            f"(second half {(end - mid) / 1024:+.1f})",
        ]
        lines += [f"PROBLEM {p}" for p in self.problems]
        lines += [f"FAILED {s}" for s in rec.samples]
        return "\n".join(lines)


def _refusals(rec: Recorder) -> str:
    def by(code: str) -> str:
        ops = sorted(((n, op) for (c, op), n in rec.refused_by.items() if c == code), reverse=True)
        return ", ".join(f"{op} {n}" for n, op in ops)

    return "; ".join(f"{code} {n} ({by(code)})" for code, n in rec.refusals.most_common())


def _latencies(rec: Recorder) -> str:
    means = {name: 1000 * rec.seconds[name] / n for name, n in rec.requests.items() if n}
    return ", ".join(f"{k} {v:.0f}" for k, v in sorted(means.items(), key=lambda kv: -kv[1]))


def _counts(counter: Mapping[str, int]) -> str:
    items = sorted(counter.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{k} {v}" for k, v in items)


def logged_errors(*logs: Path) -> list[str]:
    """Every ERROR (or worse) the processes logged: an unexpected error or a failed pass."""
    found = []
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if '"levelname": "ERROR"' in line or '"levelname": "CRITICAL"' in line:
                found.append(f"{log.name}: {_logged(line)}")
    return found[:20]


def _logged(line: str) -> str:
    """The record's message and the end of its traceback (where the exception is)."""
    try:
        record = json.loads(line)
    except ValueError:
        return line[:800]
    trace = str(record.get("exc_info", "")).rstrip()
    return f"{record.get('message', '')} ... {trace[-800:]}"
