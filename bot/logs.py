"""One logging set-up for every process: no message texts, names, tokens or raw updates at
any level (`python -m bot.logs MODULE` runs a module with it)."""

from __future__ import annotations

import logging
import re
import runpy
import sys
import traceback
import warnings
from collections.abc import Mapping, MutableMapping
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

# Libraries that print payloads (updates, message texts, SQL parameters, URLs with tokens)
# at lower levels: never below these levels, whatever LOG_LEVEL says.
PINNED: dict[str, int] = {
    "telegram": logging.INFO,  # DEBUG: "Processing update <the whole update>"
    "httpx": logging.WARNING,  # INFO: request URLs, which carry the bot token
    "httpcore": logging.WARNING,
    "rasa": logging.INFO,  # DEBUG: "Received user message '<text>'", parse data
    "rasa_sdk": logging.INFO,  # DEBUG: tracker contents
    "sanic": logging.INFO,
    "sanic.root": logging.INFO,
    "sanic.error": logging.INFO,
    "sanic.access": logging.WARNING,  # URLs with ?token= and conversation ids
    "sqlalchemy": logging.WARNING,  # INFO: statements and bound parameters
    "alembic": logging.WARNING,
    "apscheduler": logging.WARNING,
    "asyncio": logging.WARNING,
    "urllib3": logging.WARNING,
    "aiohttp": logging.WARNING,
    "matplotlib": logging.WARNING,
    "tensorflow": logging.WARNING,
    "absl": logging.WARNING,
    "h5py": logging.WARNING,
    "jax": logging.WARNING,
    "filelock": logging.WARNING,
    "PIL": logging.WARNING,
    "numexpr": logging.WARNING,
}
# Loggers whose format arguments may be raw data (PTB logs "Received data was %r"):
# only the message template is printed.
TEMPLATE_ONLY = ("telegram",)
# Loggers of our own code; their messages are written with this rule in mind.
OWN = ("bot", "actions", "connectors", "extensions", "tools", "__main__")

_REDACTIONS = (
    (re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}"), "<bot-token>"),  # Telegram bot token
    (re.compile(r"(?i)(token|secret|password|api_key)=[^&\s'\"]+"), r"\1=<hidden>"),
    (re.compile(r"(?i)(x-bruecke-token|authorization)(['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"),
     r"\1\2<hidden>"),
)

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


if TYPE_CHECKING:
    from bot.settings import Settings


def redact(text: str) -> str:
    """Blank out token-like strings (last line of defence, not the main rule)."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def format_frames(error: BaseException | None) -> str:
    """The traceback of an error as source frames (file, line, function, code line), with
    the exception's type but never its message, which may quote what a person wrote."""
    if error is None:
        return ""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:  # causes, innermost last
        seen.add(id(current))
        parts.insert(0, f"{type(current).__module__}.{type(current).__qualname__} "
                        "(message withheld)\n"
                        + "".join(traceback.format_tb(current.__traceback__)))
        current = current.__cause__ or current.__context__
    return "Traceback (most recent call last), outermost error first:\n" + "\n".join(parts)


class PrivateFormatter(logging.Formatter):
    """Prints tracebacks as frames without exception messages, drops the format arguments of
    libraries that log raw data, and redacts token-like strings."""

    def __init__(self, fmt: str = FORMAT) -> None:
        super().__init__(fmt)

    def format(self, record: logging.LogRecord) -> str:
        if record.name.startswith(TEMPLATE_ONLY) and record.args:
            record = logging.makeLogRecord({**record.__dict__, "args": None,
                                            "msg": f"{record.msg} [arguments withheld]"})
        record.exc_text = None  # never reuse a text another formatter made with a message
        return redact(super().format(record))

    def formatException(self, ei: Any) -> str:  # noqa: N802 (logging API)
        error = ei[1] if isinstance(ei, tuple) else None
        return format_frames(error).rstrip("\n")


