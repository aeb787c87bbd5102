"""Start and supervise the whole stack on one machine: migrate the database once, then run
the action server, the Rasa server and either the Telegram gateway (TELEGRAM_BOT_TOKEN set;
polling, or webhook with TELEGRAM_WEBHOOK_URL) or a terminal chat (no token needed).

Servers listen on BIND_HOST (127.0.0.1 by default; anything else requires shared tokens).
Tokens reach the children through their environment, never their command line. A child that
exits, or stops answering its health check for a minute, is restarted with backoff (1, 2, 4 …
30 s); a busy server that answers late is left alone;
Ctrl-C stops everything."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bot import logs
from bot.settings import PROJECT_ROOT, MissingSettingError, Settings, get_settings, is_loopback

ACTION_PORT = int(os.environ.get("ACTION_SERVER_PORT", "5055"))
RASA_PORT = int(os.environ.get("RASA_PORT", "5005"))
CONFIG_ERROR = 2  # a child exiting with this code has a configuration problem: not retried
logger = logging.getLogger("tools.run")


def wait_for(url: str, timeout: float = 120.0) -> None:
    """Poll a health URL until it answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if healthy(url):
            return
        time.sleep(0.5)
    raise SystemExit(f"{url.split('?')[0]} did not come up within {timeout:.0f} s")


