"""Settings: development defaults, and production refuses development secrets."""

from __future__ import annotations

import pytest

from api.settings import Settings, SettingsError, load_settings

REAL_VOUCHER_KEYS = ("dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnY=",)  # a well-formed Fernet key


def test_development_defaults_to_sqlite_under_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("APP_ENV", raising=False)
    settings = load_settings()
    assert settings.database_url.startswith("sqlite://data/")
    settings.check()


def test_production_refuses_development_secret_and_missing_database() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings(app_env="production").check()
    message = str(refused.value)
    assert "DATABASE_URL is not set" in message
    assert "JWT_SECRET is the development secret" in message


def test_production_starts_with_real_secrets() -> None:
    Settings(
        app_env="production",
        database_url="postgres://u@db/pointsmall",
        database_url_set=True,
        jwt_secret="s" * 48,
        stripe_api_key="sk_live_x",
        stripe_webhook_secret="whsec_real",
        voucher_keys=REAL_VOUCHER_KEYS,
        voucher_digest_key="d" * 40,
    ).check()


def test_production_refuses_short_secret() -> None:
    settings = Settings(
        app_env="production",
        database_url_set=True,
        jwt_secret="short",
        stripe_api_key="sk_live_x",
        stripe_webhook_secret="whsec_real",
    )
    with pytest.raises(SettingsError, match="shorter than 32"):
        settings.check()


def test_carrier_secrets_parse_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARRIER_SECRETS", "sf=abc, yto=def")
    assert load_settings().carrier_secrets == {"SF": "abc", "YTO": "def"}


@pytest.mark.parametrize("app_env", ["development", "production"])
def test_an_unusable_rate_limit_storage_is_refused_without_its_password(app_env: str) -> None:
    settings = Settings(
        app_env=app_env,
        database_url_set=True,
        jwt_secret="s" * 48,
        stripe_api_key="sk_live_x",
        stripe_webhook_secret="whsec_real",
        rate_limit_storage="nosuch://:hunter2@cache:6379",
    )
    with pytest.raises(SettingsError, match="RATE_LIMIT_STORAGE") as refused:
        settings.check()
    assert "hunter2" not in str(refused.value)


def test_redis_rate_limit_storage_is_accepted() -> None:
    Settings(rate_limit_storage="redis://127.0.0.1:6379/0").check()  # its client is installed


def test_push_is_off_unless_its_url_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PUSH_WEBHOOK_URL", raising=False)
    assert load_settings().push_webhook_url is None
    monkeypatch.setenv("PUSH_WEBHOOK_URL", "https://push.example/in")
    monkeypatch.setenv("PUSH_WEBHOOK_SECRET", "p" * 40)
    settings = load_settings()
    assert (settings.push_webhook_url, settings.push_webhook_secret) == (
        "https://push.example/in",
        "p" * 40,
    )


def test_production_refuses_push_with_the_development_secret() -> None:
    real = {
        "app_env": "production",
        "database_url_set": True,
        "jwt_secret": "s" * 48,
        "stripe_api_key": "sk_live_x",
        "stripe_webhook_secret": "whsec_real",
        "voucher_keys": REAL_VOUCHER_KEYS,
        "voucher_digest_key": "d" * 40,
    }
    Settings(**real).check()  # no push configured: its secret does not matter
    with pytest.raises(SettingsError, match="PUSH_WEBHOOK_SECRET is the development secret"):
        Settings(**real, push_webhook_url="https://push.example/in").check()
    Settings(
        **real, push_webhook_url="https://push.example/in", push_webhook_secret="p" * 40
    ).check()


def test_a_push_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(SettingsError, match="PUSH_WEBHOOK_URL must be an http"):
        Settings(push_webhook_url="ftp://push.example").check()


def test_voucher_keys_must_be_fernet_keys_and_production_refuses_the_development_ones() -> None:
    with pytest.raises(SettingsError, match="VOUCHER_KEYS must be Fernet keys"):
        Settings(voucher_keys=("not-a-key",)).check()
    with pytest.raises(SettingsError, match="VOUCHER_KEYS must be Fernet keys"):
        Settings(voucher_keys=()).check()
    Settings(voucher_keys=(*REAL_VOUCHER_KEYS, Settings().voucher_keys[0])).check()
    real = {
        "app_env": "production",
        "database_url_set": True,
        "jwt_secret": "s" * 48,
        "stripe_api_key": "sk_live_x",
        "stripe_webhook_secret": "whsec_real",
    }
    with pytest.raises(SettingsError) as refused:
        Settings(**real).check()
    assert "VOUCHER_KEYS holds the development key" in str(refused.value)
    assert "VOUCHER_DIGEST_KEY is the development key" in str(refused.value)
    with pytest.raises(SettingsError, match="VOUCHER_DIGEST_KEY"):
        Settings(**real, voucher_keys=REAL_VOUCHER_KEYS, voucher_digest_key="short").check()


def test_voucher_keys_come_from_the_environment_first_one_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "VOUCHER_KEYS",
        "dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnY=, " + Settings().voucher_keys[0],
    )
    assert load_settings().voucher_keys == (
        "dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnY=",
        Settings().voucher_keys[0],
    )
