"""Load benchmark (`make bench-load`): open-loop traffic through the real Telegram gateway
process and a local Bot API stand-in, against the Rasa-only ceiling measured in the same run.

Stack, all on 127.0.0.1 with a temporary database: action server, Rasa server (REST channel
and HTTP API), the gateway (`python -m connectors.telegram`, polling) and, in this process,
the Bot API stand-in plus the load generator. People write every `--think` seconds; the
offered rate is reached with rate × think people. A message is answered when the stand-in
receives the first sendMessage to that chat after the message was offered; a message with no
answer within `--grace` seconds after the run counts as lost.

Also measured: Rasa alone (REST channel, same messages, same rates), and the per-turn cost
at turn 1 versus turn 200 of one long conversation."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot.languages import registry
from bot.settings import PROJECT_ROOT
from tests.telegram.bot_api_stub import BotApiStub
from tools.evaluate import load_examples

TOKEN = "424242:bench-standin-token"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def messages(per_language: int = 60, seed: int = 7) -> list[tuple[str, str]]:
    """(language, text) of realistic topic questions from the held-out sets, shuffled."""
    rng = random.Random(seed)
    out = []
    for lang in registry().codes:
        texts = [t for t, intent in load_examples(lang) if "_" in intent
                 and not intent.startswith(("change_", "delete_", "cancel_", "request_"))]
        rng.shuffle(texts)
        out += [(lang, t) for t in texts[:per_language]]
    rng.shuffle(out)
    return out


# ------------------------------------------------------------------ the stack


def _wait(url: str, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not come up within {timeout:.0f} s")


@dataclass
class Stack:
    rasa_url: str
    api_token: str
    env: dict[str, str]
    procs: list[subprocess.Popen] = field(default_factory=list)


@contextmanager
def stack(model: Path, data_dir: Path) -> Iterator[Stack]:
    """Action server and Rasa server as `make run` starts them (tools/action_server.py and
    tools/rasa_server.py, per-run tokens in the environment) on free loopback ports and a
    fresh database."""
    from bot.db.migrate import upgrade
    from bot.db.session import make_engine
    from bot.settings import Settings
    from tools.run import child_env

    os.environ["BRUECKE_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    env = {**child_env(settings), "BRUECKE_DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING"}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    engine = make_engine(f"sqlite:///{data_dir / 'bruecke.db'}")
    upgrade(engine)
    engine.dispose()
    action_port, rasa_port = free_port(), free_port()
    quiet = subprocess.DEVNULL
    procs = [subprocess.Popen([sys.executable, "-m", "tools.action_server", "--port",
                               str(action_port)], cwd=PROJECT_ROOT, env=env,
                              stdout=quiet, stderr=quiet)]
    try:
        _wait(f"http://127.0.0.1:{action_port}/health")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "tools.rasa_server", "--model", str(model), "--port",
             str(rasa_port), "--action-url", f"http://127.0.0.1:{action_port}/webhook"],
            cwd=PROJECT_ROOT, env=env, stdout=quiet, stderr=quiet))
        _wait(f"http://127.0.0.1:{rasa_port}/status?token={env['RASA_API_TOKEN']}")
        yield Stack(f"http://127.0.0.1:{rasa_port}", env["RASA_API_TOKEN"], env, procs)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


# ------------------------------------------------------------------ measurements


@dataclass
class RunResult:
    offered: float
    served: float
    latencies_ms: list[float]
    lost: int
    sent: int

    def row(self) -> str:
        lat = self.latencies_ms
        p50 = statistics.median(lat) if lat else 0.0
        return (f"{self.offered:>8.1f}{self.served:>9.1f}{p50:>9.0f}"
                f"{percentile(lat, .95):>9.0f}{max(lat) if lat else 0:>9.0f}{self.lost:>6}"
                f"{self.sent:>7}")

    def as_dict(self) -> dict[str, Any]:
        lat = self.latencies_ms
        return {"offered": round(self.offered, 2), "served": round(self.served, 2),
                "p50_ms": round(statistics.median(lat), 1) if lat else None,
                "p95_ms": round(percentile(lat, .95), 1) if lat else None,
                "max_ms": round(max(lat), 1) if lat else None,
                "lost": self.lost, "messages": self.sent}


def schedule(rate: float, seconds: float, think: float) -> list[tuple[float, int]]:
    """(offset in s, person) for an open loop: rate × think people, each writing every
    `think` seconds, starts spread evenly."""
    people = max(1, round(rate * think))
    n = int(rate * seconds)
    return [(i / rate, i % people) for i in range(n)]


def rest_headers() -> dict[str, str]:
    """The shared token of the REST channel (extensions/rest_channel.py)."""
    from bot.settings import TOKEN_HEADER

    token = os.environ.get("RASA_REST_TOKEN", "")
    return {TOKEN_HEADER: token} if token else {}


async def rasa_only(url: str, texts: list[tuple[str, str]], rate: float, seconds: float,
                    think: float, run: int) -> RunResult:
    plan = schedule(rate, seconds, think)
    latencies: list[float] = []
    lost = 0
    async with httpx.AsyncClient(timeout=30, headers=rest_headers()) as client:
        start = time.perf_counter()

        async def one(offset: float, person: int, text: str, lang: str) -> None:
            nonlocal lost
            await asyncio.sleep(max(0.0, start + offset - time.perf_counter()))
            t0 = time.perf_counter()
            try:
                r = await client.post(f"{url}/webhooks/rest/webhook", json={
                    "sender": f"rasa-{run}-{person}", "message": text,
                    "metadata": {"language_code": lang}})
                r.raise_for_status()
                if not r.json():
                    lost += 1
                    return
                latencies.append((time.perf_counter() - t0) * 1000)
            except (httpx.HTTPError, ValueError):
                lost += 1

        cycle = itertools.cycle(texts)
        jobs = []
        for offset, person in plan:
            lang, text = next(cycle)
            jobs.append(one(offset, person, text, lang))
        await asyncio.gather(*jobs)
        elapsed = time.perf_counter() - start
    return RunResult(rate, len(latencies) / elapsed, latencies, lost, len(plan))


class TimedStub(BotApiStub):
    """The stand-in, with the arrival time of every sendMessage per chat."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.arrivals: dict[int, list[float]] = {}

    async def api_sendMessage(self, params: dict) -> Any:
        response = await super().api_sendMessage(params)
        if response.status == 200:
            self.arrivals.setdefault(int(params["chat_id"]), []).append(time.perf_counter())
        return response


