"""RasaPool against small local HTTP servers that speak the REST channel: one person stays
on one server, spreading is even and stable, and when a server dies mid-run its people move
to the next server without losing a message or changing their order."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from connectors.rasa_pool import NoRasaAvailable, RasaPool, rendezvous_order


class _Server(ThreadingHTTPServer):
    # 24 people connect at once; the default backlog of 5 refuses some of them on a busy
    # machine, which would look like a dead server
    request_queue_size = 128


@dataclass
class FakeRasa:
    """A REST-channel server on a free loopback port; every message it handled is logged."""

    name: str
    log: list[tuple[str, str, str]]  # (server, sender, text), shared by all servers
    status: int = 200
    hang_up: bool = False  # read the request, then close the connection without answering
    # the shared tracker store: sender -> events; with store_then_hang_up the server stores
    # the whole turn (as Rasa does at its end) and dies before it answers
    tracker: dict[str, list[dict]] = field(default_factory=dict)
    store_then_hang_up: bool = False
    server: _Server = field(init=False)

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (the tracker API)
                sender = self.path.split("/conversations/")[1].split("/")[0]
                payload = json.dumps({"events": fake.tracker.get(sender, [])}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if fake.store_then_hang_up or not (fake.hang_up or fake.status != 200):
                    fake.tracker.setdefault(body["sender"], []).extend([
                        {"event": "user", "text": body["message"],
                         "metadata": body.get("metadata") or {}},
                        {"event": "bot", "text": f"{fake.name}:{body['message']}"}])
                if fake.hang_up or fake.store_then_hang_up:
                    fake.log.append((fake.name, body["sender"], body["message"]))
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if fake.status != 200:
                    self.send_response(fake.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                fake.log.append((fake.name, body["sender"], body["message"]))
                payload = json.dumps([{"text": f"{fake.name}:{body['message']}"}]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def kill(self) -> None:
        """Stop listening: new connections are refused, like a dead process."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def servers() -> Iterator[tuple[FakeRasa, FakeRasa, list[tuple[str, str, str]]]]:
    log: list[tuple[str, str, str]] = []
    tracker: dict[str, list[dict]] = {}  # one database behind both servers
    a, b = FakeRasa("a", log, tracker=tracker), FakeRasa("b", log, tracker=tracker)
    yield a, b, log
    for server in (a, b):
        with contextlib.suppress(OSError):
            server.kill()


def test_rendezvous_spreads_evenly_and_moves_only_the_removed_servers_people() -> None:
    urls = [f"http://10.0.0.{i}:5005" for i in range(1, 4)]
    senders = [str(1000 + i) for i in range(3000)]
    first = {s: rendezvous_order(urls, s)[0] for s in senders}
    shares = [list(first.values()).count(u) / len(senders) for u in urls]
    assert all(0.28 < share < 0.39 for share in shares), shares
    assert first == {s: rendezvous_order(list(reversed(urls)), s)[0] for s in senders}
    without = {s: rendezvous_order(urls[:2], s)[0] for s in senders}
    moved = [s for s in senders if without[s] != first[s]]
    assert moved and all(first[s] == urls[2] for s in moved)


async def test_no_message_lost_and_order_kept_when_a_server_dies(servers) -> None:  # type: ignore[no-untyped-def]
    a, b, log = servers
    pool = RasaPool([a.url, b.url], backoff=60)
    people = [f"{7000 + i}" for i in range(24)]
    home = {p: pool.instance_for(p) for p in people}
    assert set(home.values()) == {a.url, b.url}  # both servers have people
    half = asyncio.Event()
    answered: dict[str, list[str]] = {p: [] for p in people}
    done_first_half = 0

    async def person(sender: str) -> None:
        nonlocal done_first_half
        for n in range(6):
            if n == 3:
                done_first_half += 1
                if done_first_half == len(people):
                    a.kill()  # server a dies once everyone has sent three messages
                    half.set()
                await half.wait()
            replies = await pool.respond(sender, f"{sender}-{n}", {})
            answered[sender].append(replies[0].text)

    await asyncio.gather(*(person(p) for p in people))
    await pool.close()
    for p in people:
        texts = [text for _, sender, text in log if sender == p]
        assert texts == [f"{p}-{n}" for n in range(6)]  # each once, in order
        servers_used = [server for server, sender, _ in log if sender == p]
        if home[p] == b.url:
            assert servers_used == ["b"] * 6  # b's people never moved
        else:
            assert servers_used == ["a"] * 3 + ["b"] * 3
        assert [t.split(":", 1)[1] for t in answered[p]] == texts
    assert pool.is_down(a.url) and not pool.is_down(b.url)


