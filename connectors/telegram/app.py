"""Wiring of the gateway: the handlers of people and counsellors (private chats only), the
per-chat update processor and rate limiter, the background work (outbox, waiting cases),
the error handler, and polling or webhook mode."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

import httpx
from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot import desk
from bot.logs import format_frames
from bot.logs import setup as setup_logging
from bot.retention import purge_expired
from bot.settings import Settings
from bot.texts import render
from connectors.assistant import TIMEOUT, RasaAssistant
from connectors.rasa_pool import RasaPool
from connectors.telegram import counsellors, people
from connectors.telegram.common import (
    NOTIFY_INTERVAL,
    Gateway,
    answer,
    answer_person,
)
from connectors.telegram.outbox import work_off
from connectors.telegram.ratelimit import PacedRateLimiter
from connectors.telegram.shared import SharedState
from connectors.telegram.updates import PerChatUpdates, TolerantBot

logger = logging.getLogger(__name__)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text, or the caption of a photo or document, read as text."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    content = message.text or message.caption or ""
    who = await asyncio.to_thread(desk.counsellor, user.id)
    if who is not None:
        await counsellors.text(update, context, who, content)
    else:
        await people.person_text(update, context, content)


async def on_non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Anything else in a private chat: please write text."""
    user = update.effective_user
    who = await asyncio.to_thread(desk.counsellor, user.id) if user else None
    if who is not None:
        await answer(context, update, render("utter_please_write_text", who.language))
    else:
        await answer_person(context, update, "utter_please_write_text")


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every button press. Answered first (a failing answer costs nothing); counsellor data
    to the desk, everything else to the assistant."""
    query = update.callback_query
    if query is None:
        return
    message = query.message
    data = query.data or ""
    private = message is not None and message.chat.type == ChatType.PRIVATE
    toast = None
    if message is None or not private:  # inline or group message: no chat to answer in
        toast = render("utter_private_only", None).text
    with contextlib.suppress(TelegramError, httpx.HTTPError, OSError):
        await query.answer(text=toast)
    if toast is not None:
        return
    user = update.effective_user
    if data.startswith(("take:", "close:")):
        who = await asyncio.to_thread(desk.counsellor, user.id) if user else None
        if who is None:
            await answer_person(context, update, "utter_counsellor_only")
        else:
            await counsellors.button(update, context, who, data)
        return
    if not data.strip():
        await answer_person(context, update, "utter_button_expired")
        return
    await people.person_button(update, context, data)


# ------------------------------------------------------------------ background work


PURGE_EVERY = dt.timedelta(days=1)


def assistant_for(rasa_url: str, api_token: str | None) -> RasaAssistant | RasaPool:
    """One Rasa server, or several (RASA_URL lists them, comma-separated): then each person
    stays on one server while it is healthy and moves to the next when it is not."""
    urls = rasa_url.replace(",", " ").split()
    if len(urls) > 1:
        return RasaPool(urls, api_token, TIMEOUT)
    return RasaAssistant(rasa_url, api_token)


LEAD_LEASE = 30.0  # seconds; another gateway takes over the waiting cases after this


async def background_pass(application: Application) -> int:
    """Waiting cases (re-offer, escalation), one pass over the outbox, and once a day the
    retention purge (bot/retention.py). With several gateways one of them (the lead, held in
    Redis) looks after waiting cases and the purge; every gateway works off the outbox, whose
    rows are leased one by one (bot/outbox.py), so each is sent once."""
    gw: Gateway = application.bot_data["gateway"]
    leads = gw.shared is None or await gw.shared.lead("background", LEAD_LEASE)
    if leads:
        await asyncio.to_thread(desk.pending_work, escalate_after=gw.escalate_after)
    sent = await work_off(application.bot)
    now = dt.datetime.now(dt.timezone.utc)
    last = application.bot_data.get("last_purge")
    if leads and (last is None or now - last >= PURGE_EVERY):
        application.bot_data["last_purge"] = now
        purged = await asyncio.to_thread(purge_expired)
        logger.info("Retention purge: %s", purged.as_dict())  # counts only
    return sent


async def work_loop(application: Application) -> None:
    gw: Gateway = application.bot_data["gateway"]
    while True:
        gw.wake.clear()
        try:
            await background_pass(application)
        except Exception as error:  # keep the loop alive; never log content
            logger.error("Background work failed: %s at %s", type(error).__name__,
                         _frames(error))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(gw.wake.wait(), gw.notify_interval)


# ------------------------------------------------------------------ wiring


def _frames(error: BaseException | None) -> str:
    """The traceback's frames, without the exception's message (it may quote a person)."""
    return format_frames(error) or "?"


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Type and place only: the exception text may quote a message."""
    logger.error("Update failed: %s at %s", type(context.error).__name__,
                 _frames(context.error))


