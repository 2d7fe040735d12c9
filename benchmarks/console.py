"""The staff console in headless Chromium: `python -m benchmarks.console` (under the lock).

On the demo data (PostgreSQL database `pointsmall_bench_console`, made afresh), against one
uvicorn worker of the service:

- first paint of the warehouse station (first-contentful-paint) and the moment the station
  is usable (its queue and figures on screen: the page's `pointsmall:station-ready` mark),
  each from navigation start, over fresh browser contexts (nothing cached);
- the scan-to-shipped round trip: the four scans of one order (open, pick, pack, ship: four
  server calls), run inside the page from the first submit to the "shipped" prompt;
- what the first load transfers (JavaScript and CSS uncompressed, everything on the wire)
  and what a second visit fetches again (the files come from the browser's cache; the page
  is revalidated by its ETag);
- the service desk: its first paint and the moment it is usable (the ticket queue shown:
  the `pointsmall:desk-ready` mark) for an agent, over fresh contexts, with what that load
  fetched (the station's files and the desk's, loaded on use); and a public reply's round
  trip on the demo ticket, from the submit to the reply shown in the conversation (the
  reply, then the ticket and the queue read again: three server calls).

Results go to stdout and `benchmarks/results/console.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
from typing import Any

import asyncpg
import httpx
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from api.auth import mint_token
from api.demo import DEMO_MEMBER, DEMO_WAREHOUSE
from api.settings import DEV_JWT_SECRET
from benchmarks.servers import ROOT, serving
from models.actors import Role
from tests.support.catalog import ADDRESS
from tests.support.graphql import operation

DATABASE = "pointsmall_bench_console"
SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
CHROMIUM = "/usr/bin/chromium"
RESULTS = ROOT / "benchmarks" / "results"
GIFT = "HM-TOWEL"  # points-only; stocked here so that every order goes to DEMO_WAREHOUSE
TOKEN_KEY = "pointsmall.console.token"

FOUR_SCANS = """async ({ number, tracking }) => {
  const form = document.getElementById("scan-form");
  const input = document.getElementById("scan");
  const prompt = document.getElementById("prompt");
  const until = (key) => new Promise((resolve) => {
    if (prompt.dataset.key === key) return resolve();
    const seen = new MutationObserver(() => {
      if (prompt.dataset.key === key) { seen.disconnect(); resolve(); }
    });
    seen.observe(prompt, { attributes: true, attributeFilter: ["data-key"] });
  });
  const steps = [[number, "prompt.CONFIRMED"], ["", "prompt.PICKING"],
                 [number, "prompt.PACKED"], [tracking, "prompt.shipped"]];
  const start = performance.now();
  for (const [text, key] of steps) {
    input.value = text;
    form.requestSubmit();
    await until(key);
  }
  return performance.now() - start;
}"""

TIMINGS = """(mark) => {
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  const ready = performance.getEntriesByName(mark)[0];
  return { paint: paint ? paint.startTime : null, ready: ready ? ready.startTime : null };
}"""

REPLY = """async ({ text }) => {
  const form = document.getElementById("reply-form");
  const conversation = document.getElementById("conversation");
  const shown = () => [...conversation.querySelectorAll(".entry-PUBLIC_REPLY")]
    .some((entry) => entry.textContent.includes(text));
  const until = new Promise((resolve) => {
    const seen = new MutationObserver(() => {
      if (shown()) { seen.disconnect(); resolve(); }
    });
    seen.observe(conversation, { childList: true, subtree: true });
  });
  document.getElementById("reply-text").value = text;
  const start = performance.now();
  form.requestSubmit();
  await until;
  return performance.now() - start;
}"""

RESOURCES = """() => performance.getEntriesByType("resource").concat(
  performance.getEntriesByType("navigation")).map((r) => ({
    name: r.name, type: r.initiatorType, transfer: r.transferSize, body: r.decodedBodySize }))"""


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="loads and round trips measured")
    return parser.parse_args()


async def fresh_database() -> str:
    connection = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await connection.close()
    url = f"{SERVER}/{DATABASE}"
    env = {**os.environ, "DATABASE_URL": url}
    cli = [sys.executable, "-m", "api.cli"]
    for command in (["migrate"], ["seed-demo", "--members", "20"]):
        subprocess.run([*cli, *command], cwd=ROOT, env=env, check=True, capture_output=True)
    return url


def token(role: Role, subject: str, warehouses: tuple[str, ...] = ()) -> str:
    return mint_token(DEV_JWT_SECRET, role=role, subject=subject, warehouses=warehouses)


async def graphql(http: httpx.AsyncClient, name: str, variables: dict[str, Any], auth: str) -> Any:
    answer = await http.post(
        "/graphql",
        json={"query": operation(name), "variables": variables},
        headers={"Authorization": f"Bearer {auth}"},
    )
    body = answer.json()
    assert not body.get("errors"), body
    return body["data"]


async def stock_up(http: httpx.AsyncClient, runs: int) -> None:
    admin = token(Role.ADMIN, "bench-admin")
    award = {"memberExternalId": DEMO_MEMBER, "amount": 10_000_000, "externalRef": "bench:console"}
    await graphql(http, "AwardPoints", {"input": award}, admin)
    units = {"sku": GIFT, "warehouseCode": DEMO_WAREHOUSE, "delta": 10_000 + runs}
    await graphql(http, "AdjustStock", {"input": units}, admin)


async def signed_in_context(browser: Browser, base_url: str, staff: str) -> BrowserContext:
    context = await browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    await context.add_init_script(f"sessionStorage.setItem({TOKEN_KEY!r}, {staff!r})")
    return context


async def station(context: BrowserContext, mark: str = "pointsmall:station-ready") -> Page:
    page = await context.new_page()
    await page.goto("/console/")
    await page.wait_for_function(f"() => performance.getEntriesByName({mark!r}).length > 0")
    return page


async def first_loads(browser: Browser, base_url: str, staff: str, runs: int) -> dict[str, Any]:
    paints, readies = [], []
    for _ in range(runs):
        context = await signed_in_context(browser, base_url, staff)
        page = await station(context)
        timings = await page.evaluate(TIMINGS, "pointsmall:station-ready")
        paints.append(timings["paint"])
        readies.append(timings["ready"])
        await context.close()
    return {"first_paint_ms": paints, "station_ready_ms": readies}


async def desk_loads(browser: Browser, base_url: str, agent: str, runs: int) -> dict[str, Any]:
    """An agent's cold loads of the desk: first paint, usable, and what the load fetched."""
    paints, readies, code = [], [], []
    for _ in range(runs):
        context = await signed_in_context(browser, base_url, agent)
        page = await station(context, "pointsmall:desk-ready")
        timings = await page.evaluate(TIMINGS, "pointsmall:desk-ready")
        paints.append(timings["paint"])
        readies.append(timings["ready"])
        files = await page.evaluate(RESOURCES)
        code.append(sum(r["body"] for r in files if r["name"].endswith((".js", ".css"))))
        await context.close()
    return {
        "desk_first_paint_ms": paints,
        "desk_ready_ms": readies,
        "desk_first_load_js_css_bytes": max(code),
    }


