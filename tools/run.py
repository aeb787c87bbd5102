"""Start the whole stack on one machine: the action server, then the Rasa server with the
Telegram channel (TELEGRAM_BOT_TOKEN set) or a terminal chat (no token needed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from collections.abc import Iterator

from bot.settings import PROJECT_ROOT, MissingSettingError, get_settings
from tools.train import ensure_model

ACTION_PORT = int(os.environ.get("ACTION_SERVER_PORT", "5055"))


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
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> int:
    settings = get_settings()
    model = ensure_model()
    rasa = [sys.executable, "-m", "rasa"]
    common = ["--model", str(model), "--endpoints", "endpoints.yml"]
    if settings.telegram_enabled:
        try:
            settings.require_telegram_token()
        except MissingSettingError as error:
            print(error, file=sys.stderr)
            return 2
        command = [*rasa, "run", *common, "--credentials", "credentials.telegram.yml",
                   "--connector", "connectors.telegram.TelegramInput"]
    else:
        print("No TELEGRAM_BOT_TOKEN set: starting a terminal chat (type /stop to end).")
        command = [*rasa, "shell", *common]
    with action_server():
        return subprocess.call(command, cwd=PROJECT_ROOT)


if __name__ == "__main__":
    raise SystemExit(main())