def healthy(url: str, timeout: float = 5.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (ours)
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


# ------------------------------------------------------------------ supervision


@dataclass
class Child:
    """One supervised process. `health_url` None: only its being alive is checked."""

    name: str
    command: list[str]
    env: dict[str, str] = field(repr=False)  # holds the tokens
    health_url: str | None = field(default=None, repr=False)
    start_timeout: float = 300.0  # a (re)started child must be healthy within this
    output: IO[str] | None = None  # None: inherit the terminal
    proc: subprocess.Popen | None = field(default=None, repr=False)
    started_at: float = 0.0
    failures: int = 0  # consecutive failed health checks
    last_ok: float = 0.0  # when it last answered its health check (or was started)
    restarts: int = 0  # consecutive restarts without a long healthy run
    ready: bool = False
    next_start: float = 0.0


class Supervisor:
    """Starts children in order, restarts crashed or stuck ones with backoff, stops all."""

    def __init__(self, children: list[Child], *, health_interval: float = 5.0,
                 stuck_after: int = 3, stuck_seconds: float = 60.0, backoff_max: float = 30.0,
                 stable_after: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 report: Callable[[str], None] | None = None) -> None:
        self.children = children
        self.health_interval = health_interval
        # stuck = this many failed checks in a row AND no answer for this long: a Rasa
        # server under a burst answers /status late, and restarting it would drop its turns
        self.stuck_after = stuck_after
        self.stuck_seconds = stuck_seconds
        self.backoff_max = backoff_max
        self.stable_after = stable_after
        self.clock = clock
        self.report = report or (lambda line: logger.warning("%s", line))
        self.stopping = threading.Event()
        self.fatal: str | None = None

    # -- lifecycle
    def start(self, child: Child) -> None:
        child.proc = subprocess.Popen(
            child.command, cwd=PROJECT_ROOT, env=child.env, stdin=subprocess.DEVNULL,
            stdout=child.output, stderr=subprocess.STDOUT if child.output else None,
            start_new_session=True)  # Ctrl-C reaches the supervisor only; it stops them
        child.started_at = child.last_ok = self.clock()
        child.failures, child.ready = 0, False

    def start_all(self, wait: bool = True) -> None:
        """Start every child in order, each after the previous one is healthy."""
        for child in self.children:
            self.start(child)
            if wait:
                self._wait_ready(child)

    def _wait_ready(self, child: Child) -> None:
        deadline = self.clock() + child.start_timeout
        while not self.stopping.is_set():
            assert child.proc is not None
            code = child.proc.poll()
            if code is not None:
                if code == CONFIG_ERROR:
                    raise SystemExit(CONFIG_ERROR)
                raise SystemExit(f"{child.name} exited with code {code} while starting")
            if child.health_url is None or healthy(child.health_url):
                child.ready = True
                return
            if self.clock() > deadline:
                raise SystemExit(f"{child.name} did not come up within "
                                 f"{child.start_timeout:.0f} s")
            time.sleep(0.5)

    def backoff(self, child: Child) -> float:
        return float(min(self.backoff_max, 2 ** child.restarts))

    def _schedule_restart(self, child: Child, reason: str) -> None:
        delay = self.backoff(child)
        child.restarts += 1
        child.next_start = self.clock() + delay
        child.proc = None
        self.report(f"{child.name} {reason}; restarting in {delay:.0f} s "
                    f"(restart {child.restarts})")

    def check(self, child: Child) -> None:
        """One supervision step for one child."""
        now = self.clock()
        if child.proc is None:
            if now >= child.next_start:
                self.start(child)
            return
        code = child.proc.poll()
        if code is not None:
            if code == CONFIG_ERROR:
                self.fatal = f"{child.name} stopped with a configuration error"
                self.stopping.set()
                return
            self._schedule_restart(child, f"exited with code {code}")
            return
        if child.health_url is None:
            child.ready = True
        elif healthy(child.health_url):
            child.ready, child.failures, child.last_ok = True, 0, self.clock()
        elif child.ready or now - child.started_at > child.start_timeout:
            child.failures += 1
            if child.failures >= self.stuck_after \
                    and self.clock() - child.last_ok >= self.stuck_seconds:
                _stop(child.proc, timeout=5)
                self._schedule_restart(child, "stopped answering its health check")
                return
        if child.ready and child.restarts and now - child.started_at > self.stable_after:
            child.restarts = 0  # it ran well for a while: the next crash restarts quickly

    def run(self) -> int:
        """Supervise until stop() or a configuration error; returns the exit code."""
        while not self.stopping.wait(self.health_interval):
            for child in self.children:
                if self.stopping.is_set():
                    break
                self.check(child)
        return CONFIG_ERROR if self.fatal else 0

    def stop(self) -> None:
        self.stopping.set()
        for child in reversed(self.children):
            if child.proc is not None:
                _stop(child.proc)


def _stop(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def supervised(supervisor: Supervisor) -> Iterator[Supervisor]:
    """Start all, and stop all on the way out (also on Ctrl-C and SIGTERM)."""
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(*_: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_term)
    try:
        supervisor.start_all()
        yield supervisor
    finally:
        supervisor.stop()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous)


# ------------------------------------------------------------------ the stack


def connect_host(bind_host: str) -> str:
    """Where local clients reach a server bound to bind_host."""
    return "127.0.0.1" if bind_host in ("0.0.0.0", "::", "") or is_loopback(bind_host) \
        else bind_host


def child_env(settings: Settings) -> dict[str, str]:
    """The children's environment: per-run tokens unless configured, telemetry off."""
    def token(value: object, fallback: str) -> str:
        secret = getattr(value, "get_secret_value", lambda: "")()
        return str(secret) or fallback

    return {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "SANIC_HOST": settings.bind_host,
        "BIND_HOST": settings.bind_host,
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"),
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        # a Rasa server that dies mid-turn holds that person's ticket in Redis until it
        # expires (Rasa's default 60 s); a turn takes well under a second
        "TICKET_LOCK_LIFETIME": os.environ.get("TICKET_LOCK_LIFETIME", "20"),
        # fresh per run when not configured; only our children see them
        "ACTION_SERVER_TOKEN": token(settings.action_server_token, secrets.token_hex(16)),
        "RASA_REST_TOKEN": token(settings.rasa_rest_token, secrets.token_hex(16)),
        "RASA_API_TOKEN": token(settings.rasa_api_token, secrets.token_hex(16)),
    }


def stack(settings: Settings, model: Path, env: dict[str, str], *, gateway: bool,
          output: IO[str] | None = None) -> list[Child]:
    """Action server(s), Rasa server(s) and, with a token, the gateway. With
    RASA_INSTANCES=N there are N pairs on consecutive ports; the gateway spreads people
    over them (connectors/rasa_pool.py) and Redis keeps each person's order."""
    host = connect_host(settings.bind_host)
    urls = [f"http://{host}:{RASA_PORT + i}" for i in range(settings.rasa_instances)]
    env = {**env, "RASA_URL": ",".join(urls)}
    python = [sys.executable]
    children = []
    for i, rasa_url in enumerate(urls):
        suffix = f" {i + 1}" if len(urls) > 1 else ""
        action_port = ACTION_PORT + i
        children += [
            Child(f"action server{suffix}", [*python, "-m", "tools.action_server", "--port",
                                             str(action_port)], env,
                  health_url=f"http://{host}:{action_port}/health", start_timeout=120,
                  output=output),
            Child(f"Rasa server{suffix}", [*python, "-m", "tools.rasa_server", "--model",
                                           str(model), "--port", str(RASA_PORT + i),
                                           "--action-url",
                                           f"http://{host}:{action_port}/webhook"], env,
                  # /status answers only once the model is loaded (token: in-process only)
                  health_url=f"{rasa_url}/status?token={env['RASA_API_TOKEN']}",
                  start_timeout=300, output=output),
        ]
    if gateway:
        children.append(Child("Telegram gateway",
                              [*python, "-m", "bot.logs", "connectors.telegram"], env,
                              output=output))
    return children


@contextmanager
def action_server(port: int = ACTION_PORT, token: str | None = None) -> Iterator[Child]:
    """Only the action server, for the duration of the block (tools/bench.py); without a
    token it checks none (it listens on loopback)."""
    settings = get_settings()
    migrate(settings)
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "SANIC_HOST": "127.0.0.1",
           "BIND_HOST": "127.0.0.1", "ACTION_SERVER_TOKEN": token or ""}
    child = Child("action server", [sys.executable, "-m", "tools.action_server", "--port",
                                    str(port)], env,
                  health_url=f"http://127.0.0.1:{port}/health", start_timeout=120)
    with supervised(Supervisor([child])):
        yield child


