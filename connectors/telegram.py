"""Telegram gateway (python-telegram-bot 22) in front of Rasa.

People: text goes to the assistant with Telegram's `language_code`; replies come back with
inline buttons; while a counsellor has their case, messages are relayed instead.
Counsellors (registered in the directory by chat id): new cases with a Take button, relay
both ways, /cases, /close, /release. Handlers only translate between Telegram and the `bot`
services; no business rules live here. Logs never contain message texts or tokens."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import cases
from bot.db.models import Case, CaseStatus, Counsellor, Organisation, Outcome
from bot.db.session import session_scope
from bot.directory import counsellor_by_chat
from bot.languages import registry
from bot.settings import Settings
from bot.texts import Rendered, render
from connectors.assistant import RasaAssistant, Reply

logger = logging.getLogger(__name__)

MAX_TEXT = 1000  # characters of a message passed to the assistant
CALLBACK_LIMIT = 64  # bytes, Telegram's limit for callback data
NOTIFY_INTERVAL = 2.0  # seconds between looks for new cases
CHAT_INTERVAL = 1.0  # seconds between two messages to the same chat
_CASE_TAG = re.compile(r"^#(\d{1,8})\s*")


class ChatPacer:
    """About one message per second per chat, as Telegram asks (its rate limiter in PTB
    only paces groups and the overall rate)."""

    def __init__(self, interval: float = CHAT_INTERVAL) -> None:
        self.interval = interval
        self._next: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def wait(self, chat_id: int) -> None:
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            loop = asyncio.get_running_loop()
            delay = self._next.get(chat_id, 0.0) - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next[chat_id] = loop.time() + self.interval
            if len(self._next) > 10_000:  # forget idle chats
                now = loop.time()
                for chat in [c for c, t in self._next.items() if t < now]:
                    self._next.pop(chat, None)
                    self._locks.pop(chat, None)


@dataclass
class Gateway:
    """Everything the handlers need, wired once in `build_application`."""

    assistant: RasaAssistant
    notify_interval: float = NOTIFY_INTERVAL
    pacer: ChatPacer = field(default_factory=ChatPacer)


def keyboard(buttons: tuple[tuple[str, str], ...]) -> InlineKeyboardMarkup | None:
    rows = [[InlineKeyboardButton(title, callback_data=payload)]
            for title, payload in buttons if len(payload.encode()) <= CALLBACK_LIMIT]
    return InlineKeyboardMarkup(rows) if rows else None


def chat_of(update: Update) -> int:
    """The chat of an update; every update our handlers accept has one."""
    assert update.effective_chat is not None
    return update.effective_chat.id


def gateway(context: ContextTypes.DEFAULT_TYPE) -> Gateway:
    return context.application.bot_data["gateway"]


async def send(context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str,
               buttons: tuple[tuple[str, str], ...] = ()) -> Message:
    await gateway(context).pacer.wait(chat_id)
    return await context.bot.send_message(chat_id, text, reply_markup=keyboard(buttons))


async def send_rendered(context: ContextTypes.DEFAULT_TYPE, chat_id: int,
                        rendered: Rendered) -> Message:
    return await send(context, chat_id, rendered.text, rendered.buttons)


def person_chat(conversation_id: str) -> int | None:
    """The Telegram chat of a case; None for cases that came through another channel
    (e.g. the terminal chat), which cannot be relayed to."""
    try:
        return int(conversation_id)
    except ValueError:
        return None


def counsellor_language(counsellor: Counsellor) -> str:
    spoken = [lang for lang in counsellor.languages if registry().is_supported(lang)]
    return spoken[0] if spoken else registry().default


async def person_language(context: ContextTypes.DEFAULT_TYPE, chat_id: int,
                          client_code: str | None) -> str:
    slot = await gateway(context).assistant.language(str(chat_id))
    return slot or registry().normalise(client_code) or registry().default


# ------------------------------------------------------------------ people


async def ask_assistant(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """Send one message to the assistant and its replies back to the person."""
    chat_id = chat_of(update)
    code = update.effective_user.language_code if update.effective_user else None
    await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
    replies: list[Reply] = await gateway(context).assistant.respond(
        str(chat_id), text, {"language_code": code} if code else {})
    for reply in replies:
        await send(context, chat_id, reply.text, reply.buttons)


async def on_person_text(update: Update, context: ContextTypes.DEFAULT_TYPE,
                         text: str) -> None:
    chat_id = chat_of(update)
    truncated = len(text) > MAX_TEXT
    text = text[:MAX_TEXT]
    with session_scope() as session:
        case = cases.open_case(session, conversation_id=str(chat_id))
        relay = None
        if case is not None:
            cases.add_message(session, case_id=case.id, sender="user", text=text)
            if case.status is CaseStatus.CLAIMED and case.assignee.telegram_chat_id:
                relay = (case.assignee.telegram_chat_id, case.ref, case.id, case.assignee_id)
    if relay is not None:
        # the counsellor has the case: the assistant stays silent
        relay_to, ref, case_id, counsellor_id = relay
        sent = await send(context, relay_to, f"[{ref}] {text}")
        with session_scope() as session:
            cases.record_offer(session, case_id=case_id, counsellor_id=counsellor_id,
                               chat_id=relay_to, message_id=sent.message_id)
        return
    await ask_assistant(update, context, text)
    if truncated:
        code = update.effective_user.language_code if update.effective_user else None
        await send_rendered(context, chat_id, render(
            "utter_message_truncated", await person_language(context, chat_id, code)))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    with session_scope() as session:
        counsellor = counsellor_by_chat(session, chat_id=chat_of(update))
        counsellor_id = counsellor.id if counsellor else None
    if counsellor_id:
        await on_counsellor_text(update, context, counsellor_id)
    else:
        await on_person_text(update, context, message.text or "")


async def on_non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat_id = chat_of(update)
    code = update.effective_user.language_code if update.effective_user else None
    await send_rendered(context, chat_id, render(
        "utter_please_write_text", await person_language(context, chat_id, code)))


def command_to_assistant(payload: str):  # type: ignore[no-untyped-def]
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await ask_assistant(update, context, payload)
    return handler


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    # greeting (with the privacy line) and the language choice
    await ask_assistant(update, context, "/greet")
    await ask_assistant(update, context, "/change_language")


# ------------------------------------------------------------------ buttons


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()  # always: Telegram shows a spinner until the press is answered
    data = query.data or ""
    if data.startswith(("take:", "close:")):
        await on_counsellor_button(update, context, data)
        return
    # a person's button: remove the keyboard so it cannot be pressed twice, then answer
    with contextlib.suppress(TelegramError):
        await query.edit_message_reply_markup(reply_markup=None)
    await on_person_text(update, context, data)


# ------------------------------------------------------------------ counsellors


def _counsellor(session, chat_id: int) -> Counsellor | None:  # type: ignore[no-untyped-def]
    return counsellor_by_chat(session, chat_id=chat_id)


async def not_for_people(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat_id = chat_of(update)
    code = update.effective_user.language_code if update.effective_user else None
    await send_rendered(context, chat_id, render(
        "utter_counsellor_only", await person_language(context, chat_id, code)))


async def on_counsellor_button(update: Update, context: ContextTypes.DEFAULT_TYPE,
                               data: str) -> None:
    chat_id = chat_of(update)
    with session_scope() as session:
        counsellor = _counsellor(session, chat_id)
        found = (counsellor_language(counsellor), counsellor.id) if counsellor else None
    if found is None:
        await not_for_people(update, context)
        return
    lang, counsellor_id = found
    if data.startswith("take:"):
        await take_case(context, chat_id, counsellor_id, lang, int(data.split(":")[1]))
    else:
        _, case_id, outcome = data.split(":")
        await close_case(context, chat_id, counsellor_id, lang, int(case_id), Outcome(outcome))


async def take_case(context: ContextTypes.DEFAULT_TYPE, chat_id: int, counsellor_id: str,
                    lang: str, case_id: int) -> None:
    with session_scope() as session:
        won = cases.claim(session, case_id=case_id, counsellor_id=counsellor_id)
        case = session.get(Case, case_id)
        ref = case.ref if case else str(case_id)
    if not won:
        await send_rendered(context, chat_id, render("utter_cs_already_taken", lang,
                                                     case_ref=ref))
        return
    with session_scope() as session:
        case = session.get(Case, case_id)
        me = session.get(Counsellor, counsellor_id)
        organisation = session.get(Organisation, me.organisation_id)
        others = [(o.chat_id, o.message_id, counsellor_language(o_c))
                  for o in cases.offers(session, case_id=case_id)
                  for o_c in [session.get(Counsellor, o.counsellor_id)]]
        waiting = [m.text for m in cases.user_messages(session, case_id=case_id)]
        person, person_lang = person_chat(case.conversation_id), case.language
        my_name, org_name = me.first_name, organisation.name
    for other_chat, message_id, other_lang in others:
        name = "utter_cs_taken_by_you" if other_chat == chat_id else "utter_cs_taken_by_other"
        text = render(name, lang if other_chat == chat_id else other_lang, case_ref=ref,
                      counsellor=my_name).text
        with contextlib.suppress(TelegramError):
            await context.bot.edit_message_text(text, chat_id=other_chat,
                                                message_id=message_id)
    if not any(chat == chat_id for chat, _, _ in others):
        await send_rendered(context, chat_id, render("utter_cs_taken_by_you", lang,
                                                     case_ref=ref))
    for text in waiting:  # what the person wrote while waiting
        sent = await send(context, chat_id, f"[{ref}] {text}")
        with session_scope() as session:
            cases.record_offer(session, case_id=case_id, counsellor_id=counsellor_id,
                               chat_id=chat_id, message_id=sent.message_id)
    if person is not None:
        await send_rendered(context, person, render(
            "utter_case_taken", person_lang, counsellor=my_name, organisation=org_name,
            case_ref=ref))


async def close_case(context: ContextTypes.DEFAULT_TYPE, chat_id: int, counsellor_id: str,
                     lang: str, case_id: int, outcome: Outcome) -> None:
    try:
        with session_scope() as session:
            case = cases.close(session, case_id=case_id, counsellor_id=counsellor_id,
                               outcome=outcome)
            ref, person, person_lang = case.ref, person_chat(case.conversation_id), case.language
    except cases.CaseError:
        await send_rendered(context, chat_id, render("utter_cs_unknown_case", lang))
        return
    await send_rendered(context, chat_id, render("utter_cs_closed", lang, case_ref=ref))
    if person is not None:
        await send_rendered(context, person, render("utter_case_closed_notice", person_lang,
                                                    case_ref=ref))


def _pick_case(session, counsellor_id: str, message: Message, text: str  # type: ignore[no-untyped-def]
               ) -> tuple[Any, str]:
    """Which of the counsellor's cases a message is for, and the text without a #tag."""
    own = cases.cases_of(session, counsellor_id=counsellor_id)
    reply = message.reply_to_message
    if reply is not None:
        case = cases.case_of_message(session, chat_id=message.chat_id,
                                     message_id=reply.message_id)
        if case is not None and case in own:
            return case, text
    tag = _CASE_TAG.match(text)
    if tag:
        wanted = int(tag.group(1))
        return next((c for c in own if c.id == wanted), None), text[tag.end():]
    return (own[0], text) if len(own) == 1 else (None, text)


