"""`make run` scaled out, end to end on loopback: PostgreSQL and Redis (temporary), a Bot API
stand-in, and `make run` itself with DATABASE_URL, REDIS_URL, RASA_INSTANCES=2 and webhook
mode. People write through the webhook as Telegram would (with the secret; a request that
was not acknowledged is sent again, as Telegram does); one Rasa server is killed after the
first quarter of the messages. Checks that requests without the secret get 403, and in the
database that every acknowledged message is stored exactly once, in the person's order, and
answered; writes reports/bench-run.json. Part of `make bench-scale`; a small run is a test
(tests/scale/test_make_run_scaled.py)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot.settings import PROJECT_ROOT
from bot.texts import render
from tests.telegram.bot_api_stub import BotApiStub
from tools.bench_load import messages as realistic_messages
from tools.bench_load import percentile

TOKEN = "515151:bench-run-standin-token"
FIRST_CHAT = 7_000_000


def free_ports(count: int) -> int:
    """The first of `count` consecutive free loopback ports (make run numbers its servers)."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + count > 65_000:
            continue
        try:
            held = []
            for port in range(base, base + count):
                s = socket.socket()
                held.append(s)
                s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
        return base
    raise RuntimeError("no consecutive free ports")


@dataclass
class Message:
    chat: int
    index: int
    text: str
    posted: float = 0.0
    acknowledged: bool = False
    posts: int = 0  # webhook requests until Telegram saw 200
    answered_after: float | None = None
    apology: bool = False  # the answer was "please write again"


@dataclass
class Person:
    chat: int
    language: str
    messages: list[Message] = field(default_factory=list)


