"""The Rasa server (REST channel + HTTP API) started from Python, so that the API token comes
from the environment (RASA_API_TOKEN) and never appears on a command line; binds BIND_HOST
(loopback by default), private logging, telemetry off."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from bot import logs
from bot.logs import checked_settings
from bot.settings import PROJECT_ROOT, TOKEN_HEADER

DEFAULT_PORT = 5005
logger = logging.getLogger(__name__)


def read_endpoints(path: Path, action_url: str | None) -> Any:
    """endpoints.yml with `${ACTION_SERVER_TOKEN}` expanded; an empty token sends no header."""
    from rasa.core.utils import AvailableEndpoints

    os.environ.setdefault("ACTION_SERVER_TOKEN", "")
    endpoints = AvailableEndpoints.read_endpoints(str(path))
    if endpoints.action is not None:
        if action_url:
            endpoints.action.url = action_url
        headers = endpoints.action.headers
        if not headers.get(TOKEN_HEADER):
            headers.pop(TOKEN_HEADER, None)
    return endpoints


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--port", type=int, default=int(os.environ.get("RASA_PORT",
                                                                     DEFAULT_PORT)))
    parser.add_argument("--endpoints", type=Path, default=PROJECT_ROOT / "endpoints.yml")
    parser.add_argument("--credentials", type=Path, default=PROJECT_ROOT / "channels.yml")
    parser.add_argument("--action-url", default=None,
                        help="overrides action_endpoint.url of the endpoints file")
    args = parser.parse_args(argv)

    os.environ["RASA_TELEMETRY_ENABLED"] = "false"
    settings = checked_settings()
    if settings is None:
        return 2
    sys.path.insert(1, str(PROJECT_ROOT))  # custom components, as `rasa run` does

    from rasa.core.run import serve_application

    api_token = settings.rasa_api_token.get_secret_value() if settings.rasa_api_token else None

    async def repin(*_: Any) -> None:  # Rasa sets sanic's log levels just before it runs
        logs.pin()

    serve_application(
        model_path=args.model,
        interface=settings.bind_host,
        port=args.port,
        credentials=str(args.credentials),
        endpoints=read_endpoints(args.endpoints, args.action_url),
        enable_api=api_token is not None,  # the HTTP API is never open without a token
        auth_token=api_token,
        server_listeners=[(repin, "before_server_start")],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