async def test_5xx_and_hang_up_fail_over_4xx_does_not(servers) -> None:  # type: ignore[no-untyped-def]
    a, b, log = servers
    sender = next(str(i) for i in range(100) if rendezvous_order([a.url, b.url], str(i))[0]
                  == a.url)
    pool = RasaPool([a.url, b.url], backoff=60)
    a.status = 503
    assert (await pool.respond(sender, "one", {}))[0].text == "b:one"
    assert pool.failovers == 1 and pool.is_down(a.url)

    pool = RasaPool([a.url, b.url], backoff=60)
    a.status, a.hang_up = 200, True  # died after reading the message: b answers it
    assert (await pool.respond(sender, "two", {}))[0].text == "b:two"

    pool = RasaPool([a.url, b.url], backoff=60)
    a.status, a.hang_up = 400, False
    with pytest.raises(httpx.HTTPStatusError):
        await pool.respond(sender, "three", {})
    assert not pool.is_down(a.url)
    assert [(s, t) for s, _, t in log] == [("b", "one"), ("a", "two"), ("b", "two")]
    await pool.close()


async def test_a_server_is_retried_after_its_back_off(servers) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = servers
    now = [0.0]
    pool = RasaPool([a.url, b.url], backoff=5, clock=lambda: now[0])
    sender = next(str(i) for i in range(100) if pool.instance_for(str(i)) == a.url)
    a.status = 500
    assert (await pool.respond(sender, "x", {}))[0].text == "b:x"
    assert pool.instance_for(sender) == b.url
    a.status = 200
    now[0] = 6.0
    assert pool.instance_for(sender) == a.url
    assert (await pool.respond(sender, "y", {}))[0].text == "a:y"
    await pool.close()


async def test_all_servers_down_is_one_clear_error(servers) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = servers
    a.kill()
    b.kill()
    pool = RasaPool([a.url, b.url])
    with pytest.raises(NoRasaAvailable):
        await pool.respond("1", "hello", {})
    await pool.close()


def test_settings_and_bad_lists() -> None:
    pool = RasaPool.from_setting("http://127.0.0.1:5005, http://127.0.0.1:5006/")
    assert pool.urls == ["http://127.0.0.1:5005", "http://127.0.0.1:5006"]
    with pytest.raises(ValueError):
        RasaPool([])
    with pytest.raises(ValueError):
        RasaPool(["http://x:1", "http://x:1/"])


def test_the_gateway_spreads_over_the_servers_rasa_url_lists() -> None:
    """RASA_URL with several servers (make run with RASA_INSTANCES=N) gives the pool."""
    from connectors.assistant import RasaAssistant
    from connectors.telegram.app import assistant_for

    pool = assistant_for("http://127.0.0.1:5005,http://127.0.0.1:5006", None)
    assert isinstance(pool, RasaPool) and pool.urls == ["http://127.0.0.1:5005",
                                                        "http://127.0.0.1:5006"]
    assert isinstance(assistant_for("http://127.0.0.1:5005", None), RasaAssistant)


def test_several_rasa_servers_need_the_redis_lock_store() -> None:
    from bot.settings import MissingSettingError, Settings

    with pytest.raises(MissingSettingError, match="REDIS_URL"):
        Settings(rasa_instances=2, redis_url="", _env_file=None).require_lock_store()
    Settings(rasa_instances=2, redis_url="redis://127.0.0.1:6379/0",
             _env_file=None).require_lock_store()
    Settings(rasa_instances=1, redis_url="", _env_file=None).require_lock_store()


async def test_a_turn_stored_by_a_server_that_then_died_is_not_run_again(servers) -> None:  # type: ignore[no-untyped-def]
    """Server a stores the person's turn and dies before it answers: the next server is not
    asked to run it again (that would store the message twice); the stored answer is sent."""
    a, b, log = servers
    pool = RasaPool([a.url, b.url], "api-token")
    sender = next(s for s in (str(n) for n in range(5000, 6000))
                  if pool.instance_for(s) == a.url)
    a.store_then_hang_up = True
    replies = await pool.respond(sender, "how long does it take?", {"message_id": 41})
    assert [r.text for r in replies] == ["a:how long does it take?"]
    assert [e for e in log if e[1] == sender] == [("a", sender, "how long does it take?")]
    # a message that never arrived anywhere is sent to the next server as before
    a.kill()
    replies = await pool.respond(sender, "and the cost?", {"message_id": 42})
    assert [r.text for r in replies] == ["b:and the cost?"]
    await pool.close()
