"""The Telegram side under test: a real Rasa server (REST channel + HTTP API) on loopback,
the real python-telegram-bot gateway, and the local Bot API stand-in."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import PROJECT_ROOT, Settings
from tests.conftest import free_port
from tests.telegram.bot_api_stub import BotApiStub

TOKEN = "123456:TEST-token_for_the_stand-in"


@pytest.fixture(scope="session")
def rasa_server(model_path: Path, action_server_url: str, data_dir: Path,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    from tools.run import wait_for

    endpoints = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())
    endpoints["action_endpoint"]["url"] = action_server_url
    path = tmp_path_factory.mktemp("rasa") / "endpoints.yml"
    path.write_text(yaml.safe_dump(endpoints))
    port, token = free_port(), secrets.token_hex(16)
    proc = subprocess.Popen(
        [sys.executable, "-m", "rasa", "run", "--model", str(model_path), "--enable-api",
         "--auth-token", token, "-i", "127.0.0.1", "-p", str(port), "--credentials",
         "channels.yml", "--endpoints", str(path)],
        cwd=PROJECT_ROOT, env={**os.environ, "BRUECKE_DATA_DIR": str(data_dir)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/status?token={token}", timeout=180)
        yield f"http://127.0.0.1:{port}", token
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
async def stub() -> AsyncIterator[BotApiStub]:
    server = BotApiStub(TOKEN)
    await server.start()
    yield server
    await server.stop()


def gateway_settings(stub: BotApiStub, rasa: tuple[str, str]) -> Settings:
    return Settings(telegram_bot_token=TOKEN, telegram_api_base_url=f"http://127.0.0.1:"
                    f"{stub.port}/bot", rasa_url=rasa[0], rasa_api_token=rasa[1],
                    _env_file=None)


async def start_gateway(stub: BotApiStub, rasa: tuple[str, str],  # type: ignore[no-untyped-def]
                        assistant: Any = None):
    """The gateway in polling mode against the stand-in, started as `run()` would (with a
    stand-in `assistant` instead of the Rasa server, when given)."""
    from connectors.telegram import build_application

    app = build_application(gateway_settings(stub, rasa), assistant=assistant,
                            notify_interval=0.2)
    await app.initialize()
    await app.post_init(app)
    await app.start()
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    return app


async def stop_gateway(app) -> None:  # type: ignore[no-untyped-def]
    await app.updater.stop()
    await app.stop()
    await app.post_shutdown(app)
    await app.shutdown()


@pytest.fixture
async def gateway(stub: BotApiStub, rasa_server: tuple[str, str]):  # type: ignore[no-untyped-def]
    """The gateway in polling mode against the stand-in."""
    app = await start_gateway(stub, rasa_server)
    yield app
    await stop_gateway(app)
