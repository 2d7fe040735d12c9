"""wrk, pinned to core 1, driven by Lua scripts written for each workload.

Every script counts good and bad answers itself (a GraphQL error answers 200 too) and
prints them in `done`; members rotate through a file of tokens, one member per request, so
concurrent requests are distinct members; redemptions carry unique idempotency keys.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from benchmarks import servers

WRK_CORE = "1"

COUNTING = r"""
ok, bad = 0, 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function good(status, body)
  return status == 200 and not string.find(body, '"errors":%s?%[{')
    and not string.find(body, '"order":%s?null')
end
function response(status, headers, body)
  if good(status, body) then
    ok = ok + 1
  else
    bad = bad + 1
    if bad == 1 then io.stderr:write(status .. " " .. body .. "\n") end
  end
end
function done(summary, latency, requests)
  local good_total, bad_total = 0, 0
  for _, t in ipairs(threads) do
    good_total = good_total + t:get("ok")
    bad_total = bad_total + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH ok=%d bad=%d requests=%d duration_us=%d socket_errors=%d p50_us=%d p99_us=%d\n",
    good_total, bad_total, summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""

ROTATING = r"""
tokens, n, start = {}, 0, 0
function init(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  start = tonumber(args[2] or "0")
  prefix = args[3] or "k"
end
function token()
  n = n + 1
  return tokens[((start + n) % #tokens) + 1]
end
"""


@dataclass(frozen=True)
class LoadResult:
    ok: int
    bad: int
    requests: int
    seconds: float
    socket_errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def static_post(path: str, body: dict[str, object], headers: dict[str, str]) -> str:
    lines = [
        'wrk.method = "POST"',
        f"wrk.path = {lua_string(path)}",
        f"wrk.body = {lua_string(json.dumps(body))}",
        'wrk.headers["Content-Type"] = "application/json"',
        *(f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()),
    ]
    return COUNTING + "\n".join(lines) + "\n"


def static_get(path: str) -> str:
    return COUNTING + f"wrk.path = {lua_string(path)}\n"


def rotating(path: str, body: str, *, method: str = "POST") -> str:
    """A request per token; `body` is a Lua expression (it may use `prefix` and `n`)."""
    return (
        COUNTING
        + ROTATING
        + f"""
function request()
  local headers = {{["Content-Type"] = "application/json",
                   ["Authorization"] = "Bearer " .. token()}}
  return wrk.format("{method}", {lua_string(path)}, headers, {body})
end
"""
    )


def revalidating(path: str, tag: str) -> str:
    """GETs of `path` with `If-None-Match: tag`; a 304 counts as ok, anything else bad."""
    return (
        COUNTING
        + f"""
function good(status, body) return status == 304 end
wrk.path = {lua_string(path)}
wrk.headers["If-None-Match"] = {lua_string(tag)}
"""
    )


def redeem_body(template: dict[str, object]) -> str:
    """A Lua expression: the JSON `template` with a unique idempotency key per request."""
    text = json.dumps(template)
    head, tail = text.split('"__KEY__"', 1)
    return f"{lua_string(head)} .. '\"' .. prefix .. \"-\" .. n .. '\"' .. {lua_string(tail)}"


def ensure_wrk() -> str | None:
    """The wrk binary, installed from Debian's packages if missing; None if that fails."""
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True, check=False)
    return shutil.which("wrk")


def run(
    script: Path,
    url: str,
    *,
    connections: int,
    seconds: int,
    args: tuple[str, ...] = (),
) -> LoadResult:
    command = [
        *servers.pinned(WRK_CORE),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        url,
        *(["--", *args] if args else []),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    found = re.search(
        r"BENCH ok=(\d+) bad=(\d+) requests=(\d+) duration_us=(\d+) socket_errors=(\d+) "
        r"p50_us=(\d+) p99_us=(\d+)",
        done.stdout,
    )
    if found is None:
        raise RuntimeError(f"wrk said:\n{done.stdout}\n{done.stderr}")
    ok, bad, requests, micros, errors, p50, p99 = (int(g) for g in found.groups())
    if bad:
        print(f"    ({bad} bad answers; first: {done.stderr.strip()[:300]})")
    return LoadResult(ok, bad, requests, micros / 1e6, errors, p50 / 1000, p99 / 1000)