async def _post_init(application: Application) -> None:
    gw: Gateway = application.bot_data["gateway"]
    gw.wake = asyncio.Event()
    application.bot_data["work_task"] = asyncio.get_running_loop().create_task(
        work_loop(application))


async def _post_shutdown(application: Application) -> None:
    task = application.bot_data.pop("work_task", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    gw = gateway_of(application)
    await gw.assistant.close()
    if gw.shared is not None:
        await gw.shared.close()


def gateway_of(application: Application) -> Gateway:
    return application.bot_data["gateway"]  # type: ignore[no-any-return]


def build_application(settings: Settings, assistant: RasaAssistant | None = None,
                      notify_interval: float = NOTIFY_INTERVAL,
                      escalate_after: dt.timedelta | None = None) -> Application:
    """The PTB application with every handler registered (in one place)."""
    token = settings.require_telegram_token()
    base = settings.telegram_api_base_url
    file_base = base.removesuffix("/bot") + "/file/bot" if base.endswith("/bot") else base
    # several gateways share pace, chat order and the background lead through Redis
    shared = SharedState(settings.redis_url) if settings.redis_url.strip() else None
    bot = TolerantBot(token, base_url=base, base_file_url=file_base,
                      request=HTTPXRequest(connection_pool_size=64),
                      get_updates_request=HTTPXRequest(),
                      rate_limiter=PacedRateLimiter(shared=shared))
    application = (
        Application.builder()
        .bot(bot)
        .concurrent_updates(PerChatUpdates(shared=shared))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    api_token = settings.rasa_api_token.get_secret_value() if settings.rasa_api_token else None
    application.bot_data["gateway"] = Gateway(
        assistant or assistant_for(settings.rasa_url, api_token), notify_interval,
        escalate_after or dt.timedelta(hours=settings.escalate_after_hours), shared=shared)
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE  # edits are not answered
    elsewhere = (~filters.ChatType.PRIVATE
                 & (filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST))
    application.add_handler(MessageHandler(elsewhere, people.on_not_private))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(CommandHandler("start", people.on_start, filters=private))
    for command, payload in (("help", "/help"), ("language", "/change_language"),
                             ("delete", "/delete_my_data"), ("mydata", "/show_my_data"),
                             ("privacy", "/privacy")):
        application.add_handler(CommandHandler(command, people.command_to_assistant(payload),
                                               filters=private))
    for command in ("cases", "close", "release", "queue", "assign"):
        application.add_handler(CommandHandler(command, counsellors.command(command),
                                               filters=private))
    application.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, on_text))
    application.add_handler(MessageHandler(private & filters.COMMAND,
                                           people.on_unknown_command))
    application.add_handler(MessageHandler(private & filters.CAPTION, on_text))
    application.add_handler(MessageHandler(private, on_non_text))
    application.add_error_handler(on_error)
    return application


def run(settings: Settings) -> None:
    """Polling by default; webhook mode when TELEGRAM_WEBHOOK_URL is set."""
    application = build_application(settings)
    if settings.telegram_webhook_url:
        secret = settings.require_webhook_secret()
        application.run_webhook(
            listen=settings.telegram_webhook_listen, port=settings.telegram_webhook_port,
            url_path="telegram", secret_token=secret,
            webhook_url=settings.telegram_webhook_url, allowed_updates=Update.ALL_TYPES)
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES)


def main() -> int:
    from bot.settings import MissingSettingError, get_settings

    setup_logging()  # no texts, tokens or raw updates at any level (bot/logs.py)
    try:
        run(get_settings())
    except MissingSettingError as error:
        logger.error("%s", error)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
