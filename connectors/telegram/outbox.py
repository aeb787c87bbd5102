"""Sending: keyboards, direct answers, and the worker that executes the durable outbox
(bot/outbox.py) — in order per chat, chats in parallel, a row done only after Telegram
confirmed, retried with backoff otherwise."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot import desk
from bot import outbox as store
from bot.db.models import OutboxKind
from bot.db.session import session_scope
from bot.texts import Rendered

logger = logging.getLogger(__name__)

CALLBACK_LIMIT = 64  # bytes, Telegram's limit for callback data


def keyboard(buttons: tuple[tuple[str, str], ...]) -> InlineKeyboardMarkup | None:
    rows = []
    for title, payload in buttons:
        if len(payload.encode()) > CALLBACK_LIMIT:
            logger.warning("Dropped a button whose payload is over %d bytes", CALLBACK_LIMIT)
            continue
        rows.append([InlineKeyboardButton(title, callback_data=payload)])
    return InlineKeyboardMarkup(rows) if rows else None


async def send(bot: Bot, chat_id: int, rendered: Rendered) -> Message:
    """Send one message now (pacing is done by the rate limiter)."""
    return await bot.send_message(chat_id, rendered.text, reply_markup=keyboard(rendered.buttons))


def _db(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    def run():  # type: ignore[no-untyped-def]
        with session_scope() as session:
            return fn(session, *args, **kwargs)
    return asyncio.to_thread(run)


def _seconds(error: RetryAfter) -> float:
    delay = error.retry_after
    return float(delay if isinstance(delay, (int, float)) else delay.total_seconds())


async def _perform(bot: Bot, job: store.Job) -> tuple[str, int | None] | None:
    """Make the call of one row: (result, message id) when done, None to try later."""
    if job.kind is OutboxKind.SEND:
        try:
            sent = await send(bot, job.chat_id, Rendered(job.text or "", job.buttons))
        except (BadRequest, Forbidden):
            return "failed", None  # chat gone or bot blocked: retrying cannot help
        return "sent", sent.message_id
    if job.kind is OutboxKind.EDIT:
        try:
            await bot.edit_message_text(job.text or "", chat_id=job.chat_id,
                                        message_id=job.message_id)
        except (BadRequest, Forbidden):
            return "gone", None  # deleted, unchanged or too old: nothing left to update
        return "sent", None
    if job.kind is OutboxKind.ERASE:
        try:
            await bot.delete_message(job.chat_id, int(job.message_id or 0))
            return "deleted", None
        except BadRequest:
            pass  # e.g. older than 48 h: Telegram refuses to delete
        except Forbidden:
            return "failed", None
        try:
            await bot.edit_message_text(job.text or "…", chat_id=job.chat_id,
                                        message_id=job.message_id)
            return "replaced", None
        except BadRequest as error:
            if "not found" in str(error).lower():
                return "gone", None
            return "failed", None
        except Forbidden:
            return "failed", None
    if job.kind is OutboxKind.ERASURE_REPORT:
        report = await asyncio.to_thread(desk.erasure_report, job.batch or "", job.language)
        if report is None:
            return None
        try:
            await send(bot, job.chat_id, report)
        except (BadRequest, Forbidden):
            return "failed", None
        return "sent", None
    return "failed", None


async def _run_chat(bot: Bot, jobs: list[store.Job]) -> int:
    """One chat's rows in order; stop at the first that must wait, release the rest."""
    done = 0
    for index, job in enumerate(jobs):
        outcome: tuple[str, int | None] | None = None
        try:
            outcome = await _perform(bot, job)
            if outcome is None:  # not ready yet (an erasure report): look again soon
                await _db(store.release, job.id, delay=0.5)
        except RetryAfter as error:
            await _db(store.retry, job.id, delay=_seconds(error))
        except TelegramError as error:
            logger.warning("Outbox call failed, will retry: %s", type(error).__name__)
            await _db(store.retry, job.id)
        if outcome is None:
            for later in jobs[index + 1:]:
                await _db(store.release, later.id)
            break
        result, message_id = outcome
        if result == "failed":
            logger.warning("Outbox row %d given up (%s)", job.id, job.kind.value)
        await _db(store.done, job.id, result=result, message_id=message_id)
        done += 1
    return done


async def work_off(bot: Bot) -> int:
    """One pass over the due rows; returns how many were completed."""
    jobs = await _db(store.due)
    by_chat: dict[int, list[store.Job]] = defaultdict(list)
    for job in jobs:
        by_chat[job.chat_id].append(job)
    results = await asyncio.gather(*(_run_chat(bot, chat_jobs)
                                     for chat_jobs in by_chat.values()))
    return sum(results)
