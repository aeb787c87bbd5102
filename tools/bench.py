"""Benchmark: model load time, NLU parse latency and full-turn latency (NLU + rules +
action server + NLG + SQLite tracker store), per language. `make bench` prints it."""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from tools.evaluate import load_examples, quiet_rasa
from tools.train import ensure_model


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def bench(model: Path, action_url: str, db: Path, per_language: int = 40) -> None:
    from rasa.core.agent import load_agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.endpoints import EndpointConfig

    from bot.db.migrate import upgrade
    from bot.db.session import make_engine
    from bot.languages import registry

    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)  # as make run does: the tracker store finds its state table
    engine.dispose()
    started = time.perf_counter()
    agent = await load_agent(model_path=str(model), endpoints=AvailableEndpoints(
        action=EndpointConfig(url=action_url),
        nlg=EndpointConfig(type="extensions.nlg.LocalizedNLG"),
        tracker_store=EndpointConfig(type="extensions.tracker_store.PrivacySQLTrackerStore",
                                     url=f"sqlite:///{db}")))
    print(f"model load: {time.perf_counter() - started:.1f} s "
          f"(model file {model.stat().st_size / 1e6:.1f} MB)")
    print(f"{'lang':6}{'parse p50':>12}{'parse p95':>12}{'turn p50':>12}{'turn p95':>12}")
    for lang in registry().codes:
        texts = [t for t, _ in load_examples(lang)][:per_language]
        parse, turn = [], []
        for i, text in enumerate(texts):
            t0 = time.perf_counter()
            await agent.parse_message(text)
            parse.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            await agent.handle_message(UserMessage(text, CollectingOutputChannel(),
                                                   f"bench-{lang}-{i}"))
            turn.append((time.perf_counter() - t0) * 1000)
        print(f"{lang:6}{statistics.median(parse):>10.1f}ms{percentile(parse, .95):>10.1f}ms"
              f"{statistics.median(turn):>10.1f}ms{percentile(turn, .95):>10.1f}ms")


def main() -> int:
    from tools.run import action_server

    quiet_rasa()
    model = ensure_model()
    port = int(os.environ.get("BENCH_ACTION_PORT", "5056"))
    with tempfile.TemporaryDirectory() as tmp, action_server(port):
        asyncio.run(bench(model, f"http://127.0.0.1:{port}/webhook", Path(tmp) / "bench.db"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
