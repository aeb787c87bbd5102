"""Rasa's stores on the shared services: the SQL tracker store on PostgreSQL (save, read
back, erase on request together with the application data) and the lock store from
REDIS_URL (chosen as Rasa does from endpoints.yml; tickets unique under a real race)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from rasa.core.lock_store import InMemoryLockStore, LockStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import func, select

from bot.db.models import Case
from bot.db.session import engine_for, session_scope
from bot.directory import import_file
from bot.privacy import ERASE_ACTION, user_ref
from bot.settings import PROJECT_ROOT, get_settings
from extensions.lock_store import AtomicRedisLockStore, EnvLockStore, redis_settings
from extensions.tracker_store import PrivacySQLTrackerStore
from tests.db.test_cases import new

DOMAIN = Domain.from_yaml("""
version: "3.1"
slots:
  language: {type: text, mappings: [{type: custom}]}
""")


@pytest.fixture
def app_database(pg_engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """DATABASE_URL of the processes = a fresh migrated PostgreSQL database."""
    url = pg_engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", url)
    # required off SQLite (the same pseudonyms in every process); the test ran only after
    # another test had left one set
    monkeypatch.setenv("BRUECKE_SECRET", "test-secret-for-the-postgresql-stores")
    get_settings.cache_clear()
    yield url
    engine_for.cache_clear()
    get_settings.cache_clear()


def tracker(sender: str, *turns: tuple[str, str]) -> DialogueStateTracker:
    events: list = [ActionExecuted("action_listen")]
    for text, action in turns:
        events += [UserUttered(text, {"name": "greet", "confidence": 1.0}),
                   ActionExecuted(action), BotUttered("ok"), ActionExecuted("action_listen")]
    events.append(SlotSet("language", "uk"))
    return DialogueStateTracker.from_events(sender, events, DOMAIN.slots)


async def test_tracker_store_on_postgresql_saves_reads_and_erases(
        app_database: str, directory_file) -> None:  # type: ignore[no-untyped-def]
    # as Rasa builds it from endpoints.yml: `url` arrives as `host`
    store = PrivacySQLTrackerStore(domain=DOMAIN, host=app_database)
    assert store.engine.dialect.name == "postgresql"
    person, other = f"p-{uuid.uuid4().hex[:8]}", f"o-{uuid.uuid4().hex[:8]}"
    with session_scope() as session:  # a case of the person in the application tables
        import_file(session, directory_file)
        new(session, conversation=person)

    await store.save(tracker(person, ("hallo", "utter_greet")))
    await store.save(tracker(other, ("hi", "utter_greet")))
    stored = await store.retrieve(person)
    assert stored is not None
    assert [e.text for e in stored.events if isinstance(e, UserUttered)] == ["hallo"]
    assert stored.get_slot("language") == "uk"

    # the turn in which the person confirmed deletion: events and cases are gone
    await store.save(tracker(person, ("hallo", "utter_greet"), ("/affirm", ERASE_ACTION)))
    assert await store.retrieve(person) is None
    with session_scope() as session:
        assert session.execute(select(func.count()).select_from(Case).where(
            Case.user_ref == user_ref(person))).scalar_one() == 0
    assert await store.retrieve(other) is not None
    store.engine.dispose()


def test_redis_url_is_parsed() -> None:
    assert redis_settings("redis://127.0.0.1:6380/2") == {
        "host": "127.0.0.1", "port": 6380, "db": 2, "username": None, "password": None,
        "use_ssl": False}
    secured = redis_settings("rediss://rasa:p%40ss@redis.internal")
    assert (secured["username"], secured["password"], secured["port"], secured["db"],
            secured["use_ssl"]) == ("rasa", "p@ss", 6379, 0, True)
    with pytest.raises(ValueError):
        redis_settings("http://127.0.0.1:6379")


def test_lock_store_is_in_memory_without_redis_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    endpoints = AvailableEndpoints.read_endpoints(str(PROJECT_ROOT / "endpoints.yml"))
    assert endpoints.lock_store is not None
    assert type(LockStore.create(endpoints.lock_store)) is InMemoryLockStore


def test_lock_store_is_redis_with_redis_url(redis_url: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    endpoints = AvailableEndpoints.read_endpoints(str(PROJECT_ROOT / "endpoints.yml"))
    store = LockStore.create(endpoints.lock_store)
    assert isinstance(store, AtomicRedisLockStore)
    assert store.red.ping()
    # an explicit url in the endpoint wins over the environment
    explicit = EnvLockStore(endpoint_config=EndpointConfig(url=redis_url, key_prefix="t1"))
    assert isinstance(explicit, AtomicRedisLockStore) and explicit.key_prefix == "t1:lock:"


def test_tickets_are_unique_across_servers_under_a_race(redis_url: str) -> None:
    """Eight "servers" (own store, own connection) take a ticket for one conversation at the
    same instant: every ticket is different, and the lock is gone once all are served."""
    conversation, servers = f"race-{uuid.uuid4().hex[:8]}", 8
    stores = [AtomicRedisLockStore(**redis_settings(redis_url)) for _ in range(servers)]
    barrier = threading.Barrier(servers)
    tickets: list[int] = []

    def take(store: AtomicRedisLockStore) -> None:
        barrier.wait()
        tickets.append(store.issue_ticket(conversation))

    threads = [threading.Thread(target=take, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(tickets) == list(range(servers))
    for store, ticket in zip(stores, sorted(tickets), strict=True):
        store.cleanup(conversation, ticket)
    assert stores[0].get_lock(conversation) is None


async def test_a_turn_waiting_behind_a_dead_servers_ticket_gets_its_turn(
        redis_url: str) -> None:
    """Server A took the person's ticket and died; server B's turn for the same person waits
    for A's ticket to expire -- and then runs. With Rasa's own wait, B's ticket expired in
    the same second as A's (both have the same lifetime) and B waited for ever."""
    import asyncio

    conversation = f"dead-{uuid.uuid4().hex[:8]}"
    a = AtomicRedisLockStore(**redis_settings(redis_url))
    b = AtomicRedisLockStore(**redis_settings(redis_url))
    a.issue_ticket(conversation, 2.0)  # A dies: never served, never cleaned up
    await asyncio.sleep(0.05)
    started = asyncio.get_running_loop().time()

    async def turn_on_b() -> None:
        async with b.lock(conversation, lock_lifetime=2.0, wait_time_in_seconds=1):
            pass

    await asyncio.wait_for(turn_on_b(), timeout=10)
    assert asyncio.get_running_loop().time() - started >= 1.5  # it did wait for A's ticket
    assert b.get_lock(conversation) is None