async def through_gateway(stub: TimedStub, texts: list[tuple[str, str]], rate: float,
                          seconds: float, think: float, run: int, grace: float) -> RunResult:
    plan = schedule(rate, seconds, think)
    base = 1_000_000 * (run + 1)
    offered: dict[int, list[float]] = {}
    cycle = itertools.cycle(texts)
    start = time.perf_counter()
    for offset, person in plan:
        await asyncio.sleep(max(0.0, start + offset - time.perf_counter()))
        lang, text = next(cycle)
        chat = base + person
        offered.setdefault(chat, []).append(time.perf_counter())
        stub.say(chat, text, language_code=lang)
    deadline = time.perf_counter() + grace

    def answered() -> int:
        return sum(min(len(stub.arrivals.get(c, [])), len(ts)) for c, ts in offered.items())

    while answered() < len(plan) and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    latencies, lost, last = [], 0, start
    for chat, times in offered.items():
        arrivals = sorted(stub.arrivals.get(chat, []))
        for t in times:  # the first reply after each message (people wait `think` s)
            reply = next((a for a in arrivals if a >= t), None)
            if reply is None:
                lost += 1
                continue
            arrivals.remove(reply)
            latencies.append((reply - t) * 1000)
            last = max(last, reply)
    elapsed = max(last - start, seconds)
    return RunResult(rate, len(latencies) / elapsed, latencies, lost, len(plan))


