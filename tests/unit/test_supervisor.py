"""`make run`'s supervisor with cheap fake children (small HTTP servers on free loopback
ports): a killed child is restarted, a stuck one too, a configuration error stops all, and
leaving the block stops every child."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tools.run import CONFIG_ERROR, Child, Supervisor, healthy, supervised

SERVER = ("import http.server, sys; http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), "
          "http.server.SimpleHTTPRequestHandler).serve_forever()")


def eventually(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.fixture
def devnull() -> Iterator[object]:
    with open(os.devnull, "w") as sink:
        yield sink


def fake_server(name: str, devnull: object, tmp_path: Path) -> Child:
    port = free_port()
    return Child(name, [sys.executable, "-c", SERVER, str(port)], dict(os.environ),
                 health_url=f"http://127.0.0.1:{port}/", start_timeout=30,
                 output=devnull)  # type: ignore[arg-type]


@pytest.fixture
def running(devnull: object, tmp_path: Path) -> Iterator[tuple[Supervisor, list[str]]]:
    reports: list[str] = []
    children = [fake_server("first", devnull, tmp_path), fake_server("second", devnull,
                                                                     tmp_path)]
    supervisor = Supervisor(children, health_interval=0.1, stuck_after=3, stuck_seconds=4,
                            report=reports.append)
    with supervised(supervisor):
        watcher = threading.Thread(target=supervisor.run, daemon=True)
        watcher.start()
        yield supervisor, reports
    watcher.join(timeout=10)


def test_a_killed_child_is_restarted_and_reported_once(running) -> None:
    supervisor, reports = running
    first, second = supervisor.children
    assert first.proc and second.proc and all(healthy(c.health_url or "")
                                              for c in supervisor.children)
    old_pid, other_pid = first.proc.pid, second.proc.pid
    os.kill(old_pid, signal.SIGKILL)
    eventually(lambda: first.proc is not None and first.proc.pid != old_pid
               and healthy(first.health_url or ""))
    assert second.proc.pid == other_pid  # the others are left alone
    assert len([r for r in reports if r.startswith("first")]) == 1
    assert "exited" in reports[0]


def test_a_stuck_child_is_restarted(running) -> None:
    supervisor, reports = running
    child = supervisor.children[1]
    assert child.proc is not None
    old_pid = child.proc.pid
    os.kill(old_pid, signal.SIGSTOP)  # alive, but answers nothing
    eventually(lambda: child.proc is not None and child.proc.pid != old_pid
               and healthy(child.health_url or ""))
    assert any("health check" in r for r in reports)


def test_a_child_that_answers_late_for_a_while_is_left_alone(running) -> None:
    """A Rasa server under a burst answers its health check late; restarting it would drop
    every turn it holds (and, with one server already down, leave nobody to answer)."""
    supervisor, reports = running
    child = supervisor.children[0]
    assert child.proc is not None
    pid = child.proc.pid
    os.kill(pid, signal.SIGSTOP)  # several checks fail, for less than stuck_seconds
    time.sleep(1.5)
    os.kill(pid, signal.SIGCONT)
    eventually(lambda: healthy(child.health_url or ""))
    time.sleep(0.5)
    assert child.proc.pid == pid and not reports


def test_leaving_the_block_stops_every_child(devnull: object, tmp_path: Path) -> None:
    supervisor = Supervisor([fake_server("only", devnull, tmp_path)], health_interval=0.1)
    with supervised(supervisor):
        proc = supervisor.children[0].proc
        assert proc is not None and proc.poll() is None
    assert proc.poll() is not None


def test_a_configuration_error_stops_the_supervisor(devnull: object) -> None:
    child = Child("broken", [sys.executable, "-c", "import sys; sys.exit(2)"],
                  dict(os.environ), output=devnull)  # type: ignore[arg-type]
    supervisor = Supervisor([child], health_interval=0.1, report=lambda _: None)
    supervisor.start_all(wait=False)
    assert supervisor.run() == CONFIG_ERROR


def test_backoff_doubles_up_to_thirty_seconds() -> None:
    child = Child("c", ["true"], {})
    supervisor = Supervisor([child])
    delays = []
    for restarts in range(7):
        child.restarts = restarts
        delays.append(supervisor.backoff(child))
    assert delays == [1, 2, 4, 8, 16, 30, 30]
