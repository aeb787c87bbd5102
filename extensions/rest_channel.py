"""Rasa's REST channel with a shared-token check: only the gateway (and the terminal chat),
which send RASA_REST_TOKEN in the X-Bruecke-Token header, may post as a sender."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from bot.settings import TOKEN_HEADER, get_settings

logger = logging.getLogger(__name__)


class TokenRestInput(RestInput):
    """`/webhooks/rest/webhook` as before; requests without the token get 401."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token or None

    @classmethod
    def name(cls) -> str:
        return "rest"  # same URL as Rasa's channel: /webhooks/rest/webhook

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TokenRestInput:
        # the token comes from the settings (RASA_REST_TOKEN), never from channels.yml
        settings = get_settings()
        token = settings.rasa_rest_token.get_secret_value() if settings.rasa_rest_token else None
        return cls(token)

    def authorised(self, request: Request) -> bool:
        if not self.token:
            return True
        sent = request.headers.get(TOKEN_HEADER, "")
        return hmac.compare_digest(sent.encode(), self.token.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def require_token(request: Request) -> Any:
            if request.method == "POST" and not self.authorised(request):
                logger.warning("REST channel: request without a valid token refused")
                return response.json({"error": "missing or wrong token"}, status=401)
            return None

        return blueprint