async def conversation_length(url: str, texts: list[tuple[str, str]], turns: int
                              ) -> dict[str, float]:
    """Median turn time of turns 1–10 and of the last 10 of one long conversation."""
    times = []
    async with httpx.AsyncClient(timeout=30, headers=rest_headers()) as client:
        sender = f"long-{secrets.token_hex(4)}"
        for _i, (lang, text) in zip(range(turns), itertools.cycle(texts), strict=False):
            t0 = time.perf_counter()
            r = await client.post(f"{url}/webhooks/rest/webhook", json={
                "sender": sender, "message": text, "metadata": {"language_code": lang}})
            r.raise_for_status()
            times.append((time.perf_counter() - t0) * 1000)
    return {"first_10_ms": round(statistics.median(times[:10]), 1),
            "last_10_ms": round(statistics.median(times[-10:]), 1), "turns": turns}


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    from tools.train import ensure_model

    model = ensure_model()
    texts = messages()
    out: dict[str, Any] = {"rates": args.rates, "seconds": args.seconds, "think_s": args.think}
    header = f"{'offered':>8}{'served':>9}{'p50':>9}{'p95':>9}{'max':>9}{'lost':>6}{'msgs':>7}"
    with tempfile.TemporaryDirectory() as tmp, stack(model, Path(tmp)) as s:
        os.environ["RASA_REST_TOKEN"] = s.env["RASA_REST_TOKEN"]
        # warm up both models and the action server before anything is measured
        await rasa_only(s.rasa_url, texts, 5, 3, args.think, run=99)
        print("\nRasa alone (REST channel + action server)\n" + header)
        out["rasa_only"] = []
        for i, rate in enumerate(args.rates):
            result = await rasa_only(s.rasa_url, texts, rate, args.seconds, args.think, i)
            print(result.row())
            out["rasa_only"].append(result.as_dict())

        stub = TimedStub(TOKEN)
        api = await stub.start()
        env = {**s.env, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": api,
               "RASA_URL": s.rasa_url, "RASA_API_TOKEN": s.api_token}
        gateway = subprocess.Popen([sys.executable, "-m", "connectors.telegram"],
                                   cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            await stub.wait_for(lambda: stub.called("getUpdates"), timeout=120)
            stub.say(999, "Hallo", language_code="de")
            await stub.wait_for(lambda: stub.to(999), timeout=60)
            print("\nThrough the gateway (polling, Bot API stand-in)\n" + header)
            out["gateway"] = []
            for i, rate in enumerate(args.rates):
                result = await through_gateway(stub, texts, rate, args.seconds, args.think,
                                               i, args.grace)
                print(result.row())
                out["gateway"].append(result.as_dict())
        finally:
            gateway.terminate()
            try:
                gateway.wait(timeout=20)
            except subprocess.TimeoutExpired:
                gateway.kill()
            await stub.stop()
        top_rasa = max(r["served"] for r in out["rasa_only"])
        top_gw = out["gateway"][-1]["served"]
        out["ratio_at_top_rate"] = round(top_gw / top_rasa, 3) if top_rasa else None
        print(f"\ngateway / Rasa-only at {args.rates[-1]} msg/s: {out['ratio_at_top_rate']}")
        out["conversation_length"] = await conversation_length(s.rasa_url, texts, args.turns)
        c = out["conversation_length"]
        print(f"turn cost, one conversation: turns 1-10 {c['first_10_ms']} ms, last 10 of "
              f"{c['turns']} {c['last_10_ms']} ms")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", type=float, nargs="+", default=[10, 20, 30])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--think", type=float, default=5, help="seconds between a person's "
                        "messages")
    parser.add_argument("--grace", type=float, default=20)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--json", type=Path, default=PROJECT_ROOT / "reports" / "bench-load.json")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