async def on_counsellor_text(update: Update, context: ContextTypes.DEFAULT_TYPE,
                             counsellor_id: str) -> None:
    message = update.effective_message
    assert message is not None
    chat_id = chat_of(update)
    with session_scope() as session:
        me = session.get(Counsellor, counsellor_id)
        lang, name = counsellor_language(me), me.first_name
        own = cases.cases_of(session, counsellor_id=counsellor_id)
        case, text = _pick_case(session, counsellor_id, message, message.text or "")
        if case is not None and text.strip():
            cases.add_message(session, case_id=case.id, sender="counsellor", text=text)
            person = person_chat(case.conversation_id)
        example = own[0].ref if own else "0001"
    if case is None:
        name_ = "utter_cs_which_case" if len(own) > 1 else "utter_cs_no_cases"
        await send_rendered(context, chat_id, render(name_, lang, case_ref=example))
        return
    if text.strip() and person is not None:
        await send(context, person, f"💬 {name}: {text}")


async def on_cases(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat_id = chat_of(update)
    with session_scope() as session:
        me = _counsellor(session, chat_id)
        if me is None:
            listing = None
        else:
            lang = counsellor_language(me)
            listing = ", ".join(f"#{c.ref} ({c.language}, {c.topic})"
                                for c in cases.cases_of(session, counsellor_id=me.id))
    if me is None:
        await not_for_people(update, context)
    elif listing:
        await send_rendered(context, chat_id, render("utter_cs_cases", lang, cases=listing))
    else:
        await send_rendered(context, chat_id, render("utter_cs_no_cases", lang))


def _case_argument(args: list[str], own: list[Any]) -> Any:
    if args:
        wanted = args[0].lstrip("#")
        return next((c for c in own if wanted.isdigit() and c.id == int(wanted)), None)
    return own[0] if len(own) == 1 else None


async def _on_case_command(update: Update, context: ContextTypes.DEFAULT_TYPE,
                           act: Callable[[Session, Counsellor, Case, str], Rendered]) -> None:
    """/close and /release: find the counsellor and the case the command names (or their
    only one), let `act` do the work and choose the answer."""
    chat_id = chat_of(update)
    with session_scope() as session:
        me = _counsellor(session, chat_id)
        if me is None:
            answer = None
        else:
            lang = counsellor_language(me)
            case = _case_argument(context.args or [],
                                  cases.cases_of(session, counsellor_id=me.id))
            answer = (render("utter_cs_unknown_case", lang) if case is None
                      else act(session, me, case, lang))
    if answer is None:
        await not_for_people(update, context)
    else:
        await send_rendered(context, chat_id, answer)


async def on_close(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _on_case_command(update, context, lambda session, me, case, lang: render(
        "utter_cs_close_how", lang, case_ref=case.ref, case_id=case.id))


async def on_release(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    def release(session: Session, me: Counsellor, case: Case, lang: str) -> Rendered:
        cases.release(session, case_id=case.id, counsellor_id=me.id)
        return render("utter_cs_released", lang, case_ref=case.ref)

    await _on_case_command(update, context, release)


# ------------------------------------------------------------------ new cases


async def notify_new_cases(application: Application) -> int:
    """Tell the routed counsellors about offered cases nobody has been told about yet."""
    sent = 0
    with session_scope() as session:
        pending = [c.id for c in cases.cases_to_notify(session)]
    for case_id in pending:
        with session_scope() as session:
            if not cases.mark_notified(session, case_id=case_id):
                continue  # another gateway instance took it
            case = session.get(Case, case_id)
            first = "\n".join(f"› {m.text[:200]}" for m in cases.user_messages(
                session, case_id=case_id, limit=3))
            targets = []
            for candidate in case.routing or []:
                c = session.get(Counsellor, candidate["counsellor_id"])
                if c is not None and c.telegram_chat_id and c.active:
                    targets.append((c.id, c.telegram_chat_id, counsellor_language(c)))
            fields = {"case_ref": case.ref, "case_id": case.id, "language": case.language,
                      "topic": case.topic, "region": case.region or "–",
                      "profession": case.profession or "–", "country": case.country or "–",
                      "first_messages": first}
        for counsellor_id, chat_id, lang in targets:
            rendered = render("utter_cs_new_case", lang, **fields)
            await application.bot_data["gateway"].pacer.wait(chat_id)
            try:
                message = await application.bot.send_message(
                    chat_id, rendered.text, reply_markup=keyboard(rendered.buttons))
            except TelegramError as error:
                logger.warning("Could not notify a counsellor: %s", type(error).__name__)
                continue
            with session_scope() as session:
                cases.record_offer(session, case_id=case_id, counsellor_id=counsellor_id,
                                   chat_id=chat_id, message_id=message.message_id)
            sent += 1
    return sent


async def notify_loop(application: Application, interval: float) -> None:
    while True:
        try:
            await notify_new_cases(application)
        except Exception as error:  # keep the loop alive; never log content
            logger.error("Notifying counsellors failed: %s at line %s", type(error).__name__,
                         _line_of(error))
        await asyncio.sleep(interval)


# ------------------------------------------------------------------ wiring


def _line_of(error: BaseException | None) -> str:
    """Where an error happened (innermost frame), without its message."""
    tb = getattr(error, "__traceback__", None)
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    # type and place only: the exception text may quote a message
    logger.error("Update failed: %s at %s", type(context.error).__name__,
                 _line_of(context.error))


async def _post_init(application: Application) -> None:
    gw: Gateway = application.bot_data["gateway"]
    application.bot_data["notify_task"] = asyncio.get_running_loop().create_task(
        notify_loop(application, gw.notify_interval))


async def _post_shutdown(application: Application) -> None:
    task = application.bot_data.pop("notify_task", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await application.bot_data["gateway"].assistant.close()


NON_TEXT = (filters.Sticker.ALL | filters.VOICE | filters.AUDIO | filters.PHOTO
            | filters.Document.ALL | filters.LOCATION | filters.VIDEO | filters.VIDEO_NOTE
            | filters.CONTACT | filters.ANIMATION | filters.POLL | filters.VENUE)


def build_application(settings: Settings, assistant: RasaAssistant | None = None,
                      notify_interval: float = NOTIFY_INTERVAL) -> Application:
    """The PTB application with every handler registered (in one place)."""
    token = settings.require_telegram_token()
    application = (
        Application.builder()
        .token(token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_api_base_url.replace("/bot", "/file/bot"))
        # ~1 message/s per chat, 30/s overall, and retries on flood-wait (RetryAfter)
        .rate_limiter(AIORateLimiter(overall_max_rate=30, overall_time_period=1,
                                     max_retries=3))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    api_token = settings.rasa_api_token.get_secret_value() if settings.rasa_api_token else None
    application.bot_data["gateway"] = Gateway(
        assistant or RasaAssistant(settings.rasa_url, api_token), notify_interval)
    only_messages = filters.UpdateType.MESSAGE  # edited messages are not answered twice
    application.add_handler(CommandHandler("start", on_start, filters=only_messages))
    application.add_handler(CommandHandler("help", command_to_assistant("/help"),
                                           filters=only_messages))
    application.add_handler(CommandHandler("language", command_to_assistant("/change_language"),
                                           filters=only_messages))
    application.add_handler(CommandHandler("delete", command_to_assistant("/delete_my_data"),
                                           filters=only_messages))
    application.add_handler(CommandHandler("cases", on_cases, filters=only_messages))
    application.add_handler(CommandHandler("close", on_close, filters=only_messages))
    application.add_handler(CommandHandler("release", on_release, filters=only_messages))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(only_messages & filters.TEXT & ~filters.COMMAND,
                                           on_text))
    application.add_handler(MessageHandler(only_messages & NON_TEXT, on_non_text))
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

    logging.basicConfig(level=get_settings().log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL, which contains the bot token
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        run(get_settings())
    except MissingSettingError as error:
        logger.error("%s", error)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
