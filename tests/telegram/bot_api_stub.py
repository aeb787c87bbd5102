"""A local stand-in of the Telegram Bot API for tests: enough of getMe, getUpdates,
setWebhook, deleteWebhook, sendMessage, editMessageText, editMessageReplyMarkup,
answerCallbackQuery, sendChatAction and deleteMessage for the real python-telegram-bot client.
It records every call, can answer sendMessage with a flood-wait (429) or a server error, and
can refuse to delete chosen messages (as Telegram does after 48 hours)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from typing import Any

from aiohttp import web

BOT_USER = {"id": 1, "is_bot": True, "first_name": "Brücke", "username": "bruecke_bot",
            "can_join_groups": False, "can_read_all_group_messages": False,
            "supports_inline_queries": False}


class BotApiStub:
    def __init__(self, token: str) -> None:
        self.token = token
        self.updates: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[dict[str, Any]] = []  # sendMessage results, in order
        self.webhook: dict[str, Any] | None = None
        self.flood_waits = 0  # answer the next N sendMessage calls with 429
        self.failures = 0  # answer the next N sendMessage calls with a server error (502)
        self.undeletable: set[int] = set()  # message ids deleteMessage refuses (too old)
        self.deleted: list[tuple[int, int]] = []  # (chat, message id)
        self._ids = itertools.count(1000)
        self._update_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._arrived = asyncio.Event()  # a new update for a waiting getUpdates
        self.port = 0

    # ---------------------------------------------------------- server
    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{self.port}/bot"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return await request.json()
        form = await request.post()
        out: dict[str, Any] = {}
        for key, value in form.items():
            try:
                out[key] = json.loads(value) if isinstance(value, str) else value
            except ValueError:
                out[key] = value
        return out

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append((method, params))
        handler = getattr(self, f"api_{method}", None)
        if handler is None:
            return web.json_response({"ok": True, "result": True})
        return await handler(params)

    @staticmethod
    def ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    # ---------------------------------------------------------- methods
    async def api_getMe(self, params: dict) -> web.Response:
        return self.ok(BOT_USER)

    async def api_getUpdates(self, params: dict) -> web.Response:
        """Long polling as Telegram does it: answers as soon as there is an update."""
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 1.0)
        while True:
            pending = [u for u in self.updates if u["update_id"] >= offset]
            left = deadline - time.monotonic()
            if pending or left <= 0:
                return self.ok(pending)
            self._arrived.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)

    async def api_setWebhook(self, params: dict) -> web.Response:
        self.webhook = params
        return self.ok(True)

    async def api_deleteWebhook(self, params: dict) -> web.Response:
        self.webhook = None
        return self.ok(True)

    async def api_getWebhookInfo(self, params: dict) -> web.Response:
        return self.ok({"url": (self.webhook or {}).get("url", ""),
                        "has_custom_certificate": False, "pending_update_count": 0})

    def _message(self, chat_id: int, text: str, reply_markup: Any = None) -> dict[str, Any]:
        message = {"message_id": next(self._ids), "date": int(time.time()),
                   "chat": {"id": int(chat_id), "type": "private"}, "from": BOT_USER,
                   "text": text}
        if reply_markup:
            message["reply_markup"] = reply_markup
        return message

    async def api_sendMessage(self, params: dict) -> web.Response:
        if self.flood_waits > 0:
            self.flood_waits -= 1
            return web.json_response({"ok": False, "error_code": 429,
                                      "description": "Too Many Requests: retry after 1",
                                      "parameters": {"retry_after": 1}}, status=429)
        if self.failures > 0:
            self.failures -= 1
            return web.json_response({"ok": False, "error_code": 502,
                                      "description": "Bad Gateway"}, status=502)
        message = self._message(params["chat_id"], str(params["text"]),
                                params.get("reply_markup"))
        self.sent.append(message)
        return self.ok(message)

    async def api_editMessageText(self, params: dict) -> web.Response:
        return self.ok(self._message(params.get("chat_id", 0), str(params.get("text"))))

    async def api_deleteMessage(self, params: dict) -> web.Response:
        chat, message_id = int(params["chat_id"]), int(params["message_id"])
        if message_id in self.undeletable:
            return web.json_response({"ok": False, "error_code": 400, "description":
                                      "Bad Request: message can't be deleted for everyone"},
                                     status=400)
        self.deleted.append((chat, message_id))
        return self.ok(True)

    async def api_editMessageReplyMarkup(self, params: dict) -> web.Response:
        return self.ok(True)

    async def api_answerCallbackQuery(self, params: dict) -> web.Response:
        return self.ok(True)

    async def api_sendChatAction(self, params: dict) -> web.Response:
        return self.ok(True)

    # ---------------------------------------------------------- test helpers
    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **update}
        self.updates.append(update)
        self._arrived.set()
        return update

    def user(self, chat_id: int, language_code: str | None) -> dict[str, Any]:
        user = {"id": chat_id, "is_bot": False, "first_name": "Test", "username": f"u{chat_id}"}
        if language_code:
            user["language_code"] = language_code
        return user

    def incoming(self, chat_id: int, language_code: str | None = None, **content: Any
                 ) -> dict[str, Any]:
        return {"message_id": next(self._ids), "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": self.user(chat_id, language_code), **content}

    def say(self, chat_id: int, text: str, language_code: str | None = None,
            **extra: Any) -> dict[str, Any]:
        return self.push({"message": self.incoming(chat_id, language_code, text=text,
                                                   **extra)})

    def press(self, chat_id: int, data: str | None, language_code: str | None = None,
              with_message: bool = True) -> dict:
        query: dict[str, Any] = {"id": str(next(self._ids)),
                                 "from": self.user(chat_id, language_code),
                                 "chat_instance": "ci"}
        if data is not None:
            query["data"] = data
        if with_message:
            query["message"] = self._message(chat_id, "(buttons)")
        else:
            query["inline_message_id"] = "inline-1"
        return self.push({"callback_query": query})

    def say_in_group(self, group_id: int, user_id: int, text: str,
                     language_code: str | None = None) -> dict[str, Any]:
        message = {"message_id": next(self._ids), "date": int(time.time()),
                   "chat": {"id": group_id, "type": "group", "title": "Some group"},
                   "from": self.user(user_id, language_code), "text": text}
        return self.push({"message": message})

    def to(self, chat_id: int) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["chat"]["id"] == chat_id]

    def called(self, method: str) -> list[dict[str, Any]]:
        return [p for m, p in self.calls if m == method]

    async def wait_for(self, condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("condition not met in time; sent: "
                             + json.dumps([(m["chat"]["id"], m["text"][:60]) for m in self.sent],
                                          ensure_ascii=False))
