"""Counsellors' handlers, recognised by their Telegram user id in a private chat: Take and
outcome buttons, replies, /cases, /close, /release, and for coordinators /queue and
/assign. Every decision is the desk's (bot/desk.py, bot/access.py); forged, stale or
foreign data gets a short refusal and changes nothing."""

from __future__ import annotations

import asyncio
import re

from telegram import Update
from telegram.ext import ContextTypes

from bot import desk
from bot.texts import render
from connectors.telegram.common import answer, answer_person, chat_id, gateway

TAKE = re.compile(r"^take:(\d{1,9})$")
CLOSE = re.compile(r"^close:(\d{1,9}):([a-z_]{1,20})$")


async def _refuse(update: Update, context: ContextTypes.DEFAULT_TYPE, who: desk.Who) -> None:
    await answer(context, update, render("utter_cs_refused", who.language))


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE, who: desk.Who,
                 data: str) -> None:
    """take:<case> and close:<case>:<outcome>, strictly parsed."""
    take, close = TAKE.match(data), CLOSE.match(data)
    if take:
        reply = await asyncio.to_thread(desk.take, who.id, int(take.group(1)))
    elif close:
        reply = await asyncio.to_thread(desk.close, who.id, int(close.group(1)),
                                        close.group(2))
    else:
        await _refuse(update, context, who)
        return
    gateway(context).kick()
    await answer(context, update, reply)


async def text(update: Update, context: ContextTypes.DEFAULT_TYPE, who: desk.Who,
               message: str) -> None:
    """A counsellor's message, for one of their own cases."""
    chat = chat_id(update)
    reply_to = (update.effective_message.reply_to_message.message_id
                if update.effective_message and update.effective_message.reply_to_message
                else None)
    reply = await asyncio.to_thread(desk.counsellor_text, who.id, message, chat_id=chat or 0,
                                    reply_to=reply_to)
    gateway(context).kick()
    await answer(context, update, reply)


def _arg(context: ContextTypes.DEFAULT_TYPE, index: int = 0) -> str | None:
    args = context.args or []
    return args[index] if len(args) > index else None


def command(name: str):  # type: ignore[no-untyped-def]
    """A counsellor command; people get "only for counsellors" in their language."""
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        who = await asyncio.to_thread(desk.counsellor, user.id) if user else None
        if who is None:
            await answer_person(context, update, "utter_counsellor_only")
            return
        if name == "cases":
            reply = await asyncio.to_thread(desk.list_cases, who.id)
        elif name == "close":
            reply = await asyncio.to_thread(desk.close_prompt, who.id, _arg(context))
        elif name == "release":
            reply = await asyncio.to_thread(desk.release, who.id, _arg(context))
        elif name == "queue":
            reply = await asyncio.to_thread(desk.queue, who.id)
        elif name == "assign":
            case, target = _arg(context, 0), _arg(context, 1)
            reply = (await asyncio.to_thread(desk.assign, who.id, case, target)
                     if case and target else render("utter_cs_assign_how", who.language))
        else:
            reply = render("utter_cs_refused", who.language)
        gateway(context).kick()
        await answer(context, update, reply)
    return handler