def rasa_pids(port: int) -> list[int]:
    """Processes of the Rasa server on `port` (tools.rasa_server … --port N)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"tools.rasa_server" in argv and b"--port" in argv \
                and argv[argv.index(b"--port") + 1] == str(port).encode():
            found.append(int(proc.name))
    return found


class Run:
    """The services, the stand-in and `make run`, for one bench."""

    def __init__(self, work: Path, instances: int) -> None:
        from tests.backends import PostgresServer, RedisServer

        self.work = work
        self.instances = instances
        self.pg = PostgresServer()
        self.redis = RedisServer()
        self.stub = BotApiStub(TOKEN)
        self.secret = secrets.token_urlsafe(24)
        self.webhook_port = free_ports(1)
        self.rasa_port = free_ports(instances)
        self.action_port = free_ports(instances)
        self.proc: subprocess.Popen | None = None
        self.log = work / "make-run.log"

    def env(self, api_base: str) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.pg.url(), "REDIS_URL": self.redis.url,
            "RASA_INSTANCES": str(self.instances), "BRUECKE_SECRET": secrets.token_hex(16),
            "BRUECKE_DATA_DIR": str(self.work / "var"),
            "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": api_base,
            "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{self.webhook_port}/telegram",
            "TELEGRAM_WEBHOOK_SECRET": self.secret,
            "TELEGRAM_WEBHOOK_PORT": str(self.webhook_port),
            "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
            "RASA_PORT": str(self.rasa_port), "ACTION_SERVER_PORT": str(self.action_port),
            "LOG_LEVEL": "WARNING", "PYTHONWARNINGS": "ignore",
        }

    async def start(self, timeout: float = 600.0) -> float:
        started = time.perf_counter()
        await asyncio.to_thread(self.pg.init)
        await asyncio.to_thread(self.redis.start)
        api_base = await self.stub.start()
        output = self.log.open("wb")
        self.proc = subprocess.Popen(["make", "-s", "run"], cwd=PROJECT_ROOT,
                                     env=self.env(api_base), stdin=subprocess.DEVNULL,
                                     stdout=output, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        output.close()
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"make run exited with {self.proc.returncode}; "
                                       f"see {self.log}")
                if self.stub.webhook:
                    try:  # listening: an empty POST without the secret is refused
                        await client.post(self.webhook_url, json={})
                        return time.perf_counter() - started
                    except httpx.TransportError:
                        pass
                await asyncio.sleep(0.5)
        raise RuntimeError(f"make run did not set its webhook within {timeout:.0f} s")

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.webhook_port}/telegram"

    async def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)  # Ctrl-C: the supervisor stops all
            try:
                await asyncio.to_thread(self.proc.wait, 60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        await self.stub.stop()
        self.redis.cleanup()
        self.pg.cleanup()


async def refused_without_secret(run: Run) -> dict[str, int]:
    """Status codes of webhook requests without / with a wrong secret."""
    update = {"update_id": 1, "message": run.stub.incoming(FIRST_CHAT - 1, "en", text="hi")}
    async with httpx.AsyncClient(timeout=5) as client:
        missing = await client.post(run.webhook_url, json=update)
        wrong = await client.post(run.webhook_url, json=update,
                                  headers={"X-Telegram-Bot-Api-Secret-Token": "wrong-secret"})
    return {"no_secret": missing.status_code, "wrong_secret": wrong.status_code}


async def load(run: Run, people: list[Person], rate: float, kill_at: int | None,
               grace: float) -> dict[str, Any]:
    """Slot k (every 1/rate s) is message k // len(people) of person k % len(people); a
    person writes the next message once the previous one was answered."""
    update_ids = iter(range(10_000, 10_000_000))
    killed: dict[str, Any] = {}
    t0 = time.perf_counter()
    headers = {"X-Telegram-Bot-Api-Secret-Token": run.secret}
    apology = {p.language: render("utter_assistant_unavailable", p.language).text
               for p in people}

    async def post(client: httpx.AsyncClient, message: Message, language: str) -> None:
        update = {"update_id": next(update_ids),
                  "message": run.stub.incoming(message.chat, language, text=message.text)}
        while True:  # Telegram re-sends an update until the webhook answers 200
            message.posts += 1
            try:
                response = await client.post(run.webhook_url, json=update, headers=headers)
                if response.status_code == 200:
                    message.acknowledged = True
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(1.0)

    async def person(client: httpx.AsyncClient, who: Person, position: int) -> None:
        for message in who.messages:
            slot = message.index * len(people) + position
            delay = t0 + slot / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if kill_at is not None and slot == kill_at:
                pids = rasa_pids(run.rasa_port)
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
                killed.update({"at_message": slot, "pids": len(pids),
                               "at_s": round(time.perf_counter() - t0, 1)})
            before = len(run.stub.to(who.chat))
            message.posted = time.perf_counter()
            await post(client, message, who.language)
            deadline = time.perf_counter() + grace
            while time.perf_counter() < deadline:
                replies = run.stub.to(who.chat)
                if len(replies) > before:
                    message.answered_after = time.perf_counter() - message.posted
                    message.apology = replies[before]["text"] == apology[who.language]
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.3)  # let the rest of this answer arrive before the next

    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=200)) as c:
        await asyncio.gather(*(person(c, who, i) for i, who in enumerate(people)))
    return {"seconds": time.perf_counter() - t0, "killed": killed, "t0": t0}


def check_database(run: Run, people: list[Person]) -> dict[str, int]:
    """Each person's stored user messages against what Telegram got acknowledged."""
    from sqlalchemy import text

    from bot.db.session import make_engine

    engine = make_engine(run.pg.url())
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT sender_id, type_name, data FROM events "
                                 "ORDER BY id")).all()
    engine.dispose()
    turns: dict[str, list[list[Any]]] = defaultdict(list)  # [text, answered]
    for sender, type_name, data in rows:
        if type_name == "user":
            turns[sender].append([json.loads(data).get("text", ""), False])
        elif type_name == "bot" and turns[sender]:
            turns[sender][-1][1] = True
    result = {"acknowledged": 0, "stored": 0, "lost": 0, "duplicated": 0, "out_of_order": 0,
              "unanswered": 0}
    for who in people:
        stored = [t for t, _ in turns.get(str(who.chat), [])]
        acked = [m.text for m in who.messages if m.acknowledged]
        result["acknowledged"] += len(acked)
        result["stored"] += len(stored)
        result["lost"] += sum(1 for t in acked if t not in stored)
        result["duplicated"] += sum(1 for t in acked if stored.count(t) > 1)
        result["out_of_order"] += int([t for t in stored if t in acked] != acked)
        result["unanswered"] += sum(1 for _, answered in turns.get(str(who.chat), [])
                                    if not answered)
        result["unanswered"] += sum(1 for m in who.messages if m.answered_after is None)
    return result


