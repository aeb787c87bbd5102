"""A plain terminal client of the local Rasa REST channel (the `make run` chat without
Telegram): buttons are numbered, and you may answer with a number or type freely."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any, TextIO

from bot.settings import TOKEN_HEADER

INTRO = (
    "Chat with Brücke in any of its languages. Buttons are shown as numbers: type a number "
    "to choose one, or type your own text. /stop ends the chat.\n"
    "This is a local demo: a handover creates a demo case, but no counsellor can answer "
    "you in the terminal (that needs Telegram).")
STOP = {"/stop", "/quit", "/exit"}


def language_code(environ: dict[str, str] | None = None) -> str | None:
    """The terminal's language (LANG=de_DE.UTF-8 → "de"), like Telegram's language_code."""
    env = os.environ if environ is None else environ
    value = env.get("LC_ALL") or env.get("LANG") or ""
    code = value.split(".")[0].split("_")[0].lower()
    return code if code.isalpha() and len(code) == 2 and code != "c" else None


class TerminalChat:
    """One conversation with a fresh sender id."""

    def __init__(self, host: str, port: int, token: str | None, *,
                 read: Callable[[str], str] = input, out: TextIO | None = None,
                 timeout: float = 90.0) -> None:
        self.url = f"http://{host}:{port}/webhooks/rest/webhook"
        self.token = token
        self.sender = f"terminal-{uuid.uuid4().hex[:12]}"
        self.read = read
        self.out = out or sys.stdout
        self.timeout = timeout
        self.buttons: list[tuple[str, str]] = []  # (title, payload) of the last answer
        self.metadata = {"language_code": code} if (code := language_code()) else {}

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def message_for(self, typed: str) -> str:
        """A number picks a button of the last answer; anything else is sent as typed."""
        choice = typed.strip()
        if choice.isdigit() and 1 <= int(choice) <= len(self.buttons):
            return self.buttons[int(choice) - 1][1]
        return typed

    def send(self, message: str) -> list[dict[str, Any]]:
        body = json.dumps({"sender": self.sender, "message": message,
                           "metadata": self.metadata}).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers[TOKEN_HEADER] = self.token
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            return list(json.loads(response.read() or b"[]") or [])

    def show(self, replies: list[dict[str, Any]]) -> None:
        self.buttons = []
        for reply in replies:
            if reply.get("text"):
                self.say(f"Brücke: {reply['text']}")
            for button in reply.get("buttons") or []:
                self.buttons.append((str(button.get("title", "")),
                                     str(button.get("payload", ""))))
        for number, (title, _) in enumerate(self.buttons, 1):
            self.say(f"  {number}) {title}")
        if not replies:
            self.say("Brücke: (no answer)")

    def turn(self, typed: str) -> None:
        try:
            self.show(self.send(self.message_for(typed)))
        except (urllib.error.URLError, OSError, ValueError):
            self.say("(The assistant is not reachable right now; it may be restarting. "
                     "Please try again in a moment.)")

    def loop(self) -> int:
        self.say(INTRO)
        while True:
            try:
                typed = self.read("You: ")
            except EOFError:
                self.say("")
                return 0
            if typed.strip().lower() in STOP:
                return 0
            if typed.strip():
                self.turn(typed)


def main() -> int:
    """`python -m tools.chat` against an already running stack (RASA_URL, RASA_REST_TOKEN)."""
    from urllib.parse import urlsplit

    url = urlsplit(os.environ.get("RASA_URL", "http://127.0.0.1:5005"))
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history in input())
    chat = TerminalChat(url.hostname or "127.0.0.1", url.port or 5005,
                        os.environ.get("RASA_REST_TOKEN"))
    try:
        return chat.loop()
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
