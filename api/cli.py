"""The `pointsmall` command line."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click
from tortoise import Tortoise

from api.auth import mint_token
from api.db import tortoise_config
from api.settings import SettingsError, load_settings
from models.actors import Role

T = TypeVar("T")


def run_with_database(work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` with Tortoise connected to DATABASE_URL, and disconnect afterwards."""

    async def main() -> T:
        settings = load_settings()
        await Tortoise.init(config=tortoise_config(settings.database_url))
        try:
            return await work()
        finally:
            await Tortoise.close_connections()

    return asyncio.run(main())


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


@click.group()
def main() -> None:
    """pointsmall: the loyalty-points gift mall API."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option("--banner", is_flag=True, help="Print where GraphiQL is and a demo token.")
def serve(host: str, port: int, workers: int, banner: bool) -> None:
    """Serve the API with uvicorn."""
    import uvicorn

    settings = load_settings()
    try:
        settings.check()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    if banner:
        _print_banner(host, port, settings.jwt_secret)
    _exit_zero_on_sigterm()
    uvicorn.run(
        "api.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        timeout_graceful_shutdown=20,
    )


def _exit_zero_on_sigterm() -> None:
    """SIGTERM ends the process with status 0 once uvicorn has drained its requests.

    uvicorn finishes the requests in flight, then raises the signal again under the handler
    it found at start: with the default one the process would die of SIGTERM (status 143),
    which supervisors report as a crash of a clean, asked-for shutdown.
    """
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))


def _print_banner(host: str, port: int, secret: str) -> None:
    from api.demo import DEMO_MEMBER, DEMO_WAREHOUSE

    member = mint_token(secret, role=Role.MEMBER, subject=DEMO_MEMBER)
    admin = mint_token(secret, role=Role.ADMIN, subject="demo-admin")
    staff = mint_token(
        secret, role=Role.WAREHOUSE, subject="demo-staff", warehouses=[DEMO_WAREHOUSE]
    )
    agent = mint_token(secret, role=Role.AGENT, subject="agent-1")
    click.echo(
        f"\n  pointsmall is starting on http://{host}:{port}\n"
        f"  GraphiQL: http://{host}:{port}/graphql\n"
        f"  Paste into GraphiQL's headers to act as demo member {DEMO_MEMBER}:\n"
        f'    {{"Authorization": "Bearer {member}"}}\n'
        f"  Staff console: http://{host}:{port}/console/\n"
        f"  Warehouse token ({DEMO_WAREHOUSE}; paste it into the console's sign-in):\n"
        f"    {staff}\n"
        f"  Admin token:  {admin}\n"
        f"  Agent token (the console's service desk; paste it into the sign-in to answer\n"
        f"  the demo member's ticket):\n"
        f"    {agent}\n"
        f"  More tokens:  .venv/bin/pointsmall token --role warehouse --sub staff-1 "
        f"--warehouse SH01\n"
    )


@main.command()
def migrate() -> None:
    """Apply the migrations to DATABASE_URL (SQLite or PostgreSQL)."""
    from tortoise.migrations.api.migrate import migrate as apply

    async def work() -> None:
        settings = load_settings()
        try:
            await apply(config=tortoise_config(settings.database_url))
        finally:
            await Tortoise.close_connections()

    run(work())
    click.echo("migrations applied")


@main.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has gifts.")
@click.option("--members", default=300, show_default=True, type=int)
def seed_demo(if_empty: bool, members: int) -> None:
    """Fill the database with a believable demo: members, warehouses, gifts, stock."""
    from api.demo import seed
    from api.wiring import planner_of, ticket_policy_of, voucher_seal_of

    settings = load_settings()
    planner, service = planner_of(settings), ticket_policy_of(settings)
    seal = voucher_seal_of(settings)
    summary = run_with_database(
        lambda: seed(
            members=members, if_empty=if_empty, planner=planner, service=service, seal=seal
        )
    )
    click.echo(summary)


@main.command()
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--sub", "subject", required=True, help="externalId for members; a name otherwise.")
@click.option("--warehouse", "warehouses", multiple=True, help="Warehouse code (repeatable).")
@click.option("--ttl", default=7 * 24 * 3600, show_default=True, help="Lifetime in seconds.")
def token(role: str, subject: str, warehouses: tuple[str, ...], ttl: int) -> None:
    """Print a development JWT signed with JWT_SECRET."""
    settings = load_settings()
    if settings.production:
        raise click.ClickException("refusing to mint tokens with APP_ENV=production")
    click.echo(
        mint_token(
            settings.jwt_secret,
            role=Role(role),
            subject=subject,
            warehouses=warehouses,
            ttl_seconds=ttl,
        )
    )


@main.command("import-codes")
@click.argument("sku")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_codes(sku: str, path: Path) -> None:
    """Add a partner's code file (code,expires_at) to an E_VOUCHER gift's pool; a code
    already in a pool is reported and never added twice; exit 1 if lines are refused."""
    from api.wiring import voucher_seal_of
    from models.errors import DomainError
    from models.vouchers import pools, rules

    settings = load_settings()
    now = datetime.now(UTC)
    with path.open("rb") as stream:
        read = rules.read_lines(
            pools.file_lines(stream), now=now, timezone=settings.points_timezone
        )
        try:
            report = run_with_database(
                lambda: pools.import_codes(
                    sku=sku, read=read, seal=voucher_seal_of(settings), now=now
                )
            )
        except DomainError as exc:
            raise click.ClickException(f"{sku}: {exc.message}") from exc
    for problem in sorted(report.refused + report.duplicates, key=lambda r: r.line):
        kind = "duplicate" if problem in report.duplicates else "refused"
        click.echo(f"line {problem.line}: {kind}: {problem.reason}")
    click.echo(
        f"added {report.added}, duplicates {len(report.duplicates)}, refused {len(report.refused)}"
    )
    if report.refused:
        sys.exit(1)


@main.command("reseal-codes")
def reseal_codes() -> None:
    """Seal every e-voucher code again with the first of VOUCHER_KEYS (after putting a new
    key first); exit 1 if a code opens with none of them."""
    from api.wiring import voucher_seal_of
    from models.vouchers import keys

    settings = load_settings()
    done = run_with_database(lambda: keys.reseal_all(seal=voucher_seal_of(settings)))
    click.echo(f"resealed {done.resealed}, unopened {len(done.broken)}")
    for code_id in done.broken:
        click.echo(f"code {code_id}: no key in VOUCHER_KEYS opens it")
    if done.broken:
        sys.exit(1)


@main.command("import-points")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--batch-size", default=10_000, show_default=True, type=click.IntRange(min=1))
def import_points(path: Path, batch_size: int) -> None:
    """Import an accrual CSV (a resent file credits nothing twice); exit 1 if rows are rejected."""
    from api.progress import count_data_lines, rows_progress
    from api.wiring import credits_told_from
    from models.errors import InvalidInput
    from models.points.importer import import_points as load

    settings = load_settings()
    with (
        rows_progress(f"importing {path.name}", count_data_lines(path)) as advance,
        path.open(newline="", encoding="utf-8-sig") as lines,
    ):
        try:
            report = run_with_database(
                lambda: load(
                    lines=lines,
                    now=datetime.now(UTC),
                    batch_size=batch_size,
                    timezone=settings.points_timezone,
                    progress=advance,
                    tell_from=credits_told_from(settings),
                )
            )
        except InvalidInput as exc:
            raise click.ClickException(f"{path}: {exc.message}") from exc
    for rejection in report.rejected:
        click.echo(f"line {rejection.line}: {rejection.code} {rejection.reason}")
    click.echo(
        f"imported {report.imported}, already imported {report.already_imported}, "
        f"rejected {len(report.rejected)}"
    )
    if report.rejected:
        sys.exit(1)


@main.command()
def audit() -> None:
    """Check every member's points against entries, lots and holds; exit 1 if any disagree."""
    from models.points.audit import audit as run_audit

    found = run_with_database(run_audit)
    for discrepancy in found:
        click.echo(discrepancy.describe())
    if found:
        members = "1 member disagrees" if len(found) == 1 else f"{len(found)} members disagree"
        click.echo(f"audit: {members} with the ledger")
        sys.exit(1)
    click.echo("audit: every member's points agree with the ledger")


@main.command("expire-points")
@click.option("--now", "at", default=None, help="ISO 8601 instant with a zone (default: now).")
def expire_points(at: str | None) -> None:
    """Expire the unheld points of every lot due at --now, in passes, until none is left."""
    from models.points.scheduled import expire_points as expire

    now = _instant(at) if at else datetime.now(UTC)
    settled = run_with_database(lambda: expire(now=now))
    click.echo(f"settled {settled} due lots as of {now.isoformat()}")


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not ISO 8601", param_hint="--now") from exc
    if moment.tzinfo is None:
        raise click.BadParameter("give a time zone, e.g. +08:00 or Z", param_hint="--now")
    return moment


@main.command()
@click.option("--once", is_flag=True, help="Run one sweeper pass, print what it did, exit.")
@click.option("--now", "at", default=None, help="With --once: ISO 8601 instant with a zone.")
@click.option(
    "--metrics-port", default=0, show_default=True, help="Serve the worker's /metrics on this port."
)
def worker(once: bool, at: str | None, metrics_port: int) -> None:
    """Run every domain's periodic jobs: alerts, compensations, point expiry, unpaid orders,
    missed refunds (SIGTERM stops)."""
    from api.app import log_secrets
    from api.logs import configure_logging
    from api.worker import run_forever, run_once

    settings = load_settings()
    try:
        settings.check()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    # The worker's lines (passes, SMS without a centre, alerts) as the API's: JSON, redacted.
    configure_logging(settings.log_level, secrets=log_secrets(settings))
    if at and not once:
        raise click.BadParameter("--now needs --once", param_hint="--now")
    if once:
        now = _instant(at) if at else datetime.now(UTC)
        summary = run_with_database(lambda: run_once(settings, now=now))
        click.echo(f"sweeper pass at {now.isoformat()}: {summary}")
        return
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port)
    click.echo(f"worker: a sweeper pass every {settings.sweep_interval_seconds:g}s")
    passes = run_with_database(lambda: run_forever(settings))
    click.echo(f"worker: stopped after {passes} passes")