async def desk_replies(browser: Browser, base_url: str, agent: str, runs: int) -> dict[str, Any]:
    """Public replies on the demo ticket, each from its submit to its entry shown."""
    context = await signed_in_context(browser, base_url, agent)
    page = await station(context, "pointsmall:desk-ready")
    await page.locator("#tickets-rows tr button").first.click()
    await page.wait_for_selector("#ticket-open:not([hidden])")
    calls: list[str] = []

    def count(request: Any) -> None:
        if request.url.endswith("/graphql"):
            calls.append(request.method)

    page.on("request", count)
    totals, counts = [], []
    for run in range(runs):
        calls.clear()
        totals.append(await page.evaluate(REPLY, {"text": f"回复 {run}: 新杯子已寄出。"}))
        await page.wait_for_timeout(100)  # the queue's read after the reply is done
        counts.append(len(calls))
    await context.close()
    return {"reply_to_shown_ms": totals, "reply_server_calls": counts}


async def transfers(browser: Browser, base_url: str, staff: str) -> dict[str, Any]:
    context = await signed_in_context(browser, base_url, staff)
    first = await (await station(context)).evaluate(RESOURCES)
    again = await (await station(context)).evaluate(RESOURCES)
    await context.close()
    files = [r for r in first if r["name"].endswith((".js", ".css"))]
    assets = [r for r in again if "/console/assets/" in r["name"]]
    return {
        "first_load_js_css_bytes": sum(r["body"] for r in files),
        "first_load_transferred_bytes": sum(r["transfer"] for r in first),
        "first_load_requests": len(first),
        "repeat_assets": len(assets),
        "repeat_assets_from_cache": sum(1 for r in assets if r["transfer"] == 0),
        "repeat_transferred_bytes": sum(r["transfer"] for r in again),
    }