def plan(count: int, per_person: int, seed: int = 11) -> list[Person]:
    """People writing realistic questions in six languages, each text once per person."""
    pool = realistic_messages(per_language=max(60, count * per_person // 6 + 10), seed=seed)
    people = []
    for i in range(count):
        language = pool[i % len(pool)][0]
        texts = [t for lang, t in pool if lang == language]
        start = (i // 6) * per_person
        chosen = [texts[(start + k) % len(texts)] for k in range(per_person)]
        who = Person(FIRST_CHAT + i, language)
        who.messages = [Message(who.chat, k, t) for k, t in enumerate(chosen)]
        people.append(who)
    return people


async def bench(people_count: int, per_person: int, rate: float, instances: int,
                kill: bool, grace: float, keep_log: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bruecke-run-") as tmp:
        run = Run(Path(tmp), instances)
        try:
            startup = await run.start()
            refused = await refused_without_secret(run)
            people = plan(people_count, per_person)
            total = people_count * per_person
            outcome = await load(run, people, rate, total // 4 if kill else None, grace)
            await asyncio.sleep(1.0)
            checks = await asyncio.to_thread(check_database, run, people)
            latencies = [m.answered_after for p in people for m in p.messages
                         if m.answered_after is not None]
            webhook = dict(run.stub.webhook or {})
            report = {
                "people": people_count, "messages": total, "rate": rate,
                "instances": instances, "startup_s": round(startup, 1),
                "refused": refused, "webhook_secret_set": bool(webhook.get("secret_token")),
                "killed": outcome["killed"],
                "answered_per_s": round(len(latencies) / outcome["seconds"], 2),
                "p50_ms": round(percentile(latencies, 0.50) * 1000),
                "p95_ms": round(percentile(latencies, 0.95) * 1000),
                "max_ms": round(max(latencies) * 1000) if latencies else 0,
                "reposted": sum(1 for p in people for m in p.messages if m.posts > 1),
                "apologies": sum(1 for p in people for m in p.messages if m.apology),
                "apologies_at_s": sorted(round(m.posted - outcome["t0"], 1) for p in people
                                         for m in p.messages if m.apology),
                **{f"db_{k}": v for k, v in checks.items()},
                "make_run_alive": run.proc is not None and run.proc.poll() is None,
            }
        finally:
            await run.stop()
            if keep_log is not None:  # the servers' log (private: no texts, no tokens)
                with contextlib.suppress(OSError):
                    keep_log.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(run.log, keep_log)
    return report


def failures(report: dict[str, Any]) -> list[str]:
    """What went wrong, in words; empty when the run is good."""
    problems = []
    if report["refused"] != {"no_secret": 403, "wrong_secret": 403}:
        problems.append(f"webhook without the secret answered {report['refused']}")
    if not report["webhook_secret_set"]:
        problems.append("setWebhook was called without the secret")
    for key in ("db_lost", "db_duplicated", "db_out_of_order", "db_unanswered"):
        if report[key]:
            problems.append(f"{key[3:]}: {report[key]}")
    if report["db_acknowledged"] != report["messages"]:
        problems.append(f"acknowledged {report['db_acknowledged']} of {report['messages']}")
    if not report["make_run_alive"]:
        problems.append("make run stopped")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=120)
    parser.add_argument("--messages", type=int, default=4, help="per person")
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second")
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--no-kill", action="store_true")
    parser.add_argument("--grace", type=float, default=60.0, help="seconds to wait for a reply")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports" / "bench-run.json")
    args = parser.parse_args(argv)
    from tests.backends import services_missing

    reason = services_missing()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    print(f"make run with PostgreSQL, Redis, {args.instances} Rasa servers, webhook; "
          f"{args.people} people x {args.messages} at {args.rate}/s ...", file=sys.stderr)
    report = asyncio.run(bench(args.people, args.messages, args.rate, args.instances,
                               not args.no_kill, args.grace,
                               keep_log=args.out.with_suffix(".log")))
    problems = failures(report)
    report["problems"] = problems
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "problems"}))
    print("OK" if not problems else "PROBLEMS: " + "; ".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
