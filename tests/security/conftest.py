"""A Rasa server as `make run` starts it (tools/rasa_server.py, tokens from the environment,
LOG_LEVEL=DEBUG, output captured), and helpers to see where a port listens; the attack suite
uses the Telegram fixtures (the real gateway, the Bot API stand-in, real Rasa and action
servers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.settings import PROJECT_ROOT, TOKEN_HEADER
from tests.conftest import free_port
from tests.telegram.conftest import gateway, rasa_server, stub  # noqa: F401


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) of sockets listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                found.add(address)
    return found


LOOPBACK_V4 = "0100007F"  # 127.0.0.1, little-endian hex


@dataclass
class RasaProcess:
    url: str
    port: int
    pid: int
    log: Path
    api_token: str

    def post(self, sender: str, message: str, token: str | None = "env",
             ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        sent = os.environ["RASA_REST_TOKEN"] if token == "env" else token
        if sent:
            headers[TOKEN_HEADER] = sent
        body = json.dumps({"sender": sender, "message": message}).encode()
        request = urllib.request.Request(f"{self.url}/webhooks/rest/webhook", data=body,
                                         headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, None


@pytest.fixture(scope="session")
def rasa_process(model_path: Path, action_server_url: str, data_dir: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaProcess]:
    from tools.run import wait_for

    port = free_port()
    api_token = os.urandom(16).hex()
    log = tmp_path_factory.mktemp("rasa-log") / "rasa.log"
    env = {**os.environ, "BRUECKE_DATA_DIR": str(data_dir), "LOG_LEVEL": "DEBUG",
           "RASA_API_TOKEN": api_token}
    with log.open("w", encoding="utf-8") as output:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tools.rasa_server", "--model", str(model_path),
             "--port", str(port), "--action-url", action_server_url],
            cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/status?token={api_token}", timeout=240)
        yield RasaProcess(url, port, proc.pid, log, api_token)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