async def round_trips(
    browser: Browser, base_url: str, staff: str, http: httpx.AsyncClient, runs: int
) -> dict[str, Any]:
    context = await signed_in_context(browser, base_url, staff)
    page = await station(context)
    await page.select_option("#carrier", "SF")
    calls: list[str] = []

    def count(request: Any) -> None:
        if request.url.endswith("/graphql"):
            calls.append(request.method)

    page.on("request", count)
    member = token(Role.MEMBER, DEMO_MEMBER)
    totals, counts = [], []
    for run in range(runs):
        redeem = {"idempotencyKey": f"bench-{run}", "lines": [{"sku": GIFT, "quantity": 1}]}
        order = await graphql(
            http, "Redeem", {"input": {**redeem, "shippingAddress": ADDRESS}}, member
        )
        number = order["redeem"]["order"]["number"]
        await page.wait_for_selector(f'#queue-rows tr[data-number="{number}"]')
        await page.wait_for_timeout(1200)  # the figures' refresh after the arrival is done
        calls.clear()
        totals.append(
            await page.evaluate(FOUR_SCANS, {"number": number, "tracking": f"SF8{run:09d}"})
        )
        counts.append(len(calls))
    await context.close()
    return {"scan_to_shipped_ms": totals, "server_calls": counts}


def median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


async def measure(runs: int) -> dict[str, Any]:
    url = await fresh_database()
    RESULTS.mkdir(exist_ok=True)
    with serving("service", url, RESULTS) as server:
        staff = token(Role.WAREHOUSE, "bench-staff", (DEMO_WAREHOUSE,))
        agent = token(Role.AGENT, "bench-agent")
        async with (
            httpx.AsyncClient(base_url=server.url, timeout=30) as http,
            async_playwright() as p,
        ):
            await stock_up(http, runs)
            browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True)
            found = {
                **await first_loads(browser, server.url, staff, runs),
                **await transfers(browser, server.url, staff),
                **await round_trips(browser, server.url, staff, http, runs),
                **await desk_loads(browser, server.url, agent, runs),
                **await desk_replies(browser, server.url, agent, runs),
            }
            await browser.close()
    return found


def report(found: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"first paint (FCP), median of {len(found['first_paint_ms'])} cold loads: "
            f"{median(found['first_paint_ms'])} ms (target < 300 ms)",
            "station usable (queue and figures shown), median: "
            f"{median(found['station_ready_ms'])} ms",
            f"scan to shipped (4 scans), median of {len(found['scan_to_shipped_ms'])}: "
            f"{median(found['scan_to_shipped_ms'])} ms (target < 200 ms); "
            f"server calls per order: {sorted(set(found['server_calls']))}",
            f"first load: {found['first_load_js_css_bytes']:,} bytes of JS and CSS uncompressed "
            f"(target < 100 kB), {found['first_load_transferred_bytes']:,} bytes on the wire in "
            f"{found['first_load_requests']} requests",
            f"repeat visit: {found['repeat_assets_from_cache']} of {found['repeat_assets']} files "
            f"from the browser's cache, {found['repeat_transferred_bytes']:,} bytes transferred",
            f"service desk: first paint, median of {len(found['desk_first_paint_ms'])} cold "
            f"loads: {median(found['desk_first_paint_ms'])} ms; usable (queue shown): "
            f"{median(found['desk_ready_ms'])} ms; its load "
            f"{found['desk_first_load_js_css_bytes']:,} bytes of JS and CSS uncompressed",
            f"public reply to shown, median of {len(found['reply_to_shown_ms'])}: "
            f"{median(found['reply_to_shown_ms'])} ms; "
            f"server calls per reply: {sorted(set(found['reply_server_calls']))}",
        ]
    )


def main() -> int:
    args = arguments()
    found = asyncio.run(measure(args.runs))
    (RESULTS / "console.json").write_text(json.dumps(found, indent=2) + "\n")
    print(report(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
