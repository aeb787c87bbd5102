"""Nothing exposed: servers on loopback, shared tokens checked, no secret on a command line,
BRUECKE_SECRET required off SQLite, the pseudonym key created once and private."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT, TOKEN_HEADER, MissingSettingError, Settings
from tests.conftest import free_port
from tests.security.conftest import LOOPBACK_V4, RasaProcess, listening_addresses


def _status(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_action_server_listens_on_loopback_and_checks_the_token(action_server_url: str) -> None:
    base = action_server_url.rsplit("/", 1)[0]
    port = int(base.rsplit(":", 1)[1])
    assert listening_addresses(port) == {LOOPBACK_V4}
    assert _status(f"{base}/health") == 200  # the supervisor's health check stays open
    assert _status(f"{base}/actions") == 401
    assert _status(f"{base}/actions", {TOKEN_HEADER: "wrong-token-of-same-size!!!!!!!!"}) == 401
    token = os.environ["ACTION_SERVER_TOKEN"]
    assert _status(f"{base}/actions", {TOKEN_HEADER: token}) == 200


def test_forged_action_call_without_token_is_refused(action_server_url: str) -> None:
    body = (b'{"next_action":"action_cancel_case","sender_id":"123456789",'
            b'"tracker":{"sender_id":"123456789","slots":{},"latest_message":{},'
            b'"events":[]},"domain":{}}')
    request = urllib.request.Request(action_server_url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401


def test_rasa_listens_on_loopback_checks_the_rest_token_and_hides_the_api_token(
        rasa_process: RasaProcess) -> None:
    assert listening_addresses(rasa_process.port) == {LOOPBACK_V4}
    status, _ = rasa_process.post("exposure-1", "hello", token=None)
    assert status == 401
    status, _ = rasa_process.post("exposure-1", "hello", token="not-the-token-at-all-123")
    assert status == 401
    status, replies = rasa_process.post("exposure-1", "hello")
    assert status == 200 and replies
    # what `ps` shows: the command line has no token
    cmdline = Path(f"/proc/{rasa_process.pid}/cmdline").read_bytes().decode()
    assert rasa_process.api_token not in cmdline
    assert os.environ["ACTION_SERVER_TOKEN"] not in cmdline
    assert os.environ["RASA_REST_TOKEN"] not in cmdline
    # the HTTP API is on and token-protected
    assert _status(f"{rasa_process.url}/status") == 401
    assert _status(f"{rasa_process.url}/status?token={rasa_process.api_token}") == 200


def test_run_passes_tokens_by_environment_only(tmp_path: Path) -> None:
    from tools.run import child_env, stack

    settings = Settings(data_dir=tmp_path, _env_file=None)
    env = child_env(settings)
    assert env["RASA_TELEMETRY_ENABLED"] == "false"
    assert env["SANIC_HOST"] == "127.0.0.1"
    tokens = {env[name] for name in ("ACTION_SERVER_TOKEN", "RASA_REST_TOKEN",
                                     "RASA_API_TOKEN")}
    assert len(tokens) == 3 and all(len(t) >= 16 for t in tokens)
    for child in stack(settings, tmp_path / "model.tar.gz", env, gateway=True):
        assert not tokens & set(child.command), child.name
        assert not any(t in repr(child) for t in tokens)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.5", "::"])
def test_binding_off_loopback_requires_every_shared_token(host: str) -> None:
    settings = Settings(bind_host=host, _env_file=None, action_server_token=None,
                        rasa_rest_token=None, rasa_api_token=None)
    with pytest.raises(MissingSettingError) as error:
        settings.require_shared_tokens()
    for name in ("ACTION_SERVER_TOKEN", "RASA_REST_TOKEN", "RASA_API_TOKEN", "BIND_HOST"):
        assert name in str(error.value)
    ok = Settings(bind_host=host, _env_file=None, action_server_token="a" * 16,
                  rasa_rest_token="b" * 16, rasa_api_token="c" * 16)
    ok.require_shared_tokens()


def test_action_server_refuses_to_start_off_loopback_without_tokens(data_dir: Path) -> None:
    env = {**os.environ, "BIND_HOST": "0.0.0.0", "ACTION_SERVER_TOKEN": "",
           "RASA_REST_TOKEN": "", "RASA_API_TOKEN": ""}
    result = subprocess.run(
        [sys.executable, "-m", "tools.action_server", "--port", str(free_port())],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "ACTION_SERVER_TOKEN" in result.stdout + result.stderr


def test_brucke_secret_is_required_off_sqlite(tmp_path: Path) -> None:
    settings = Settings(database_url="postgresql://u@db.internal/bruecke", _env_file=None,
                        secret=None)
    with pytest.raises(MissingSettingError, match="BRUECKE_SECRET"):
        settings.require_secret_off_sqlite()
    Settings(database_url="postgresql://u@db/b", secret="x" * 32,
             _env_file=None).require_secret_off_sqlite()
    Settings(data_dir=tmp_path, _env_file=None, secret=None).require_secret_off_sqlite()


def _key_in_child(data_dir: str) -> str:
    from bot.privacy import _secret

    return _secret.__wrapped__(Path(data_dir)).decode()


def test_pseudonym_key_is_created_once_private_and_shared(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          ) -> None:
    from bot.settings import get_settings

    monkeypatch.delenv("BRUECKE_SECRET", raising=False)
    monkeypatch.setenv("BRUECKE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        with ProcessPoolExecutor(8, mp_context=get_context("fork")) as pool:
            keys = set(pool.map(_key_in_child, [str(tmp_path)] * 16))
    finally:
        get_settings.cache_clear()
    assert len(keys) == 1 and len(keys.pop()) == 64
    mode = stat.S_IMODE((tmp_path / "pseudonym.key").stat().st_mode)
    assert mode == 0o600
