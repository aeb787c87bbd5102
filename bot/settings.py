"""One settings object for every process, read from the environment and `.env`."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path

from pydantic import BaseSettings, Field, SecretStr, validator

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Values people paste from tutorials; treated as "not set" so a bad token fails at start.
_PLACEHOLDER_TOKENS = {"", "changeme", "your-token", "<token>", "TOKEN", "123:abc"}

# Shared tokens between our own processes (Rasa server, action server, gateway).
TOKEN_HEADER = "X-Bruecke-Token"
MIN_SHARED_TOKEN = 16


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and "localhost"; anything else is reachable from outside."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip()).is_loopback
    except ValueError:
        return False


class MissingSettingError(RuntimeError):
    """Raised when a setting needed by the chosen mode is missing; names the variable."""


class Settings(BaseSettings):
    """Process settings. Every field maps to an upper-case environment variable."""

    data_dir: Path = Field(PROJECT_ROOT / "var", env="BRUECKE_DATA_DIR")
    database_url: str = Field("", env="DATABASE_URL")
    telegram_bot_token: SecretStr | None = Field(None, env="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str = Field("https://api.telegram.org/bot", env="TELEGRAM_API_BASE_URL")
    secret: SecretStr | None = Field(None, env="BRUECKE_SECRET")  # key of pseudonyms
    log_level: str = Field("INFO", env="LOG_LEVEL")
    # Telegram gateway: webhook mode when a public URL is set, long polling otherwise
    telegram_webhook_url: str = Field("", env="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_secret: SecretStr | None = Field(None, env="TELEGRAM_WEBHOOK_SECRET")
    telegram_webhook_listen: str = Field("127.0.0.1", env="TELEGRAM_WEBHOOK_LISTEN")
    telegram_webhook_port: int = Field(8443, env="TELEGRAM_WEBHOOK_PORT")
    # where the gateway reaches Rasa (REST channel and, with the token, the HTTP API)
    rasa_url: str = Field("http://127.0.0.1:5005", env="RASA_URL")
    rasa_api_token: SecretStr | None = Field(None, env="RASA_API_TOKEN")
    # several Rasa servers (each with its own action server) behind one gateway; >1 needs
    # REDIS_URL so that the servers share per-conversation locks (docs/deploy.md)
    rasa_instances: int = Field(1, env="RASA_INSTANCES", ge=1)
    # an offered case nobody took for this long goes to the coordinator and the next
    # matching organisation, and the person is told (bot/desk.pending_work)
    escalate_after_hours: float = Field(4.0, env="ESCALATE_AFTER_HOURS", gt=0)
    redis_url: str = Field("", env="REDIS_URL")
    # Where the Rasa server and the action server listen. Loopback by default; anything
    # else requires the three shared tokens below (see require_shared_tokens).
    bind_host: str = Field("127.0.0.1", env="BIND_HOST")
    action_server_token: SecretStr | None = Field(None, env="ACTION_SERVER_TOKEN")
    rasa_rest_token: SecretStr | None = Field(None, env="RASA_REST_TOKEN")
    # who runs the service (named in the privacy text) and the full privacy notice
    operator_name: str = Field("Brücke network", env="OPERATOR_NAME")
    privacy_url: str = Field("", env="PRIVACY_URL")
    # data minimisation: closed cases and idle conversations are purged after these days
    retention_cases_days: int = Field(180, env="RETENTION_CASES_DAYS", ge=1)
    retention_idle_days: int = Field(365, env="RETENTION_IDLE_DAYS", ge=1)

    class Config:
        env_file = PROJECT_ROOT / ".env"
        env_file_encoding = "utf-8"

    @validator("database_url", always=True)
    def _default_database(cls, value: str, values: dict) -> str:  # noqa: N805
        # Embedded default: one SQLite file in the data folder, shared by Rasa's
        # tracker store and the application tables.
        if value:
            return value
        data_dir = Path(values.get("data_dir") or PROJECT_ROOT / "var")
        return f"sqlite:///{data_dir / 'bruecke.db'}"

    def require_telegram_token(self) -> str:
        """Return the bot token or fail with a message that names the variable to set."""
        token = self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else ""
        if token.strip() in _PLACEHOLDER_TOKENS or ":" not in token:
            raise MissingSettingError(
                "TELEGRAM_BOT_TOKEN is not set (or is a placeholder). Set it to the token "
                "from @BotFather, e.g. in .env, or unset it to chat in the terminal."
            )
        return token

    def require_webhook_secret(self) -> str:
        secret = (self.telegram_webhook_secret.get_secret_value()
                  if self.telegram_webhook_secret else "")
        if len(secret) < 16:
            raise MissingSettingError(
                "TELEGRAM_WEBHOOK_SECRET is not set (at least 16 characters of A-Z, a-z, 0-9, "
                "_ or -): webhook mode (TELEGRAM_WEBHOOK_URL) needs it to verify Telegram.")
        return secret

    def require_lock_store(self) -> None:
        """Several Rasa servers share conversations safely only with the Redis lock store."""
        if self.rasa_instances > 1 and not self.redis_url:
            raise MissingSettingError(
                f"RASA_INSTANCES={self.rasa_instances} needs REDIS_URL (e.g. "
                "redis://127.0.0.1:6379/0): the Rasa servers keep each person's messages in "
                "order through Redis locks.")

    def text_variables(self) -> dict[str, str]:
        """Placeholders of the texts that come from the settings ({operator_name} and
        {privacy_url} in utter_privacy), for the response generator and bot.texts.render."""
        # without a notice of its own the operator's texts point to the privacy answer
        return {"operator_name": self.operator_name, "privacy_url": self.privacy_url or "/privacy"}

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def require_secret_off_sqlite(self) -> None:
        """Off SQLite several hosts share one database, so every process must derive the
        same pseudonyms: a key file per machine would silently split them."""
        if not self.uses_sqlite and not (self.secret and self.secret.get_secret_value()):
            raise MissingSettingError(
                "BRUECKE_SECRET is not set: it is required when DATABASE_URL is not SQLite, "
                "so that every process and host computes the same pseudonyms. Set it to a "
                "long random value (e.g. `python -c 'import secrets; "
                "print(secrets.token_hex(32))'`), the same everywhere.")

    def require_shared_tokens(self) -> None:
        """Off loopback, the Rasa server and the action server are reachable by others:
        each must then check a shared token."""
        if is_loopback(self.bind_host):
            return
        missing = [name for name, value in (
            ("ACTION_SERVER_TOKEN", self.action_server_token),
            ("RASA_REST_TOKEN", self.rasa_rest_token),
            ("RASA_API_TOKEN", self.rasa_api_token))
            if value is None or len(value.get_secret_value()) < MIN_SHARED_TOKEN]
        if missing:
            raise MissingSettingError(
                f"BIND_HOST={self.bind_host} is not loopback, so {', '.join(missing)} must "
                f"be set (at least {MIN_SHARED_TOKEN} characters each, the same for every "
                "process).")

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None and bool(
            self.telegram_bot_token.get_secret_value().strip()
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call `get_settings.cache_clear()`)."""
    settings = Settings()  # type: ignore[call-arg]  # fields come from the environment
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings
