"""The terminal chat: numbered buttons, a number picks one, typed text is sent as typed
(it used to be swallowed by the button menu), the REST token is sent, demo note shown."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from bot.settings import TOKEN_HEADER
from tools.chat import TerminalChat, language_code


class FakeRest(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    tokens: list[str | None] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeRest.received.append(body)
        FakeRest.tokens.append(self.headers.get(TOKEN_HEADER))
        reply = [{"recipient_id": body["sender"], "text": "Choose a topic:",
                  "buttons": [{"title": "Recognition", "payload": "/recognition_need"},
                              {"title": "Visa", "payload": "/visa_options"}]}]
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    FakeRest.received, FakeRest.tokens = [], []
    httpd = HTTPServer(("127.0.0.1", 0), FakeRest)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()


def test_numbers_pick_buttons_and_typed_text_is_sent_as_typed(server: HTTPServer) -> None:
    lines = iter(["hello", "2", "What documents do I need for recognition?", "7", "/stop"])
    out = io.StringIO()
    chat = TerminalChat("127.0.0.1", server.server_address[1], "t0ken",
                        read=lambda _prompt: next(lines), out=out)
    assert chat.loop() == 0
    sent = [m["message"] for m in FakeRest.received]
    assert sent == ["hello", "/visa_options", "What documents do I need for recognition?",
                    "7"]  # 7 is no button: sent as typed
    assert set(FakeRest.tokens) == {"t0ken"}
    shown = out.getvalue()
    assert "  1) Recognition" in shown and "  2) Visa" in shown
    assert "demo" in shown  # a handover in the terminal reaches nobody
    assert len({m["sender"] for m in FakeRest.received}) == 1


def test_an_unreachable_server_is_said_not_raised() -> None:
    lines = iter(["hello", "/stop"])
    out = io.StringIO()
    from tests.conftest import free_port

    chat = TerminalChat("127.0.0.1", free_port(), None, read=lambda _p: next(lines), out=out,
                        timeout=2)
    assert chat.loop() == 0
    assert "not reachable" in out.getvalue()


@pytest.mark.parametrize(("env", "code"), [({"LANG": "de_DE.UTF-8"}, "de"),
                                           ({"LANG": "C.UTF-8"}, None), ({}, None),
                                           ({"LC_ALL": "uk_UA.UTF-8", "LANG": "en"}, "uk")])
def test_terminal_language(env: dict[str, str], code: str | None) -> None:
    assert language_code(env) == code
