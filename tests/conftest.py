"""Shared fixtures: the trained model (once per session, cached by data fingerprint), a real
action server on a free loopback port, and a Rasa agent with the project's NLG and SQL
tracker store on a temporary SQLite database."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.settings import PROJECT_ROOT, TOKEN_HEADER, get_settings

# Quiet TensorFlow; keep settings of the developer's shell out of the tests.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.pop("TELEGRAM_BOT_TOKEN", None)
# Everything on loopback, no telemetry, and the shared tokens of a real run (inherited by
# every server subprocess: the action server and the REST channel check them).
os.environ["BIND_HOST"] = "127.0.0.1"
os.environ["SANIC_HOST"] = "127.0.0.1"
os.environ["RASA_TELEMETRY_ENABLED"] = "false"
os.environ["ACTION_SERVER_TOKEN"] = secrets.token_hex(16)
os.environ["RASA_REST_TOKEN"] = secrets.token_hex(16)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh data folder (SQLite files) for the whole session, migrated explicitly as
    `make run` does (processes only check the schema)."""
    from bot.db.migrate import upgrade
    from bot.db.session import make_engine

    path = tmp_path_factory.mktemp("var")
    old = os.environ.get("BRUECKE_DATA_DIR")
    os.environ["BRUECKE_DATA_DIR"] = str(path)
    os.environ.pop("DATABASE_URL", None)
    get_settings.cache_clear()
    engine = make_engine(get_settings().database_url)
    upgrade(engine)
    engine.dispose()
    yield path
    if old is None:
        os.environ.pop("BRUECKE_DATA_DIR", None)
    else:
        os.environ["BRUECKE_DATA_DIR"] = old
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def model_path() -> Path:
    from tools.train import ensure_model

    return ensure_model()


@pytest.fixture(scope="session")
def action_server_log(data_dir: Path) -> Path:
    """Everything the session's action server wrote (it runs at LOG_LEVEL=DEBUG, so the
    log-privacy tests see the most talkative setting)."""
    return data_dir / "action_server.log"


@pytest.fixture(scope="session")
def action_server_url(data_dir: Path, directory: Path, action_server_log: Path) -> Iterator[str]:
    from tools.run import wait_for

    port = free_port()
    env = {**os.environ, "BRUECKE_DATA_DIR": str(data_dir), "LOG_LEVEL": "DEBUG"}
    with action_server_log.open("w", encoding="utf-8") as output:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tools.action_server", "--port", str(port)],
            cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )
    try:
        wait_for(f"http://127.0.0.1:{port}/health", timeout=120)
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="session")
async def agent(model_path: Path, action_server_url: str, data_dir: Path) -> AsyncIterator[Any]:
    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.endpoints import EndpointConfig

    from tools.evaluate import quiet_rasa

    quiet_rasa()
    endpoints = AvailableEndpoints(
        action=EndpointConfig(url=action_server_url,
                              headers={TOKEN_HEADER: os.environ["ACTION_SERVER_TOKEN"]}),
        nlg=EndpointConfig(type="extensions.nlg.LocalizedNLG"),
        # the application's database, as in `make run` (migrated: with tracker_state)
        tracker_store=EndpointConfig(
            type="extensions.tracker_store.PrivacySQLTrackerStore",
            url=get_settings().database_url,
        ),
    )
    loaded = await load_agent(model_path=str(model_path), endpoints=endpoints)
    assert loaded.is_ready()
    # A spy on the tracker store: the events of each turn as saved, because a turn that
    # erases the conversation leaves nothing to read back afterwards.
    store = loaded.tracker_store
    original_save = store.save
    loaded.saved_events = {}

    async def save(tracker: Any) -> None:
        loaded.saved_events[tracker.sender_id] = list(tracker.events)
        await original_save(tracker)

    store.save = save
    yield loaded


@dataclass
class Turn:
    """What the assistant did with one message."""

    texts: list[str]
    buttons: list[list[dict[str, Any]]]
    intent: str
    actions: list[str]
    slots: dict[str, Any]


class Chat:
    """One person talking to the agent, as a channel would deliver it."""

    def __init__(self, agent: Any, language_code: str | None = None) -> None:
        self.agent = agent
        self.sender_id = f"test-{uuid.uuid4().hex[:12]}"
        self.language_code = language_code

    async def say(self, text: str) -> Turn:
        from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
        from rasa.shared.core.events import ActionExecuted, UserUttered

        channel = CollectingOutputChannel()
        metadata = {"language_code": self.language_code} if self.language_code else None
        await self.agent.handle_message(
            UserMessage(text, channel, self.sender_id, metadata=metadata)
        )
        tracker = await self.agent.tracker_store.retrieve(self.sender_id)
        events = self.agent.saved_events.get(self.sender_id, [])
        last_user = max((i for i, e in enumerate(events) if isinstance(e, UserUttered)),
                        default=-1)
        actions = [e.action_name for e in events[last_user + 1:]
                   if isinstance(e, ActionExecuted) and e.action_name not in
                   ("action_listen", "action_extract_slots")]
        intent = events[last_user].intent_name if last_user >= 0 else ""
        return Turn(
            texts=[m.get("text", "") for m in channel.messages],
            buttons=[m.get("buttons") or [] for m in channel.messages],
            intent=intent or "",
            actions=actions,
            slots=tracker.current_slot_values() if tracker else {},
        )


@pytest.fixture
def chat(agent: Any):  # type: ignore[no-untyped-def]
    """Factory: `chat(language_code="uk")` starts a new conversation."""
    return lambda language_code=None: Chat(agent, language_code)


@pytest.fixture(scope="session")
def directory(data_dir: Path) -> Path:
    """The test directory imported into the session database (before the action server
    starts using it)."""
    from bot.db.session import session_scope
    from bot.directory import import_file

    path = Path(__file__).parent / "fixtures" / "directory.yml"
    with session_scope() as session:
        import_file(session, path)
    return path
