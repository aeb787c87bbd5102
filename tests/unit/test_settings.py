"""Settings: embedded defaults, and a missing token that names the variable to set."""

from __future__ import annotations

import pytest

from bot.settings import MissingSettingError, Settings


def test_default_database_is_sqlite_in_the_data_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings(data_dir=tmp_path, _env_file=None)
    assert settings.database_url == f"sqlite:///{tmp_path / 'bruecke.db'}"


def test_database_url_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@localhost/db")
    assert Settings(_env_file=None).database_url == "postgresql://u@localhost/db"


@pytest.mark.parametrize("token", [None, "", "changeme", "no-colon-here"])
def test_missing_or_placeholder_token_names_the_variable(token, monkeypatch) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    settings = Settings(telegram_bot_token=token, _env_file=None)
    with pytest.raises(MissingSettingError, match="TELEGRAM_BOT_TOKEN"):
        settings.require_telegram_token()


def test_token_is_secret_in_repr() -> None:
    settings = Settings(telegram_bot_token="123456:ABCdef", _env_file=None)
    assert "ABCdef" not in repr(settings)
    assert settings.require_telegram_token() == "123456:ABCdef"


def test_operator_and_retention_defaults(monkeypatch) -> None:
    for name in ("OPERATOR_NAME", "PRIVACY_URL", "RETENTION_CASES_DAYS", "RETENTION_IDLE_DAYS",
                 "BIND_HOST"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    # without a privacy notice of its own, texts point to the privacy answer (/privacy)
    assert settings.text_variables() == {"operator_name": "Brücke network",
                                         "privacy_url": "/privacy"}
    assert (settings.retention_cases_days, settings.retention_idle_days) == (180, 365)
    assert settings.bind_host == "127.0.0.1"
    settings.require_shared_tokens()  # loopback needs no shared tokens


def test_settings_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("OPERATOR_NAME", "Mosty e.V.")
    monkeypatch.setenv("PRIVACY_URL", "https://example.org/privacy")
    monkeypatch.setenv("RETENTION_CASES_DAYS", "90")
    settings = Settings(_env_file=None)
    assert settings.text_variables()["operator_name"] == "Mosty e.V."
    assert settings.retention_cases_days == 90


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts(host) -> None:
    from bot.settings import is_loopback

    assert is_loopback(host)
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")


def test_escalation_time_is_a_setting(monkeypatch) -> None:
    monkeypatch.setenv("ESCALATE_AFTER_HOURS", "1.5")
    assert Settings(_env_file=None).escalate_after_hours == 1.5
    monkeypatch.delenv("ESCALATE_AFTER_HOURS")
    assert Settings(_env_file=None).escalate_after_hours == 4.0
