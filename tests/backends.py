"""Real PostgreSQL and Redis servers from the system's packages, on free loopback ports with
temporary data folders: helpers usable without pytest (tools/bench_scale.py) and the
session-scoped pytest fixtures `postgres_url` and `redis_url`."""

from __future__ import annotations

import ctypes
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

PG_ROOTS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
# with these set, a missing redis-server/postgresql is installed with apt (root only)
INSTALL_FLAGS = ("CI", "BRUECKE_INSTALL_SERVICES")
_PR_SET_PDEATHSIG = 1


class BackendUnavailable(RuntimeError):
    """A server cannot be started here; the message says why and what to do."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _install_allowed() -> bool:
    return os.geteuid() == 0 and any(
        os.environ.get(flag, "").lower() in ("1", "true", "yes") for flag in INSTALL_FLAGS)


def _apt_install(package: str) -> None:
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def _service_user() -> pwd.struct_passwd | None:
    """Who runs the servers when we are root (PostgreSQL refuses to run as root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise BackendUnavailable("running as root, but there is no 'postgres' or 'nobody' user")


def _demote(user: pwd.struct_passwd | None) -> Callable[[], None]:
    """In the child: drop to the service user, and die with the parent (no orphans when the
    test run is killed). The parent-death signal follows the parent *thread*, so it is only
    set for servers started from the main thread (a restart from a worker thread must
    outlive that thread)."""
    die_with_parent = threading.current_thread() is threading.main_thread()

    def run() -> None:
        os.setsid()
        if user is not None:
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
        if die_with_parent:  # after setuid: a change of credentials clears it
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    return run


def _chown_tree(path: Path, user: pwd.struct_passwd | None) -> None:
    if user is None:
        return
    for item in [path, *path.rglob("*")]:
        os.chown(item, user.pw_uid, user.pw_gid)


def _stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def pg_bin(name: str) -> Path:
    """A PostgreSQL program (the newest installed major version)."""
    for root in PG_ROOTS:
        if (root / name).exists():
            return root / name
    found = shutil.which(name)
    if found:
        return Path(found)
    raise FileNotFoundError(name)


def postgres_missing() -> str | None:
    """None when PostgreSQL can be started, else why not (installing it when allowed)."""
    try:
        pg_bin("postgres")
        pg_bin("initdb")
        return None
    except FileNotFoundError:
        pass
    if _install_allowed():
        _apt_install("postgresql")
        global PG_ROOTS
        PG_ROOTS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
        return None
    return ("PostgreSQL is not installed (run scripts/install-services as root, or set "
            "BRUECKE_INSTALL_SERVICES=1 to install it from the test run)")


def services_missing() -> str | None:
    """Why PostgreSQL or Redis cannot be started here, or None when both can."""
    return postgres_missing() or redis_missing()


def redis_missing() -> str | None:
    """None when redis-server can be started, else why not (installing it when allowed)."""
    if shutil.which("redis-server"):
        return None
    if _install_allowed():
        _apt_install("redis-server")
        return None
    return ("redis-server is not installed (run scripts/install-services as root, or set "
            "BRUECKE_INSTALL_SERVICES=1 to install it from the test run)")


def _wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BackendUnavailable(f"{what} exited with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise BackendUnavailable(f"{what} did not listen on port {port} within {timeout:.0f} s")


@dataclass
class PostgresServer:
    """One PostgreSQL cluster in a temporary folder, with a password-protected role and one
    database; `stop()` removes everything."""

    port: int = field(default_factory=free_port)
    user: str = "bruecke"
    database: str = "bruecke"
    password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bruecke-pg-")))
    proc: subprocess.Popen | None = None

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str | None = None) -> str:
        return (f"postgresql://{self.user}:{quote(self.password, safe='')}@127.0.0.1:"
                f"{self.port}/{database or self.database}")

    def init(self) -> PostgresServer:
        reason = postgres_missing()
        if reason:
            raise BackendUnavailable(reason)
        owner = _service_user()
        pwfile = self.root / "pw"
        pwfile.write_text(self.password)
        _chown_tree(self.root, owner)
        result = subprocess.run(
            [str(pg_bin("initdb")), "-D", str(self.data), "-U", self.user,
             f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
            preexec_fn=_demote(owner), capture_output=True, text=True, cwd=self.root)
        pwfile.unlink()
        if result.returncode != 0:
            raise BackendUnavailable(f"initdb failed: {result.stderr.strip()[-500:]}")
        self.start()
        self.create_database(self.database)
        return self

    def start(self) -> None:
        """Start (or start again) the server on the same port and data folder."""
        owner = _service_user()
        log = open(self.root / "postgres.log", "ab")  # noqa: SIM115 (the server keeps it)
        self.proc = subprocess.Popen(
            [str(pg_bin("postgres")), "-D", str(self.data), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.root}",
             # fsync off: a test server survives a killed process, not a power cut. Commits
             # stay synchronous, or an immediate shutdown loses acknowledged turns (the
             # bench's PostgreSQL restart showed it)
             "-c", "max_connections=400", "-c", "fsync=off", "-c", "full_page_writes=off",
             "-c", "shared_buffers=64MB"],
            preexec_fn=_demote(owner), stdout=log, stderr=log, cwd=self.root)
        log.close()
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        import psycopg2

        assert self.proc is not None
        _wait_port(self.port, self.proc, "postgres", timeout)
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg2.connect(self.url("postgres")).close()
                return
            except psycopg2.OperationalError:  # "the database system is starting up"
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.1)

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (optionally a copy of `template`); returns its URL."""
        import psycopg2

        connection = psycopg2.connect(self.url("postgres"))
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"'
                               + (f' TEMPLATE "{template}"' if template else ""))
        finally:
            connection.close()
        return self.url(name)

    def stop(self, mode: int = signal.SIGINT) -> None:
        """Shut down (SIGINT: fast shutdown; SIGQUIT: immediate, like a crash)."""
        if self.proc is not None:
            _stop_process(self.proc, mode)

    def restart(self, mode: int = signal.SIGINT) -> None:
        self.stop(mode)
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class RedisServer:
    """One redis-server without persistence, in a temporary folder."""

    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bruecke-redis-")))
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        reason = redis_missing()
        if reason:
            raise BackendUnavailable(reason)
        owner = _service_user()
        _chown_tree(self.root, owner)
        log = open(self.root / "redis.log", "ab")  # noqa: SIM115 (the server keeps it)
        self.proc = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.root), "--daemonize", "no", "--protected-mode", "yes"],
            preexec_fn=_demote(owner), stdout=log, stderr=log, cwd=self.root)
        log.close()
        _wait_port(self.port, self.proc, "redis-server")
        return self

    def cleanup(self) -> None:
        if self.proc is not None:
            _stop_process(self.proc)
        shutil.rmtree(self.root, ignore_errors=True)


# --- pytest fixtures (pytest is imported only here, so tools can use the helpers above) ---

try:
    import pytest
except ImportError:  # pragma: no cover - outside the test environment
    pytest = None  # type: ignore[assignment]

if pytest is not None:
    import uuid

    from sqlalchemy.engine import Engine

    from bot.db.migrate import upgrade
    from bot.db.session import make_engine

    @pytest.fixture(scope="session")
    def postgres_server() -> Iterator[PostgresServer]:
        """A PostgreSQL cluster for the whole session (skipped with the reason if missing)."""
        reason = postgres_missing()
        if reason:
            pytest.skip(reason)
        server = PostgresServer()
        try:
            server.init()
            yield server
        finally:
            server.cleanup()

    @pytest.fixture(scope="session")
    def postgres_url(postgres_server: PostgresServer) -> str:
        """URL of the session's PostgreSQL database (`postgresql://user:pw@127.0.0.1:port/db`)."""
        return postgres_server.url()

    @pytest.fixture(scope="session")
    def redis_server() -> Iterator[RedisServer]:
        reason = redis_missing()
        if reason:
            pytest.skip(reason)
        server = RedisServer()
        try:
            yield server.start()
        finally:
            server.cleanup()

    @pytest.fixture(scope="session")
    def redis_url(redis_server: RedisServer) -> str:
        """URL of the session's Redis (`redis://127.0.0.1:port/0`)."""
        return redis_server.url

    # one fresh database per test, copied from a template migrated once per session
    TEMPLATE = "bruecke_migrated"


    @pytest.fixture(scope="session")
    def pg_template(postgres_server: PostgresServer) -> str:
        """A database migrated to head once; each test gets a copy (fast, and independent)."""
        url = postgres_server.create_database(TEMPLATE)
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()  # a template must have no open connections when it is copied
        return TEMPLATE


    @pytest.fixture
    def pg_database(postgres_server: PostgresServer) -> str:
        """URL of a new, empty database."""
        return postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}")


    @pytest.fixture
    def pg_engine(postgres_server: PostgresServer, pg_template: str) -> Iterator[Engine]:
        """An engine on a new database at the newest migration."""
        url = postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}", template=pg_template)
        engine = make_engine(url)
        yield engine
        engine.dispose()
