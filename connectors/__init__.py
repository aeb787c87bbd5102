"""Channels: the Telegram gateway in front of Rasa (docs/decisions/0003-telegram-gateway.md)."""
