"""Start the whole stack on one machine: the action server, the Rasa server and either the
Telegram gateway (TELEGRAM_BOT_TOKEN set; polling, or webhook with TELEGRAM_WEBHOOK_URL) or
a terminal chat (no token needed). Everything listens on loopback only."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from bot.settings import PROJECT_ROOT, MissingSettingError, get_settings
from tools.train import ensure_model

ACTION_PORT = int(os.environ.get("ACTION_SERVER_PORT", "5055"))
RASA_PORT = int(os.environ.get("RASA_PORT", "5005"))


def wait_for(url: str, timeout: float = 120.0) -> None:
    """Poll a health URL until it answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not come up within {timeout:.0f} s")


@contextmanager
def action_server(port: int = ACTION_PORT) -> Iterator[subprocess.Popen]:
    """Run `rasa_sdk` with our actions in the background for the duration of the block."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
        cwd=PROJECT_ROOT,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/health")
        yield proc
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@contextmanager
def rasa_server(model: str, api_token: str, port: int = RASA_PORT) -> Iterator[str]:
    """`rasa run` with the REST channel and the HTTP API (token-protected) on loopback."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "rasa", "run", "--model", model, "--endpoints", "endpoints.yml",
         "--credentials", "channels.yml", "--enable-api", "--auth-token", api_token,
         "-i", "127.0.0.1", "-p", str(port)], cwd=PROJECT_ROOT)
    try:
        wait_for(f"http://127.0.0.1:{port}/status?token={api_token}", timeout=300)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)


def main() -> int:
    settings = get_settings()
    model = ensure_model()
    rasa = [sys.executable, "-m", "rasa"]
    common = ["--model", str(model), "--endpoints", "endpoints.yml"]
    if settings.telegram_enabled:
        try:
            settings.require_telegram_token()
            if settings.telegram_webhook_url:
                settings.require_webhook_secret()
        except MissingSettingError as error:
            print(error, file=sys.stderr)
            return 2
        api_token = secrets.token_hex(16)  # fresh per run, only shared with the gateway
        with action_server(), rasa_server(str(model), api_token) as url:
            env = {**os.environ, "RASA_URL": url, "RASA_API_TOKEN": api_token}
            return subprocess.call([sys.executable, "-m", "connectors.telegram"],
                                   cwd=PROJECT_ROOT, env=env)
    else:
        print("No TELEGRAM_BOT_TOKEN set: starting a terminal chat (type /stop to end).")
        command = [*rasa, "shell", *common]
    with action_server():
        return subprocess.call(command, cwd=PROJECT_ROOT)


if __name__ == "__main__":
    raise SystemExit(main())