@main.command()
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 366))
@click.option("--orders-per-day", required=True, type=click.IntRange(1, 1_000_000))
@click.option(
    "--warehouses",
    "specs",
    multiple=True,
    help="CODE=CAPACITY[@ZONE], comma-separated or repeated (default: the demo warehouses).",
)
@click.option("--start", default=None, help="First day of demand, YYYY-MM-DD (default: today).")
def simulate(days: int, orders_per_day: int, specs: tuple[str, ...], start: str | None) -> None:
    """Replay demand against warehouse capacity, with and without the admission rule."""
    from api.wiring import planner_of
    from fulfilment import simulate as sim

    settings = load_settings()
    zone = settings.points_timezone
    try:
        warehouses = sim.parse_warehouses(specs or _demo_warehouses(), default_zone=zone)
        first = date.fromisoformat(start) if start else datetime.now(UTC).date()
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    demand = sim.Demand(
        start=datetime.combine(first, time(0), tzinfo=ZoneInfo(zone)),
        days=days,
        orders_per_day=orders_per_day,
    )
    outcomes = sim.simulate(warehouses, demand, within=planner_of(settings).within)
    click.echo(sim.report(warehouses, demand, outcomes))


@main.command("simulate-service")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 366))
@click.option("--tickets-per-day", required=True, type=click.IntRange(1, 200_000))
@click.option(
    "--handling-minutes",
    required=True,
    type=click.FloatRange(0.1, 24 * 60),
    help="An agent's time for one first reply.",
)
@click.option("--agents", "staffed", multiple=True, type=click.IntRange(1, 10_000))
@click.option("--shift", default="09:00-21:00", show_default=True, help="Agents' hours, local.")
@click.option("--target", default=1.0, show_default=True, type=click.FloatRange(0.01, 1.0))
@click.option("--start", default=None, help="First day of arrivals, YYYY-MM-DD (default: today).")
def simulate_service(
    days: int,
    tickets_per_day: int,
    handling_minutes: float,
    staffed: tuple[int, ...],
    shift: str,
    target: float,
    start: str | None,
) -> None:
    """Replay ticket arrivals against agents: the first-reply on-time rate, and the agents
    needed to keep the promise."""
    from api.wiring import ticket_policy_of
    from models.aftersales import simulate as sim

    settings = load_settings()
    zone = settings.points_timezone
    try:
        hours = sim.parse_shift(shift, timezone=zone)
        first = date.fromisoformat(start) if start else datetime.now(UTC).date()
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    arrivals = sim.Arrivals(
        datetime.combine(first, time(0), tzinfo=ZoneInfo(zone)), days, tickets_per_day
    )
    handling = timedelta(minutes=handling_minutes)
    promise = ticket_policy_of(settings).first_reply
    needed = sim.agents_needed(
        arrivals, handling=handling, shift=hours, promise=promise, target=target
    )
    tried = sorted(set(staffed) | ({needed.agents - 1, needed.agents} - {0} if needed else set()))
    results = [
        sim.simulate(arrivals, agents=n, handling=handling, shift=hours, promise=promise)
        for n in tried
    ]
    click.echo(
        sim.report(
            arrivals,
            results,
            needed,
            handling=handling,
            shift=hours,
            promise=promise,
            target=target,
        )
    )


def _demo_warehouses() -> tuple[str, ...]:
    from api.demo_data import WAREHOUSES

    return tuple(f"{code}={capacity}@{zone}" for code, _, capacity, zone, _ in WAREHOUSES)


@main.command("export-schema")
def export_schema() -> None:
    """Print the GraphQL schema (SDL), as committed in schema.graphql."""
    from schema.root import build_schema

    sys.stdout.write(build_schema().as_str() + "\n")


if __name__ == "__main__":  # pragma: no cover
    main()


@main.command("persisted-documents")
@click.option(
    "--clients",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Directory of client operation files (default: tests/clients).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the manifest (default: api/persisted_documents.json).",
)
def persisted_documents(clients: Path | None, output: Path | None) -> None:
    """Write the trusted documents' manifest (sha256:<hex> -> document) from every
    *.graphql file of the clients."""
    from api.documents import CLIENTS, MANIFEST, build_manifest, client_files, manifest_text

    manifest = build_manifest(client_files(clients or CLIENTS))
    (output or MANIFEST).write_text(manifest_text(manifest))
    click.echo(f"{len(manifest)} documents written to {output or MANIFEST}")
