"""`make run` itself, scaled out on loopback (tools/bench_run.py, small): PostgreSQL, Redis,
RASA_INSTANCES=2 and webhook mode; requests without the webhook secret get 403, and with one
Rasa server killed mid-run every acknowledged message is stored once, in order, and answered."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.backends import services_missing
from tools import bench_run

pytestmark = pytest.mark.skipif(services_missing() is not None,
                                reason="PostgreSQL or Redis not installed")


def test_make_run_on_postgres_redis_and_two_rasa_servers_loses_nothing(
        model_path: Path) -> None:
    report = asyncio.run(bench_run.bench(people_count=12, per_person=4, rate=4.0,
                                         instances=2, kill=True, grace=90.0))
    assert report["killed"]["pids"] == 1  # one Rasa server really died mid-run
    assert report["refused"] == {"no_secret": 403, "wrong_secret": 403}
    assert bench_run.failures(report) == []
    assert report["db_stored"] == report["messages"] == 48
