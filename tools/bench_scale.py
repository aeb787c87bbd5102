"""Scale-out bench on loopback: PostgreSQL + Redis, 2 action servers, 2 Rasa servers behind
a RasaPool; 120 people x 4 messages at ~20 msg/s, then with one Rasa server killed after the
first quarter, then with PostgreSQL restarted mid-run. Checks in the database that every
acknowledged message is stored once, in the person's order, and answered; prints a table and
writes reports/bench-scale.json."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.settings import PROJECT_ROOT

MESSAGES = ["hello", "What is Anerkennung?", "Do I need a visa to work in Germany?",
            "thank you"]
ATTEMPTS = 3  # a person whose message failed sends it again (after RETRY_WAIT seconds)
RETRY_WAIT = 2.0


@dataclass
class Sent:
    sender: str
    index: int
    text: str
    started: float = 0.0
    latency: float | None = None  # first send to acknowledged answer
    attempts: int = 0
    replies: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return self.latency is not None


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: the process exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not come up within {timeout:.0f} s")


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


class Stack:
    """The services and servers of the bench; everything stopped by `close()`."""

    def __init__(self, instances: int, work: Path) -> None:
        from tests.backends import PostgresServer, RedisServer, free_port

        self.work = work
        self.pg = PostgresServer()
        self.redis = RedisServer()
        self.instances = instances
        self.token = secrets.token_hex(16)
        self.free_port = free_port
        self.actions: list[subprocess.Popen] = []
        self.rasa: list[subprocess.Popen] = []
        self.rasa_urls: list[str] = []
        self.rasa_commands: list[tuple[list[str], dict[str, str], Path]] = []

    def env(self) -> dict[str, str]:
        return {**os.environ, "DATABASE_URL": self.pg.url(), "REDIS_URL": self.redis.url,
                "BRUECKE_SECRET": "bench-" + self.token, "BRUECKE_DATA_DIR": str(self.work),
                "SANIC_HOST": "127.0.0.1", "RASA_TELEMETRY_ENABLED": "false",
                "TF_CPP_MIN_LOG_LEVEL": "3", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
                # a killed server's ticket blocks its people until it expires (default 60 s)
                "TICKET_LOCK_LIFETIME": "15", "LOG_LEVEL": "WARNING"}

    def start(self, model: Path) -> None:
        from bot.db.migrate import upgrade
        from bot.db.session import make_engine

        started = time.perf_counter()
        self.pg.init()
        self.redis.start()
        engine = make_engine(self.pg.url())
        upgrade(engine)  # once, as the deploy step; the servers then find the schema at head
        from bot.db.session import session_scope
        from bot.directory import import_file

        with session_scope(engine) as session:
            import_file(session, PROJECT_ROOT / "tests" / "fixtures" / "directory.yml")
        engine.dispose()
        env = self.env()
        action_ports = [self.free_port() for _ in range(self.instances)]
        for port in action_ports:
            log = open(self.work / f"actions-{port}.log", "wb")  # noqa: SIM115
            self.actions.append(subprocess.Popen(
                [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
                cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True))
        for i in range(self.instances):
            port = self.free_port()
            endpoints = self.work / f"endpoints-{port}.yml"
            endpoints.write_text(yaml.safe_dump({
                "action_endpoint": {"url": f"http://127.0.0.1:{action_ports[i]}/webhook"},
                "nlg": {"type": "extensions.nlg.LocalizedNLG"},
                "tracker_store": {"type": "extensions.tracker_store.PrivacySQLTrackerStore",
                                  "url": self.pg.url()},
                "lock_store": {"type": "extensions.lock_store.EnvLockStore"},
            }))
            command = [sys.executable, "-m", "rasa", "run", "--model", str(model),
                       "--enable-api", "--auth-token", self.token, "-i", "127.0.0.1",
                       "-p", str(port), "--credentials", "channels.yml",
                       "--endpoints", str(endpoints)]
            self.rasa_commands.append((command, env, self.work / f"rasa-{port}.log"))
            self.rasa_urls.append(f"http://127.0.0.1:{port}")
            self.rasa.append(self._spawn(i))
        for port, proc in zip(action_ports, self.actions, strict=True):
            wait_http(f"http://127.0.0.1:{port}/health", proc)
        for url, proc in zip(self.rasa_urls, self.rasa, strict=True):
            wait_http(f"{url}/status?token={self.token}", proc)
        self.startup_seconds = time.perf_counter() - started

    def _spawn(self, i: int) -> subprocess.Popen:
        command, env, log_path = self.rasa_commands[i]
        log = open(log_path, "ab")  # noqa: SIM115
        return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def restart_rasa(self, i: int) -> None:
        stop(self.rasa[i])
        self.rasa[i] = self._spawn(i)
        wait_http(f"{self.rasa_urls[i]}/status?token={self.token}", self.rasa[i])

    def close(self) -> None:
        for proc in [*self.rasa, *self.actions]:
            stop(proc)
        self.redis.cleanup()
        self.pg.cleanup()


async def run_load(stack: Stack, scenario: str, people: int, rate: float,
                   disrupt: Any = None) -> list[Sent]:
    """Slot k of the schedule (every 1/rate s) is message k // people of person k % people;
    a person sends the next message only after the previous one was answered."""
    from connectors.rasa_pool import RasaPool

    pool = RasaPool(stack.rasa_urls, stack.token, timeout=60)
    t0 = time.perf_counter()
    sent: dict[str, list[Sent]] = {}

    async def person(p: int) -> None:
        sender = f"{scenario}-{p:04d}"
        sent[sender] = []
        for n, message in enumerate(MESSAGES):
            slot = n * people + p
            delay = t0 + slot / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if disrupt is not None and slot == disrupt[0]:
                await asyncio.get_running_loop().run_in_executor(None, disrupt[1])
            item = Sent(sender, n, message, started=time.perf_counter())
            sent[sender].append(item)
            while item.attempts < ATTEMPTS:
                item.attempts += 1
                try:
                    replies = await pool.respond(sender, message, {"language_code": "en"})
                    item.replies = len(replies)
                    item.latency = time.perf_counter() - item.started
                    break
                except Exception as error:  # noqa: BLE001 (the person sees an error answer)
                    item.errors.append(type(error).__name__)
                    await asyncio.sleep(RETRY_WAIT)

    await asyncio.gather(*(person(p) for p in range(people)))
    await pool.close()
    return [item for items in sent.values() for item in items]


def check_database(stack: Stack, items: list[Sent]) -> dict[str, int]:
    """Stored user messages per person against what was acknowledged."""
    from sqlalchemy import text

    from bot.db.session import make_engine

    by_sender: dict[str, list[Sent]] = defaultdict(list)
    for item in items:
        by_sender[item.sender].append(item)
    engine = make_engine(stack.pg.url())
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT sender_id, type_name, data FROM events WHERE sender_id LIKE :p "
            "ORDER BY id"), {"p": items[0].sender.split("-")[0] + "-%"}).all()
    engine.dispose()
    turns: dict[str, list[tuple[str, bool]]] = defaultdict(list)  # (text, answered)
    for sender, type_name, data in rows:
        if type_name == "user":
            turns[sender].append((json.loads(data).get("text", ""), False))
        elif type_name == "bot" and turns[sender]:
            turns[sender][-1] = (turns[sender][-1][0], True)
    result = {"people": len(by_sender), "acknowledged": 0, "lost": 0, "duplicated": 0,
              "out_of_order": 0, "unanswered": 0, "failed_not_stored": 0,
              "failed_but_stored": 0}
    for sender, sent in by_sender.items():
        stored = [t for t, _ in turns.get(sender, [])]
        acked = [s.text for s in sent if s.acknowledged]
        result["acknowledged"] += len(acked)
        for s in sent:
            count = stored.count(s.text)
            if s.acknowledged:
                result["lost"] += count == 0
                result["duplicated"] += count > 1
            else:
                result["failed_but_stored"] += count > 0
                result["failed_not_stored"] += count == 0
        if [t for t in stored if t in acked] != [t for t in acked if t in stored]:
            result["out_of_order"] += 1
        result["unanswered"] += sum(1 for _, answered in turns.get(sender, []) if not answered)
        result["unanswered"] += sum(1 for s in sent if s.acknowledged and s.replies == 0)
    return result


def summarise(scenario: str, items: list[Sent], checks: dict[str, int],
              extra: dict[str, Any]) -> dict[str, Any]:
    acked = [i for i in items if i.acknowledged]
    latencies = sorted(i.latency for i in acked if i.latency is not None)
    span = (max(i.started + (i.latency or 0) for i in acked) - min(i.started for i in items)
            if acked else 0.0)

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0

    return {
        "scenario": scenario, "messages": len(items), "acknowledged": len(acked),
        "retried": sum(1 for i in items if i.attempts > 1),
        "errors_seen": sum(len(i.errors) for i in items),
        "served_per_s": round(len(acked) / span, 2) if span else 0.0,
        "p50_ms": round(pct(0.50) * 1000), "p95_ms": round(pct(0.95) * 1000),
        "max_ms": round(max(latencies) * 1000) if latencies else 0,
        "mean_ms": round(statistics.mean(latencies) * 1000) if latencies else 0,
        **{f"db_{k}": v for k, v in checks.items()}, **extra,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=120)
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second")
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--scenarios", default="steady,pg-restart,kill-one")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports" / "bench-scale.json")
    args = parser.parse_args(argv)

    from tests.backends import services_missing
    from tools.train import ensure_model

    reason = services_missing()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    model = ensure_model()
    report: dict[str, Any] = {"people": args.people, "messages_per_person": len(MESSAGES),
                              "rate": args.rate, "instances": args.instances, "runs": []}
    with tempfile.TemporaryDirectory(prefix="bruecke-bench-") as tmp, ExitStack() as stack_:
        stack = Stack(args.instances, Path(tmp))
        stack_.callback(stack.close)
        print(f"starting PostgreSQL, Redis, {args.instances} action and {args.instances} "
              "Rasa servers ...", file=sys.stderr)
        stack.start(model)
        report["startup_s"] = round(stack.startup_seconds, 1)
        report["rss_mb"] = {"rasa": [round(rss_mb(p.pid)) for p in stack.rasa],
                            "action": [round(rss_mb(p.pid)) for p in stack.actions]}
        quarter = args.people * len(MESSAGES) // 4
        half = args.people * len(MESSAGES) // 2
        for scenario in args.scenarios.split(","):
            disrupt = None
            if scenario == "kill-one":
                disrupt = (quarter, lambda: stack.rasa[0].send_signal(signal.SIGKILL))
            elif scenario == "pg-restart":
                disrupt = (half, lambda: stack.pg.restart(signal.SIGQUIT))
            print(f"running {scenario} ...", file=sys.stderr)
            items = asyncio.run(run_load(stack, scenario, args.people, args.rate, disrupt))
            checks = check_database(stack, items)
            extra = {"rss_mb_rasa": [round(rss_mb(p.pid)) for p in stack.rasa
                                     if p.poll() is None]}
            report["runs"].append(summarise(scenario, items, checks, extra))
            if scenario == "kill-one":
                stack.restart_rasa(0)
    columns = ["scenario", "messages", "acknowledged", "retried", "served_per_s", "p50_ms",
               "p95_ms", "max_ms", "db_lost", "db_duplicated", "db_out_of_order",
               "db_unanswered", "db_failed_but_stored"]
    print("  ".join(f"{c:>14}" for c in columns))
    for run in report["runs"]:
        print("  ".join(f"{run[c]!s:>14}" for c in columns))
    print(f"start-up {report['startup_s']} s; RSS per Rasa server {report['rss_mb']['rasa']} MB, "
          f"per action server {report['rss_mb']['action']} MB")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    bad = any(run["db_lost"] or run["db_duplicated"] or run["db_out_of_order"]
              or run["db_unanswered"] for run in report["runs"])
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