def _level(name: str | int | None) -> int:
    if isinstance(name, int):
        return name
    level = logging.getLevelName(str(name or "INFO").upper())
    return level if isinstance(level, int) else logging.INFO


def pin(level: int | str | None = None) -> None:
    """(Re-)apply the pinned library levels; libraries that configure logging themselves
    (Rasa sets sanic's levels and handlers when its server starts) call this afterwards."""
    root_level = _level(level) if level is not None else logging.getLogger().level
    for name, floor in PINNED.items():
        logger = logging.getLogger(name)
        logger.setLevel(max(root_level, floor))
        if name.startswith("sanic"):  # route through our handler, not sanic's own
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
            logger.propagate = True


def _hide_sql_parameters() -> None:
    """Every SQLAlchemy engine of the process, including Rasa's tracker store, hides bound
    parameters in errors and logs."""
    try:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
    except ImportError:  # pragma: no cover - sqlalchemy is a dependency
        return

    def hide(connection: Any, *_: Any) -> None:
        connection.engine.hide_parameters = True

    if not event.contains(Engine, "engine_connect", hide):
        event.listen(Engine, "engine_connect", hide)


def _keep_event_name(_logger: Any, _method: str,
                     event_dict: MutableMapping[str, Any]) -> Mapping[str, Any]:
    # Rasa's structlog events carry user_text, sender_id, tracker states…: keep the name
    kept: dict[str, Any] = {"event": str(event_dict.get("event", ""))}
    for key in ("exc_info", "stack_info"):
        if event_dict.get(key):
            kept[key] = event_dict[key]
    return kept


def _configure_structlog() -> None:
    try:
        import structlog
    except ImportError:  # pragma: no cover - comes with rasa
        return
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, _keep_event_name,
                    structlog.stdlib.render_to_log_kwargs],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def setup(level: int | str | None = None, stream: IO[str] | None = None) -> None:
    """Configure the root logger (one handler, private formatter), pin the libraries, make
    SQLAlchemy hide parameters and keep Rasa's structured logs to event names."""
    if level is None:
        from bot.settings import get_settings

        level = get_settings().log_level
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(PrivateFormatter())
    root.addHandler(handler)
    root.setLevel(_level(level))
    logging.captureWarnings(True)  # library warnings become log lines, not chat noise
    logging.getLogger("py.warnings").setLevel(max(_level(level), logging.WARNING))
    for category in (DeprecationWarning, PendingDeprecationWarning):  # libraries' business
        warnings.filterwarnings("ignore", category=category)
    pin(level)
    _hide_sql_parameters()
    _configure_structlog()
    logging.getLogger(__name__).debug(
        "Logging at %s; libraries pinned: %s", logging.getLevelName(root.level),
        ", ".join(sorted(PINNED)))


def install_excepthook() -> None:
    """Uncaught errors are printed as frames without their message too."""

    def hook(kind: type[BaseException], error: BaseException,
             tb: TracebackType | None) -> None:
        logging.getLogger("bot.logs").critical("Uncaught %s", kind.__name__,
                                               exc_info=(kind, error, tb))

    sys.excepthook = hook


def main(argv: list[str] | None = None) -> int:
    """`python -m bot.logs MODULE [ARGS…]`: run MODULE as __main__ with private logging."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m bot.logs MODULE [ARGS...]", file=sys.stderr)
        return 2
    setup()
    install_excepthook()
    sys.argv = args
    runpy.run_module(args[0], run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def checked_settings() -> Settings | None:
    """Start of a server process (action server, Rasa server): private logging, and the
    settings if the exposure rules hold (shared tokens off loopback, BRUECKE_SECRET off
    SQLite); otherwise the reason is printed and None returned (exit code 2)."""
    from bot.settings import MissingSettingError, get_settings

    setup()
    install_excepthook()
    settings = get_settings()
    try:
        settings.require_shared_tokens()
        settings.require_secret_off_sqlite()
    except MissingSettingError as error:
        print(error, flush=True)
        return None
    return settings