def migrate(settings: Settings) -> None:
    """The one explicit migration step; servers only check the schema."""
    from bot.db.migrate import upgrade
    from bot.db.session import make_engine

    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def main() -> int:
    logs.setup()
    settings = get_settings()
    try:
        settings.require_shared_tokens()
        settings.require_secret_off_sqlite()
        settings.require_lock_store()
        if settings.telegram_enabled:
            settings.require_telegram_token()
            if settings.telegram_webhook_url:
                settings.require_webhook_secret()
    except MissingSettingError as error:
        print(error, file=sys.stderr)
        return CONFIG_ERROR
    from tools.train import ensure_model

    model = ensure_model()
    migrate(settings)
    env = child_env(settings)
    if settings.telegram_enabled:
        supervisor = Supervisor(stack(settings, model, env, gateway=True))
        try:
            with supervised(supervisor):
                logger.info("Brücke is running; Ctrl-C stops it.")
                return supervisor.run()
        except KeyboardInterrupt:
            return 0
    return terminal_chat(settings, model, env)


def terminal_chat(settings: Settings, model: Path, env: dict[str, str]) -> int:
    """Servers in the background (their output in var/logs/), the chat in the foreground."""
    from tools.chat import TerminalChat

    log_dir = settings.data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / "run.log"
    print(f"No TELEGRAM_BOT_TOKEN set: starting a terminal chat (server logs: {log_path}). "
          "This takes a few seconds…", flush=True)
    with log_path.open("a", encoding="utf-8") as output:
        handler = logging.StreamHandler(output)
        handler.setFormatter(logs.PrivateFormatter())
        logging.getLogger().handlers = [handler]  # supervisor lines go to the log, too
        supervisor = Supervisor(stack(settings, model, env, gateway=False, output=output))
        try:
            with supervised(supervisor):
                watcher = threading.Thread(target=supervisor.run, daemon=True)
                watcher.start()
                with contextlib.suppress(ImportError):
                    import readline  # noqa: F401  (line editing in input())
                chat = TerminalChat(connect_host(settings.bind_host), RASA_PORT,
                                    env["RASA_REST_TOKEN"])
                return chat.loop()
        except KeyboardInterrupt:
            print()
            return 0


if __name__ == "__main__":
    raise SystemExit(main())
