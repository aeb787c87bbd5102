"""People's handlers: free text goes to the assistant, or to the counsellor who holds their
case (bot/desk.py decides); commands and every button always go to the assistant, so the
person can always delete their data or end the case."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx
from telegram import Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import desk
from bot.languages import registry
from bot.texts import Rendered, render
from connectors.assistant import Reply
from connectors.telegram.common import (
    answer,
    answer_person,
    chat_id,
    client_code,
    gateway,
    person_language,
)
from connectors.telegram.outbox import send

logger = logging.getLogger(__name__)

MAX_TEXT = 1000  # characters of a message passed on


TYPING_AFTER = 1.0  # seconds; a reply that comes sooner needs no indicator (nor its call)
TYPING_REFRESH = 4.5  # seconds; Telegram shows "typing…" for about five


async def _typing(context: ContextTypes.DEFAULT_TYPE, chat: int) -> None:
    """The typing indicator while the assistant takes longer than TYPING_AFTER (cancelled
    by the reply): never awaited by the reply, its failure costs nothing."""
    await asyncio.sleep(TYPING_AFTER)
    while True:
        with contextlib.suppress(TelegramError, httpx.HTTPError, OSError):
            await context.bot.send_chat_action(chat, ChatAction.TYPING)
        await asyncio.sleep(TYPING_REFRESH)


async def ask_assistant(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """One message to the assistant and its replies back; if the assistant is down, slow
    or fails, the person is told to write again shortly."""
    chat = chat_id(update)
    if chat is None:
        return
    code = client_code(update)
    typing = context.application.create_task(_typing(context, chat))
    try:
        replies: list[Reply] = await gateway(context).assistant.respond(
            str(chat), text, metadata(update, code))
    except (httpx.HTTPError, ValueError) as error:
        logger.warning("The assistant did not answer: %s", type(error).__name__)
        replies = []
    finally:
        typing.cancel()
    if not replies:
        await send(context.bot, chat, render(
            "utter_assistant_unavailable", registry().normalise(code) or registry().default))
        return
    for reply in replies:
        await send(context.bot, chat, Rendered(reply.text, reply.buttons))


def metadata(update: Update, code: str | None) -> dict[str, Any]:
    """What the assistant gets besides the text: the client's language and the update's
    id (a Rasa server that dies after storing the turn is then not asked twice)."""
    out: dict[str, Any] = {"message_id": update.update_id}
    if code:
        out["language_code"] = code
    return out


async def person_text(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """Free text (or a caption) of a person."""
    chat = chat_id(update)
    if chat is None or not text.strip():
        await answer_person(context, update, "utter_please_write_text")
        return
    truncated = len(text) > MAX_TEXT
    text = text[:MAX_TEXT]
    result = await asyncio.to_thread(desk.person_text, chat, text)
    if result.relayed:  # stored and queued before anything is acknowledged
        gateway(context).kick()
        return
    await ask_assistant(update, context, text)
    if truncated:
        await answer_person(context, update, "utter_message_truncated")


def command_to_assistant(payload: str):  # type: ignore[no-untyped-def]
    """/help, /language, /delete: always the assistant, even during a claimed case."""
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await ask_assistant(update, context, payload)
    return handler


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greeting (with the privacy line) and the language choice."""
    await ask_assistant(update, context, "/greet")
    await ask_assistant(update, context, "/change_language")


async def person_button(update: Update, context: ContextTypes.DEFAULT_TYPE, data: str) -> None:
    """A person's button: the keyboard is removed (no double press) and the payload goes to
    the assistant, never to a counsellor."""
    query = update.callback_query
    if query is not None:
        with contextlib.suppress(TelegramError):
            await query.edit_message_reply_markup(reply_markup=None)
    await ask_assistant(update, context, data)


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await answer_person(context, update, "utter_unknown_command")


async def on_not_private(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Groups and channels: one line, nothing else (no relay, no assistant)."""
    await answer(context, update, render("utter_private_only",
                                         registry().normalise(client_code(update))))


async def language_of(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    return await person_language(context, update)
