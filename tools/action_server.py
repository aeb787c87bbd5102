"""The action server: rasa_sdk with our actions, on BIND_HOST (loopback by default), private
logging, and a shared-token check on every request but /health."""

from __future__ import annotations

import argparse
import hmac
import logging
import os
from typing import Any

from bot import logs
from bot.logs import checked_settings
from bot.settings import TOKEN_HEADER

DEFAULT_PORT = 5055
OPEN_PATHS = frozenset({"/health"})  # the supervisor's health check; reveals nothing


def create_app(token: str | None) -> Any:
    """rasa_sdk's Sanic app with a request middleware that rejects requests without the
    shared token (when one is configured)."""
    from rasa_sdk.endpoint import create_app as create_sdk_app
    from sanic import response
    from sanic.request import Request

    app = create_sdk_app("actions", cors_origins=None)

    @app.middleware("request")
    async def require_token(request: Request) -> Any:
        if not token or request.path in OPEN_PATHS:
            return None
        sent = request.headers.get(TOKEN_HEADER, "")
        if hmac.compare_digest(sent.encode(), token.encode()):
            return None
        return response.json({"error": "missing or wrong token"}, status=401)

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int,
                        default=int(os.environ.get("ACTION_SERVER_PORT", DEFAULT_PORT)))
    args = parser.parse_args(argv)

    settings = checked_settings()
    if settings is None:
        return 2
    from bot.db.migrate import SchemaNotCurrentError
    from bot.db.session import get_engine

    try:
        get_engine()  # checks the schema once at start, not at the first handover
    except SchemaNotCurrentError as error:
        print(error, flush=True)
        return 2
    token = (settings.action_server_token.get_secret_value()
             if settings.action_server_token else None)
    app = create_app(token)
    app.register_listener(lambda *_: logs.pin(), "before_server_start")
    logging.getLogger(__name__).info(
        "Action server on %s:%d (token check %s)", settings.bind_host, args.port,
        "on" if token else "off")
    app.run(host=settings.bind_host, port=args.port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
