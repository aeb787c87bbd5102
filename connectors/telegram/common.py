"""What every handler shares: the gateway's state, the language of a chat, and sending an
answer to the chat that asked."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field

from telegram import Update
from telegram.ext import ContextTypes

from bot.languages import registry
from bot.texts import Rendered, render
from connectors.assistant import RasaAssistant
from connectors.rasa_pool import RasaPool
from connectors.telegram.outbox import send
from connectors.telegram.shared import SharedState

NOTIFY_INTERVAL = 2.0  # seconds between looks at the outbox and at waiting cases
ESCALATE_AFTER = dt.timedelta(hours=4)


@dataclass
class Gateway:
    """Everything the handlers need, wired once in `build_application`."""

    assistant: RasaAssistant | RasaPool
    notify_interval: float = NOTIFY_INTERVAL
    escalate_after: dt.timedelta = ESCALATE_AFTER
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    shared: SharedState | None = None  # Redis, with several gateways (REDIS_URL)

    def kick(self) -> None:
        """New outbox rows: work them off now rather than at the next interval."""
        self.wake.set()


def gateway(context: ContextTypes.DEFAULT_TYPE) -> Gateway:
    return context.application.bot_data["gateway"]  # type: ignore[no-any-return]


def client_code(update: Update) -> str | None:
    return update.effective_user.language_code if update.effective_user else None


def user_id(update: Update) -> int | None:
    return update.effective_user.id if update.effective_user else None


def chat_id(update: Update) -> int | None:
    return update.effective_chat.id if update.effective_chat else None


async def person_language(context: ContextTypes.DEFAULT_TYPE, update: Update) -> str:
    """The conversation's language (asked from Rasa), else the client's, else English."""
    chat = chat_id(update)
    slot = await gateway(context).assistant.language(str(chat)) if chat else None
    return slot or registry().normalise(client_code(update)) or registry().default


async def answer(context: ContextTypes.DEFAULT_TYPE, update: Update,
                 rendered: Rendered | None) -> None:
    chat = chat_id(update)
    if rendered is not None and chat is not None:
        await send(context.bot, chat, rendered)


async def answer_person(context: ContextTypes.DEFAULT_TYPE, update: Update, name: str) -> None:
    """A gateway text to a person, in their language."""
    await answer(context, update, render(name, await person_language(context, update)))
