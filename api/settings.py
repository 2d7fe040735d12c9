"""Settings, read from the environment once; the only module that reads it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from limits.errors import ConfigurationError
from limits.storage import storage_from_string
from starlette.config import Config
from starlette.datastructures import CommaSeparatedStrings

from models.vouchers.seal import valid_key

DEV_JWT_SECRET = "pointsmall-development-secret-do-not-use-in-production"
DEV_STRIPE_WEBHOOK_SECRET = "whsec_pointsmall_development"
DEV_STRIPE_API_KEY = "sk_test_pointsmall_development"
DEV_PUSH_WEBHOOK_SECRET = "pointsmall-push-development-secret"
DEV_CHARGING_SECRET = "dev-charging-secret"  # the local charging fake's (`make run`)
# Development keys of the e-voucher codes (a Fernet key, and the digest's HMAC key).
DEV_VOUCHER_KEY = "cG9pbnRzbWFsbC12b3VjaGVyLWRldmVsb3BtZW50ISE="
DEV_VOUCHER_DIGEST_KEY = "pointsmall-voucher-digest-development-key"
DEFAULT_SQLITE_URL = "sqlite://data/pointsmall.sqlite3"
QUIET_HOURS = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$")


class SettingsError(RuntimeError):
    """The environment describes a configuration the service refuses to run with."""


@dataclass(frozen=True)
class Settings:
    app_env: str = "development"
    database_url: str = DEFAULT_SQLITE_URL
    database_url_set: bool = False
    jwt_secret: str = DEV_JWT_SECRET
    jwt_public_key: str | None = None
    jwt_leeway_seconds: int = 30
    stripe_api_key: str = DEV_STRIPE_API_KEY
    stripe_webhook_secret: str = DEV_STRIPE_WEBHOOK_SECRET
    stripe_api_base: str | None = None
    stripe_timeout_seconds: float = 10.0
    currency: str = "CNY"
    carrier_secrets: dict[str, str] = field(default_factory=dict)
    ship_within_days: int = 7
    digital_delivery_minutes: int = 10  # a digital gift's promise: delivered within this
    voucher_low_stock: int = 100  # codes left at which an e-voucher pool is alerted
    at_risk_hours: int = 48
    payment_timeout_minutes: int = 30
    compensation_rate: Decimal = Decimal("0.10")
    points_timezone: str = "Asia/Shanghai"
    allowed_origins: tuple[str, ...] = ()
    max_body_bytes: int = 1_048_576
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2_000
    rate_limit_per_minute: int = 60
    rate_limit_storage: str = "memory://"
    sweep_interval_seconds: float = 30.0
    catalog_cache_seconds: float = 1.0
    log_level: str = "INFO"
    metrics_token: str | None = None
    smsc_url: str | None = None  # smpp://system_id:password@host:port?source=...&window=...
    quiet_hours: str = "22:00-08:00"
    notify_credits_from: int = 1000  # 0: credits are not told
    sms_replies_per_hour: int = 5
    # any: every document runs (GraphiQL, ad-hoc queries); trusted: only the manifest's.
    graphql_documents: str = "any"
    graphql_manifest: str | None = None  # the trusted documents' manifest (None: the bundled)
    push_webhook_url: str | None = None  # unset: nothing is pushed
    push_webhook_secret: str = DEV_PUSH_WEBHOOK_SECRET
    push_timeout_seconds: float = 5.0
    first_reply_hours: int = 48  # after-sales: the promise of a first reply from a person
    follow_up_reply_hours: int = 24  # an answer to each later message of the member
    resolve_within_days: int = 7
    service_at_risk_hours: int = 8  # a ticket's promise with less time left is at risk
    ticket_compensation_points: int = 100  # credited once when a first reply is breached
    goodwill_daily_cap: int = 500  # goodwill points an agent may credit a day (admins set more)
    # Fernet keys sealing e-voucher codes: the first seals, every one opens (rotation).
    voucher_keys: tuple[str, ...] = (DEV_VOUCHER_KEY,)
    voucher_digest_key: str = DEV_VOUCHER_DIGEST_KEY  # HMAC key of the codes' digests
    # The operator's charging system, which top-ups are sent to (None: they are not sent,
    # and each is refunded when its promise ends); the secret signs both ways.
    charging_url: str | None = None
    charging_secret: str = DEV_CHARGING_SECRET
    charging_timeout_seconds: float = 5.0

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    def check(self) -> None:
        """Refuse settings the service cannot run with, and production with development
        secrets; raises SettingsError saying why."""
        problems = []
        if self.rate_limit_per_minute > 0 and (why := _storage_problem(self.rate_limit_storage)):
            problems.append(f"RATE_LIMIT_STORAGE {why}")
        if not QUIET_HOURS.match(self.quiet_hours):
            problems.append("QUIET_HOURS must be HH:MM-HH:MM, e.g. 22:00-08:00")
        if self.graphql_documents not in ("any", "trusted"):
            problems.append("GRAPHQL_DOCUMENTS must be any or trusted")
        if min(self.first_reply_hours, self.follow_up_reply_hours, self.resolve_within_days) < 1:
            problems.append(
                "FIRST_REPLY_HOURS, FOLLOW_UP_REPLY_HOURS and RESOLVE_WITHIN_DAYS must be positive"
            )
        if self.service_at_risk_hours < 0 or self.ticket_compensation_points < 1:
            problems.append("SERVICE_AT_RISK_HOURS must be >= 0, TICKET_COMPENSATION_POINTS >= 1")
        if not 1 <= self.digital_delivery_minutes <= 1440:
            problems.append("DIGITAL_DELIVERY_MINUTES must be between 1 and 1440")
        if self.voucher_low_stock < 0:
            problems.append("VOUCHER_LOW_STOCK must be >= 0")
        if not self.voucher_keys or not all(valid_key(k) for k in self.voucher_keys):
            problems.append("VOUCHER_KEYS must be Fernet keys (32 url-safe base64 bytes)")
        if self.smsc_url and not self.smsc_url.startswith("smpp://"):
            problems.append("SMSC_URL must be smpp://system_id:password@host:port")
        if self.push_webhook_url and not self.push_webhook_url.startswith(("http://", "https://")):
            problems.append("PUSH_WEBHOOK_URL must be an http:// or https:// URL")
        if self.charging_url and not self.charging_url.startswith(("http://", "https://")):
            problems.append("CHARGING_URL must be an http:// or https:// URL")
        if not self.charging_secret:
            problems.append("CHARGING_SECRET must not be empty")
        if self.production:
            problems += self._production_problems()
        if problems:
            context = " with APP_ENV=production" if self.production else ""
            raise SettingsError(f"refusing to start{context}: " + "; ".join(problems))

    def _production_problems(self) -> list[str]:
        problems = []
        if not self.database_url_set:
            problems.append("DATABASE_URL is not set")
        if self.jwt_secret == DEV_JWT_SECRET and not self.jwt_public_key:
            problems.append("JWT_SECRET is the development secret")
        if len(self.jwt_secret) < 32 and not self.jwt_public_key:
            problems.append("JWT_SECRET is shorter than 32 characters")
        if self.stripe_webhook_secret == DEV_STRIPE_WEBHOOK_SECRET:
            problems.append("STRIPE_WEBHOOK_SECRET is the development secret")
        if self.stripe_api_key == DEV_STRIPE_API_KEY:
            problems.append("STRIPE_API_KEY is the development key")
        if DEV_VOUCHER_KEY in self.voucher_keys:
            problems.append("VOUCHER_KEYS holds the development key")
        if self.voucher_digest_key == DEV_VOUCHER_DIGEST_KEY or len(self.voucher_digest_key) < 32:
            problems.append("VOUCHER_DIGEST_KEY is the development key or under 32 characters")
        if self.push_webhook_url and self.push_webhook_secret == DEV_PUSH_WEBHOOK_SECRET:
            problems.append("PUSH_WEBHOOK_SECRET is the development secret")
        weak = self.charging_secret == DEV_CHARGING_SECRET or len(self.charging_secret) < 32
        if self.charging_url and weak:
            problems.append("CHARGING_SECRET is the development secret or under 32 characters")
        return problems


def _storage_problem(uri: str) -> str | None:
    """Why `limits` cannot count in `uri` (its scheme only: the URI may hold a password)."""
    try:
        storage_from_string(f"async+{uri}")
    except ConfigurationError as exc:
        shown = f"{uri.split('://', 1)[0]}://..."
        return f"({shown}) cannot be used: {str(exc).replace(uri, shown)}"
    return None


def _carrier_secrets(raw: str) -> dict[str, str]:
    """CARRIER_SECRETS is `carrier=secret,carrier=secret`."""
    pairs = (item.split("=", 1) for item in CommaSeparatedStrings(raw) if "=" in item)
    return {name.strip().upper(): secret.strip() for name, secret in pairs}


def load_settings(env_file: str | Path | None = None) -> Settings:
    """Read the settings from the environment (and an optional .env file)."""
    config = Config(env_file) if env_file else Config()
    database_url = config("DATABASE_URL", default=None)
    app_env = config("APP_ENV", default="development")
    return Settings(
        app_env=app_env,
        database_url=database_url or DEFAULT_SQLITE_URL,
        database_url_set=bool(database_url),
        jwt_secret=config("JWT_SECRET", default=DEV_JWT_SECRET),
        jwt_public_key=config("JWT_PUBLIC_KEY", default=None),
        jwt_leeway_seconds=config("JWT_LEEWAY_SECONDS", cast=int, default=30),
        stripe_api_key=config("STRIPE_API_KEY", default=DEV_STRIPE_API_KEY),
        stripe_webhook_secret=config("STRIPE_WEBHOOK_SECRET", default=DEV_STRIPE_WEBHOOK_SECRET),
        stripe_api_base=config("STRIPE_API_BASE", default=None),
        stripe_timeout_seconds=config("STRIPE_TIMEOUT_SECONDS", cast=float, default=10.0),
        currency=config("CURRENCY", default="CNY").upper(),
        carrier_secrets=_carrier_secrets(
            config(
                "CARRIER_SECRETS", default="SF=dev-sf-secret,YTO=dev-yto-secret,EMS=dev-ems-secret"
            )
        ),
        ship_within_days=config("SHIP_WITHIN_DAYS", cast=int, default=7),
        digital_delivery_minutes=config("DIGITAL_DELIVERY_MINUTES", cast=int, default=10),
        voucher_low_stock=config("VOUCHER_LOW_STOCK", cast=int, default=100),
        at_risk_hours=config("AT_RISK_HOURS", cast=int, default=48),
        payment_timeout_minutes=config("PAYMENT_TIMEOUT_MINUTES", cast=int, default=30),
        compensation_rate=config("COMPENSATION_RATE", cast=Decimal, default=Decimal("0.10")),
        points_timezone=config("POINTS_TIMEZONE", default="Asia/Shanghai"),
        allowed_origins=tuple(config("ALLOWED_ORIGINS", cast=CommaSeparatedStrings, default="")),
        max_body_bytes=config("MAX_BODY_BYTES", cast=int, default=1_048_576),
        max_query_depth=config("MAX_QUERY_DEPTH", cast=int, default=12),
        max_aliases=config("MAX_ALIASES", cast=int, default=30),
        max_tokens=config("MAX_TOKENS", cast=int, default=2_000),
        rate_limit_per_minute=config("RATE_LIMIT_PER_MINUTE", cast=int, default=60),
        rate_limit_storage=config("RATE_LIMIT_STORAGE", default="memory://"),
        sweep_interval_seconds=config("SWEEP_INTERVAL_SECONDS", cast=float, default=30.0),
        catalog_cache_seconds=config("CATALOG_CACHE_SECONDS", cast=float, default=1.0),
        log_level=config("LOG_LEVEL", default="INFO").upper(),
        metrics_token=config("METRICS_TOKEN", default=None),
        smsc_url=config("SMSC_URL", default=None) or None,
        quiet_hours=config("QUIET_HOURS", default="22:00-08:00"),
        notify_credits_from=config("NOTIFY_CREDITS_FROM", cast=int, default=1000),
        sms_replies_per_hour=config("SMS_REPLIES_PER_HOUR", cast=int, default=5),
        graphql_documents=config("GRAPHQL_DOCUMENTS", default="any").strip().lower(),
        graphql_manifest=config("GRAPHQL_MANIFEST", default=None) or None,
        push_webhook_url=config("PUSH_WEBHOOK_URL", default=None) or None,
        push_webhook_secret=config("PUSH_WEBHOOK_SECRET", default=DEV_PUSH_WEBHOOK_SECRET),
        push_timeout_seconds=config("PUSH_TIMEOUT_SECONDS", cast=float, default=5.0),
        first_reply_hours=config("FIRST_REPLY_HOURS", cast=int, default=48),
        follow_up_reply_hours=config("FOLLOW_UP_REPLY_HOURS", cast=int, default=24),
        resolve_within_days=config("RESOLVE_WITHIN_DAYS", cast=int, default=7),
        service_at_risk_hours=config("SERVICE_AT_RISK_HOURS", cast=int, default=8),
        ticket_compensation_points=config("TICKET_COMPENSATION_POINTS", cast=int, default=100),
        goodwill_daily_cap=config("GOODWILL_DAILY_CAP", cast=int, default=500),
        voucher_keys=tuple(
            config("VOUCHER_KEYS", cast=CommaSeparatedStrings, default=DEV_VOUCHER_KEY)
        ),
        voucher_digest_key=config("VOUCHER_DIGEST_KEY", default=DEV_VOUCHER_DIGEST_KEY),
        charging_url=config("CHARGING_URL", default=None) or None,
        charging_secret=config("CHARGING_SECRET", default=DEV_CHARGING_SECRET),
        charging_timeout_seconds=config("CHARGING_TIMEOUT_SECONDS", cast=float, default=5.0),
    )
