"""Two Rasa agents (as two servers would be) on one PostgreSQL tracker store and one Redis
lock store: one person's messages, sent at once and alternating between them, are each
stored exactly once and in the order they arrived, every one answered. With each agent's own
in-memory lock store (the default before), the same run loses or interleaves turns."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.settings import TOKEN_HEADER

pytestmark = pytest.mark.model

MESSAGES = ["hello", "what is recognition", "thanks", "how do I get a visa", "hello again",
            "who are you", "thank you", "bye"]


async def load_two(model_path: Path, action_server_url: str, tracker_url: str,
                   lock_store: dict[str, Any]) -> list[Any]:
    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.endpoints import EndpointConfig

    from tools.evaluate import quiet_rasa

    quiet_rasa()
    agents = []
    for _ in range(2):  # each with its own stores and connections, like a separate server
        endpoints = AvailableEndpoints(
            action=EndpointConfig(url=action_server_url,  # the shared token (tests/conftest.py)
                                  headers={TOKEN_HEADER: os.environ["ACTION_SERVER_TOKEN"]}),
            nlg=EndpointConfig(type="extensions.nlg.LocalizedNLG"),
            tracker_store=EndpointConfig(type="extensions.tracker_store.PrivacySQLTrackerStore",
                                         url=tracker_url),
            lock_store=EndpointConfig(**lock_store),
        )
        agents.append(await load_agent(model_path=str(model_path), endpoints=endpoints))
    return agents


@pytest.fixture(scope="module")
def tracker_url(postgres_server) -> str:  # type: ignore[no-untyped-def]
    from bot.db.migrate import upgrade
    from bot.db.session import make_engine

    url = postgres_server.create_database(f"tracker_{uuid.uuid4().hex[:8]}")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
async def redis_agents(model_path, action_server_url, tracker_url,  # type: ignore[no-untyped-def]
                       redis_url) -> AsyncIterator[list[Any]]:
    yield await load_two(model_path, action_server_url, tracker_url,
                         {"type": "extensions.lock_store.EnvLockStore", "url": redis_url})


async def send_alternating(agents: list[Any], sender: str) -> list[list[dict]]:
    """All messages at once; message i to agent i % 2. Each agent takes its ticket in the
    first step of its task, so the arrival order is the order of the list."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    async def one(i: int, message: str) -> list[dict]:
        channel = CollectingOutputChannel()
        await agents[i % 2].handle_message(UserMessage(message, channel, sender))
        return channel.messages

    return list(await asyncio.gather(*(one(i, m) for i, m in enumerate(MESSAGES))))


def stored_turns(engine: Engine, sender: str) -> list[tuple[str, list[str]]]:
    """(user text, what followed until the next user message) in stored order."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT type_name, action_name, data FROM events "
                                 "WHERE sender_id = :s ORDER BY id"), {"s": sender}).all()
    turns: list[tuple[str, list[str]]] = []
    for type_name, action, data in rows:
        if type_name == "user":
            turns.append((json.loads(data)["text"], []))
        elif turns and type_name in ("action", "bot"):
            turns[-1][1].append(action if type_name == "action" else "bot")
    return turns


def well_formed(turn: list[str]) -> bool:
    """One complete turn: the bot said something, and it ended by listening again, once."""
    return "bot" in turn and turn[-1] == "action_listen" and turn.count("action_listen") == 1


async def test_one_person_alternating_between_two_servers_stays_in_order(
        redis_agents: list[Any], tracker_url: str) -> None:
    from bot.db.session import make_engine

    sender = f"scale-{uuid.uuid4().hex[:10]}"
    replies = await send_alternating(redis_agents, sender)
    assert all(replies), "every message is answered"
    engine = make_engine(tracker_url)
    turns = stored_turns(engine, sender)
    engine.dispose()
    assert [t for t, _ in turns] == MESSAGES  # each stored once, in arrival order
    assert all(well_formed(actions) for _, actions in turns), turns


async def test_without_a_shared_lock_the_same_run_goes_wrong(
        model_path, action_server_url, tracker_url: str) -> None:  # type: ignore[no-untyped-def]
    """The check above can fail: two in-memory lock stores let both agents work on the
    conversation at once, and turns are lost or interleaved."""
    from bot.db.session import make_engine

    agents = await load_two(model_path, action_server_url, tracker_url, {"type": "in_memory"})
    sender = f"nolock-{uuid.uuid4().hex[:10]}"
    await send_alternating(agents, sender)
    engine = make_engine(tracker_url)
    turns = stored_turns(engine, sender)
    engine.dispose()
    assert ([t for t, _ in turns] != MESSAGES
            or not all(well_formed(actions) for _, actions in turns))
