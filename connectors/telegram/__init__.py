"""Telegram gateway (python-telegram-bot 22) in front of Rasa and the handover desk.

app.py wires everything (`build_application`, `run`, `main`); people.py and counsellors.py
hold the handlers of the two audiences; outbox.py works off the durable outbox;
ratelimit.py paces every call per chat and overall; updates.py processes chats in
parallel, each chat in order, and skips updates that cannot be parsed. Business rules live
in bot/desk.py; logs never contain message texts, names or tokens."""

from connectors.telegram.app import build_application, main, run

__all__ = ["build_application", "main", "run"]
